/**
 * What a trace event is, from its phase and category. Kineto changed its category names over the
 * years (2021: `Operator`, `Runtime`, `Kernel`, `Memcpy`, `Memset`; now `cpu_op`, `cuda_runtime`,
 * `kernel`, `gpu_memcpy`, `gpu_memset`), ONNX Runtime writes `Session` and `Node` events, and any
 * other chrome trace may use categories of its own: those are plain slices.
 */
import { KERNEL_SUFFIX } from '../profile/ort-profile';

/** Kinds of the duration events the importer keeps (numbers so they fit a Uint8Array column). */
export const Kind = {
  /** A host operator (`cpu_op`, 2021 `Operator`): part of the host-op tree. */
  Op: 1,
  /** `user_annotation` (`record_function`, `ProfilerStep#N`, `nccl:all_reduce`): part of the tree. */
  Annotation: 2,
  /** CUDA/HIP runtime or driver call (`cudaLaunchKernel`, `cuLaunchKernel`): part of the tree; launches GPU work. */
  Runtime: 3,
  /** A slice of another tool's trace (any X or B/E event of unknown category): part of the tree. */
  Slice: 4,
  /** A host op PyTorch's `key_averages()` leaves out (`aten::is_leaf`, ...): timeline only. */
  HiddenOp: 5,
  /** `python_function` (with_stack=True): frames, not ops. */
  Python: 6,
  Kernel: 7,
  Memcpy: 8,
  Memset: 9,
  /** `gpu_user_annotation`: an annotation's span on a GPU stream. */
  GpuAnnotation: 10,
  /** Other GPU-lane events (`cuda_sync` waits). */
  GpuOther: 11,
  /** ONNX Runtime kernel (`cat: "Node"`, `*_kernel_time`). */
  OrtKernel: 12,
  /** Other ONNX Runtime events (`Session` spans, fences). */
  OrtOther: 13,
  /** Spans the profiler itself adds (`cat: "Trace"`, CUPTI overhead): timeline only. */
  Marker: 14,
  /** Instant events other than memory (`ph: "i"/"I"/"R"`), duration 0. */
  Instant: 15,
} as const;
export type KindCode = (typeof Kind)[keyof typeof Kind];

/** Lookup tables indexed by kind (typed arrays: the hot loops test a kind per event). */
function kindTable(kinds: number[]): Uint8Array {
  const t = new Uint8Array(16);
  for (const k of kinds) t[k] = 1;
  return t;
}
/** Kinds whose events nest into the per-thread host tree that self times come from. */
export const IS_TREE = kindTable([Kind.Op, Kind.Annotation, Kind.Runtime, Kind.Slice]);
/** Kinds that occupy a GPU (the union of these is busy time). */
export const IS_GPU_BUSY = kindTable([Kind.Kernel, Kind.Memcpy, Kind.Memset]);
/** Kinds that put a lane on the GPU side of the timeline. */
export const IS_GPU_LANE = kindTable([Kind.Kernel, Kind.Memcpy, Kind.Memset, Kind.GpuAnnotation, Kind.GpuOther]);
/** Kinds that put a lane on the CPU side. */
export const IS_CPU_LANE = kindTable([Kind.Op, Kind.Annotation, Kind.Runtime, Kind.Slice, Kind.HiddenOp, Kind.Python, Kind.OrtKernel, Kind.OrtOther]);
/** Every kind (the timeline keeps them all). */
export const IS_ANY = kindTable(Object.values(Kind));

const BY_CATEGORY = new Map<string, number>([
  ['cpu_op', Kind.Op],
  ['Operator', Kind.Op],
  ['user_annotation', Kind.Annotation],
  ['cuda_runtime', Kind.Runtime],
  ['Runtime', Kind.Runtime],
  ['cuda_driver', Kind.Runtime],
  ['python_function', Kind.Python],
  ['kernel', Kind.Kernel],
  ['Kernel', Kind.Kernel],
  ['gpu_memcpy', Kind.Memcpy],
  ['Memcpy', Kind.Memcpy],
  ['gpu_memset', Kind.Memset],
  ['Memset', Kind.Memset],
  ['gpu_user_annotation', Kind.GpuAnnotation],
  ['cuda_sync', Kind.GpuOther],
  ['Trace', Kind.Marker],
  ['overhead', Kind.Marker],
  ['cuda_profiler_range', Kind.Marker],
  ['Session', Kind.OrtOther],
  ['Node', Kind.OrtOther],
]);

/** Categories that only Kineto writes: seeing one makes the trace a `kineto` one. */
export const KINETO_CATEGORIES: ReadonlySet<string> = new Set([
  'cpu_op', 'Operator', 'user_annotation', 'cuda_runtime', 'Runtime', 'cuda_driver', 'python_function', 'kernel', 'Kernel',
  'gpu_memcpy', 'Memcpy', 'gpu_memset', 'Memset', 'gpu_user_annotation', 'cuda_sync', 'ac2g', 'cpu_instant_event',
]);

/** Flow categories that tie a runtime call to the GPU work it launched (current, 2021, legacy). */
export const LAUNCH_FLOW_CATEGORIES: ReadonlySet<string> = new Set(['ac2g', 'async', 'async_gpu']);

/**
 * Ops `key_averages()` drops before building its tree (torch.autograd.profiler_util._filter_name),
 * so their time stays in their parent's self time.
 */
export const KEY_AVERAGES_HIDDEN: ReadonlySet<string> = new Set([
  'profiler::_record_function_enter',
  'profiler::_record_function_enter_new',
  'profiler::_record_function_exit',
  'aten::is_leaf',
  'aten::output_nr',
  'aten::_version',
]);

/** `ProfilerStep#12` → 12; undefined for other names. */
export function profilerStep(name: string): number | undefined {
  if (!name.startsWith('ProfilerStep#')) return undefined;
  const n = Number(name.slice(13));
  return Number.isInteger(n) ? n : undefined;
}

/** The key_averages() row a name falls in: every `ProfilerStep#N` shares `ProfilerStep*`. */
export function opTypeName(name: string): string {
  return name.startsWith('ProfilerStep#') ? 'ProfilerStep*' : name;
}

/** Kind of a duration event (X, or a B/E pair) from its category and name. */
export function durationKind(cat: unknown, name: string): KindCode {
  if (typeof cat !== 'string') return Kind.Slice;
  const k = BY_CATEGORY.get(cat);
  if (k === undefined) return /_runtime$|_driver$/.test(cat) ? Kind.Runtime : Kind.Slice;
  if (k === Kind.Op) return KEY_AVERAGES_HIDDEN.has(name) ? Kind.HiddenOp : Kind.Op;
  if (cat === 'Node' && name.endsWith(KERNEL_SUFFIX)) return Kind.OrtKernel;
  return k as KindCode;
}

/** Communication (collective) kernels: NCCL, and RCCL on ROCm. */
export function isCommunicationKernel(name: string): boolean {
  return /nccl|rccl/i.test(name);
}

/** c10::DeviceType numbers used by `[memory]` events' `Device Type`. */
const DEVICE_TYPES: Record<number, string> = { 0: 'cpu', 1: 'cuda', 6: 'hip', 12: 'xpu', 13: 'mps', 15: 'hpu', 19: 'mtia', 20: 'privateuse1' };

/** `cuda:1`, `cpu` (CPU events carry Device Id −1). */
export function memoryDeviceName(type: number, id: number): string {
  const t = DEVICE_TYPES[type] ?? `device-type-${type}`;
  return type === 0 || id < 0 ? t : `${t}:${id}`;
}
