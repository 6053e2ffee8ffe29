/**
 * The imported-trace document (`kind: "trace"`): what `twb import` makes of a profile that another
 * tool recorded — a PyTorch profiler (Kineto) trace, an ONNX Runtime profile file or any chrome
 * trace. Host operator table (PyTorch's `key_averages()` by name), GPU kernels with the host op that
 * launched them, GPU utilization, communication/computation overlap, memory over time, steps, a
 * columnar timeline and Python source frames. All times are microseconds; timeline and step times
 * are relative to the trace's first event.
 */
export const TRACE_SCHEMA_VERSION = 1;

export const TRACE_FORMATS = ['kineto', 'ort', 'chrome'] as const;
/** `kineto`: PyTorch profiler trace; `ort`: ONNX Runtime profile (top-level array, cat Session/Node); `chrome`: anything else in the chrome trace event format. */
export type TraceFormat = (typeof TRACE_FORMATS)[number];

export const KERNEL_CATEGORIES = ['compute', 'communication', 'memcpy', 'memset'] as const;
/** `communication`: NCCL/RCCL collectives (name contains `nccl`/`rccl`); memcpy and memset are copy-engine activities, not kernels proper. */
export type KernelCategory = (typeof KERNEL_CATEGORIES)[number];

export const LANE_KINDS = ['cpu', 'gpu', 'other'] as const;
export type LaneKind = (typeof LANE_KINDS)[number];

export interface TraceSource {
  /** Absolute path of the imported file. */
  file: string;
  /** Its base name. */
  name: string;
  format: TraceFormat;
  /** Size of the file on disk, bytes (compressed size for gzip). */
  fileBytes: number;
  /** Bytes of JSON text after gunzip. */
  jsonBytes: number;
  gzip: boolean;
  /** Trace events read (elements of `traceEvents`, or of the top-level array). */
  events: number;
  /** Set when the file ended before its event array closed; the events before the cut were imported. */
  truncated?: { atByte: number; detail: string };
}

export interface TraceDevice {
  /** Device index as the trace numbers it (`deviceProperties[].id`). */
  id: number;
  name: string;
  /** Global memory, bytes. */
  totalMemoryBytes?: number;
  /** `8.0` for an A100 (CUDA compute capability, major.minor). */
  computeCapability?: string;
}

export interface TraceDistributed {
  rank: number;
  /** Null when the trace does not say. */
  worldSize: number | null;
  /** `nccl`, `gloo`, ...; null when the trace does not say (older traces carry only the rank). */
  backend: string | null;
}

export interface TraceMeta {
  /** The trace's own `traceName` (often the temporary path it was written to). */
  traceName?: string;
  /** The trace's own `schemaVersion` (Kineto's format version, not ours). */
  schemaVersion?: number;
  /** From `deviceProperties`; empty for CPU-only traces and formats without it. */
  devices: TraceDevice[];
}

/** A Python source frame (from `with_stack=True` traces). */
export interface TraceFrame {
  /** As written in the trace: absolute, or relative to the working folder of the profiled program. */
  file: string;
  /** 1-based. */
  line: number;
  fn: string;
}

/** Host operators of one name, summed over the whole trace. */
export interface TraceOpType {
  /** Operator name as PyTorch reports it (`aten::addmm`); `ProfilerStep#N` are grouped as `ProfilerStep*` like `key_averages()`. ONNX Runtime profiles: the node's op type. */
  opType: string;
  calls: number;
  /** Duration minus the durations of direct children on the same host thread, summed, microseconds. */
  selfUs: number;
  /** Durations summed (nested calls of the same name count each time, as in `key_averages()`), microseconds. */
  totalUs: number;
  /** selfUs ÷ the summed self time of all host ops (which is the time covered by top-level ops). */
  selfShare: number;
  /** Innermost user frames (outside torch and site-packages) enclosing the calls, most calls first, top 3. */
  sources?: Array<{ frame: number; calls: number }>;
}

export interface TraceKernelLauncher {
  /** Innermost host op enclosing the runtime call that launched the kernel (the TraceOpType name). */
  opType: string;
  calls: number;
  /** GPU time of the kernels it launched, microseconds. */
  totalUs: number;
}

/** GPU activities of one name (kernels, memcpy, memset), summed over devices and streams. */
export interface TraceKernel {
  name: string;
  calls: number;
  /** Summed duration, microseconds. */
  totalUs: number;
  meanUs: number;
  maxUs: number;
  category: KernelCategory;
  /** Top 5 launching host ops by GPU time; kernels whose launch could not be traced to a host op are left out. */
  launchers: TraceKernelLauncher[];
}

