/**
 * The Run document: one profiling result, persisted as JSON (`.twb/runs/*.json`). Every other part
 * of the product (CLI tables, the webview, comparisons, exports) reads these types.
 */
export const RUN_SCHEMA_VERSION = 1;

/** What was profiled. */
export interface ModelInfo {
  /** File name without directory, or `builtin:NAME`. */
  name: string;
  /** What the user passed: a path or `builtin:NAME`. */
  source: string;
  /** Size of the model file (plus external data files), bytes. */
  sizeBytes: number;
  /** Elements in all non-int64 initializers (weights; int64 shape constants excluded). */
  params: number;
  /** Opset of the default ONNX domain. */
  opset: number;
  /** All declared opsets by domain ('' = ai.onnx). */
  opsets: Record<string, number>;
  irVersion: number;
  producer: string;
  /** Nodes in the main graph as stored (before ORT's fusions). */
  nodeCount: number;
  inputs: Array<{ name: string; type: string; dims: number[]; declared: Array<number | string>; values: string }>;
}

export interface RunConfig {
  executionProvider: string;
  /** Intra-op threads; 0 = ORT's default. */
  threads: number;
  optLevel: string;
  batch: number;
  seq: number;
  past: number;
  /** Explicit symbolic dimension values. */
  dims: Record<string, number>;
  warmup: number;
  /** Unprofiled runs timed for latency. */
  runs: number;
  /** Runs recorded by ORT's profiler. */
  profiledRuns: number;
  seed: number;
  /** Built-in models only: attention variant as `--attention` spells it (absent: dense). */
  attention?: string;
  /** Built-in models only: cross-layer sharing as `--share-layers` spells it (absent: none). */
  shareLayers?: string;
}

export interface RunEnv {
  executionProvider: string;
  threads: number;
  ortVersion: string;
  /** CPU model string. */
  cpu: string;
  cpuCount: number;
  platform: string;
  nodeVersion: string;
}

/** One graph node as ORT ran it (after fusion), aggregated over the profiled runs. */
export interface OpStat {
  node: string;
  opType: string;
  domain: string;
  /** Transformer layer index, or null when the node belongs to no layer (embeddings, head). */
  layer: number | null;
  provider: string;
  /** Executions over all profiled runs. */
  calls: number;
  /** Kernel time summed over all profiled runs, microseconds. */
  totalUs: number;
  /** Kernel time per call, microseconds. */
  meanUs: number;
  /** totalUs over the sum of totalUs of all ops; sums to 1 over `ops`. */
  share: number;
  /** Floating-point (or integer multiply-add) operations per call; 0 where not counted. */
  flops: number;
  /** flops / meanUs, in GFLOP/s; 0 where flops is 0. */
  gflops: number;
  inputShapes: number[][];
  outputShapes: number[][];
  /** Bytes of constant inputs (weights) ORT reported for the node. */
  paramBytes: number;
  /** Names of the stored graph's nodes this one came from, when ORT fused or renamed them. */
  fusedFrom?: string[];
}

export interface OpTypeStat {
  opType: string;
  domain: string;
  calls: number;
  totalUs: number;
  /** Sums to 1 over `opTypes`. */
  share: number;
  /** Operations per inference summed over the op type's nodes. */
  flops: number;
}

export interface LayerStat {
  layer: number | null;
  totalUs: number;
  share: number;
}

export interface MemoryPoint {
  /** Time since the start of the run, microseconds. */
  tUs: number;
  /** Bytes in use in ORT's arena after the node ran. */
  bytes: number;
}

export interface MemoryProfile {
  /** Highest arena memory in use during a profiled run, bytes (ORT's mem_in_use_peak). */
  peakBytes: number;
  /** Bytes of all initializers (weights and constants). */
  weightsBytes: number;
  /** Arena memory ORT held from the system, bytes. */
  arenaHeldBytes: number;
  /** Memory in use after each node of the first profiled run. */
  timeline: MemoryPoint[];
  /** When and after which node the peak happened. */
  peakAt?: { tUs: number; node: string };
  /** Set when the provider reported no memory fields (then the figures above are 0). */
  unavailable?: string;
}

/** Every kernel of every profiled run, as columns (indices into `ops`). */
export interface KernelTrace {
  op: number[];
  run: number[];
  /** Start time since the start of its run, microseconds. */
  startUs: number[];
  durUs: number[];
  /** Wall time of each profiled run as ORT measured it, microseconds. */
  runUs: number[];
}

export interface InferenceRun {
  schemaVersion: typeof RUN_SCHEMA_VERSION;
  kind: 'inference';
  id: string;
  /** ISO 8601. */
  createdAt: string;
  model: ModelInfo;
  config: RunConfig;
  env: RunEnv;
  /** Wall time of unprofiled `session.run` calls, milliseconds. */
  latencyMs: { p50: number; p90: number; mean: number; min: number; max: number; samples: number[] };
  /** Wall time of the profiled runs, milliseconds (to show the profiler's own overhead). */
  profiledLatencyMs: { mean: number; p50: number };
  /** Counted operations per inference and the rate achieved at the p50 latency. */
  compute: { flops: number; gflops: number };
  ops: OpStat[];
  opTypes: OpTypeStat[];
  layers: LayerStat[];
  memory: MemoryProfile;
  trace: KernelTrace;
  warnings: string[];
}

export type Run = InferenceRun;