export interface TraceGpuDevice {
  /** Device index (`args.device`, else the GPU process id). */
  device: number;
  /** Summed kernel durations (not memcpy/memset) on this device; concurrent streams count twice, microseconds. */
  kernelUs: number;
  /** Union of kernel, memcpy and memset intervals over all streams of the device, microseconds. */
  busyUs: number;
  /** spanUs − busyUs. */
  idleUs: number;
  /** busyUs ÷ spanUs. */
  utilization: number;
  /** From the first activity on this device to the end of its last one, microseconds. */
  spanUs: number;
}

export interface TraceGpu {
  devices: TraceGpuDevice[];
  /** From the first GPU activity of any device to the end of the last, microseconds. */
  spanUs: number;
}

/** Collective-communication kernels against the others, per device then summed over devices. */
export interface TraceCommunication {
  /** Union of communication-kernel intervals, microseconds. */
  commUs: number;
  /** Union of the other kernels' intervals, microseconds. */
  computeUs: number;
  /** Time where a communication kernel and a compute kernel run at once, microseconds. */
  overlapUs: number;
  /** overlapUs ÷ commUs: the share of communication hidden behind computation. */
  overlapShare: number;
}

export interface TraceMemoryPoint {
  /** Since the trace's first event, microseconds. */
  tUs: number;
  /** Bytes allocated on the device at that time. */
  bytes: number;
}

/** Allocator memory over time from the `[memory]` events (`profile_memory=True`). */
export interface TraceMemory {
  /** The device of `timeline` and `peakBytes`: the accelerator with the highest peak when there is one, else `cpu`. */
  device: string;
  peakBytes: number;
  /** When the peak was reached, since the trace's first event, microseconds. */
  peakAtUs: number;
  /** Every device with memory events: `cuda:0`, `cpu`, ... */
  devices: Array<{ device: string; peakBytes: number }>;
  /** ≤ 4096 points, each the maximum of its time bucket so that the peak survives downsampling. */
  timeline: TraceMemoryPoint[];
}

export interface TraceStep {
  /** `ProfilerStep#12`. */
  name: string;
  step: number;
  /** Since the trace's first event, microseconds. */
  startUs: number;
  durUs: number;
}

export interface TraceLane {
  /** `python3.10 · thread 785244 (pt_main_thread)`, `GPU 1 · stream 7`. */
  name: string;
  kind: LaneKind;
}

/**
 * Events for a canvas timeline, as equal-length columns. Capped at {@link MAX_TRACE_TIMELINE_EVENTS}:
 * GPU activities and the outer host levels are kept first; `dropped` counts the rest.
 */
export interface TraceTimeline {
  lanes: TraceLane[];
  names: string[];
  /** Index into `lanes`. */
  lane: number[];
  /** Since the trace's first event, microseconds. */
  startUs: number[];
  /** 0 for instants. */
  durUs: number[];
  /** Index into `names`. */
  name: number[];
  /** Nesting level within the lane, 0 at the top. */
  depth: number[];
  /** Index into the document's `frames` of the innermost user frame, −1 for none. */
  frame: number[];
  dropped: number;
}

/** One counter series (`ph: "C"` events): a name and one of its args keys. */
export interface TraceCounter {
  name: string;
  /** Since the trace's first event, microseconds; ≤ 4096 points (each bucket's maximum). */
  tUs: number[];
  values: number[];
}

export const MAX_TRACE_TIMELINE_EVENTS = 200_000;
export const MAX_TRACE_MEMORY_POINTS = 4096;

export interface TraceRun {
  schemaVersion: typeof TRACE_SCHEMA_VERSION;
  kind: 'trace';
  id: string;
  /** ISO time of the import. */
  createdAt: string;
  source: TraceSource;
  meta: TraceMeta;
  /** Rank, world size and backend from the trace's `distributedInfo`; absent when it has none. */
  distributed?: TraceDistributed;
  /** From the first event to the end of the last, microseconds. */
  spanUs: number;
  /** Sorted by selfUs, largest first. */
  opTypes: TraceOpType[];
  /** Sorted by totalUs, largest first. */
  kernels: TraceKernel[];
  /** Null when the trace has no GPU activity. */
  gpu: TraceGpu | null;
  /** Null when no communication kernels ran. */
  communication: TraceCommunication | null;
  /** Absent when the trace has no memory events. */
  memory?: TraceMemory;
  steps: TraceStep[];
  timeline: TraceTimeline;
  frames: TraceFrame[];
  /** Absent when the trace has no counter events. */
  counters?: TraceCounter[];
  warnings: string[];
}
