/**
 * The suggestions document (`kind: "suggestions"`): what the advisor proposes for one run, each
 * proposal with the evidence it rests on, the change (a run-config patch, a graph pass, a pipeline
 * shape, a ZeRO stage, or for an imported trace a code change to the user's program) and an
 * estimate made before anything runs. Written by `twb suggest --json`, read by the apply/tune steps
 * and the webview. The kernel calibration the estimates use (measured on this machine) travels
 * inside it, so every figure in an estimate's basis can be checked.
 */
import type { CompressionConfig } from './compression';
import type { ScheduleName, ZeroStage } from './parallel';
import type { RunConfig } from './run';

export const ADVICE_SCHEMA_VERSION = 1;

export const ACCURACY_RISKS = ['none', 'low', 'medium', 'high'] as const;
/** How likely the change is to cost task accuracy: `none` (same numbers) … `high` (needs retraining or an eval to trust). */
export type AccuracyRisk = (typeof ACCURACY_RISKS)[number];

export const ADVICE_SOURCE_KINDS = ['inference', 'training', 'pipeline', 'memory-plan', 'trace'] as const;
/** The kinds of document the advisor reads. */
export type AdviceSourceKind = (typeof ADVICE_SOURCE_KINDS)[number];

export const CHANGE_KINDS = ['config', 'pass', 'pipeline', 'zero', 'code'] as const;

/** A change of how the run is configured (`twb profile`/`twb train` options); only the fields that change. */
export interface ConfigChange {
  kind: 'config';
  /** `attention` and `shareLayers` in the CLI's spelling (`linformer:32`, `all`). */
  patch: Partial<RunConfig>;
}

/** A graph pass (`twb quantize` / `twb prune`) with the options that matter for it. */
export interface PassChange {
  kind: 'pass';
  config: Pick<CompressionConfig, 'mode'> & Partial<Pick<CompressionConfig, 'perChannel' | 'calibrate' | 'method' | 'blockSize' | 'amount'>>;
}

/** A pipeline shape (`twb pipeline` options). */
export interface PipelineChange {
  kind: 'pipeline';
  schedule: ScheduleName;
  stages: number;
  microbatches: number;
  /** Chunks per stage (interleaved: ≥ 2; otherwise 1). */
  chunks: number;
}

/** A ZeRO stage for the same data-parallel GPU count (`twb memory-plan` options). */
export interface ZeroChange {
  kind: 'zero';
  zeroStage: ZeroStage;
  gpus: number;
}

/**
 * A change to the user's own program (advice on an imported trace): the workbench cannot make it or
 * measure it, it shows the snippet and where it goes.
 */
export interface CodeChange {
  kind: 'code';
  language: 'python';
  /** The code to add or edit, with comments saying which line changes. */
  snippet: string;
  /** Where it goes: `train.py:42 (<module>)` when the trace carries Python frames, else the construct in words (`where the DataLoader is built`). */
  where: string;
}

export type Change = ConfigChange | PassChange | PipelineChange | ZeroChange | CodeChange;

/** What the suggestion rests on: a sentence and the ops (or stages, layers…) behind it. */
export interface Evidence {
  summary: string;
  /** Largest contributors first; `share` is of the run's kernel time (or of the step / memory, as `summary` says), 0..1. */
  items: Array<{ what: string; share: number }>;
}

/** The predicted outcome, made before anything runs; null where it cannot be estimated. */
export interface Estimate {
  /** Old time ÷ new time (> 1 is faster): latency for inference, throughput per sample for batch size and pipelines. */
  speedup: number | null;
  /** Predicted p50 latency of one run, milliseconds (a pipeline: the step's makespan). */
  latencyMs: number | null;
  /** Predicted peak memory, bytes (ORT arena peak, tfjs peak, per pipeline stage or per GPU). */
  memoryBytes: number | null;
  /** Predicted model file size, bytes. */
  sizeBytes: number | null;
  accuracyRisk: AccuracyRisk;
  /** How the figures were computed, in words, naming the measured kernel figures used. */
  basis: string;
}

export interface Suggestion {
  /** Stable id of the suggestion, e.g. `int8-dynamic`, `threads`, `pipeline-schedule`. */
  id: string;
  title: string;
  /** The rule that made it, `family/id` (e.g. `quantization/int8-dynamic`). */
  rule: string;
  evidence: Evidence;
  change: Change;
  /** The exact command that makes the change and measures it, e.g. `twb quantize builtin:tiny-bert --mode int8-dynamic --out …`. */
  command: string;
  estimate: Estimate;
  /** Known ways this change backfires here, and what the estimate leaves out. */
  warnings: string[];
}

/** One fp32 product `[..., K] · [K, N]` timed in its three (or four) forms, interleaved, medians. */
export interface MatMulKernel {
  /** Activation shape as the run fed it (`[batch, seq, K]`). */
  input: number[];
  /** Rows (product of the activation's leading dimensions). */
  m: number;
  k: number;
  n: number;
  /** Whether a bias Add follows (ORT folds it into the int8 kernels, not into fp32 MatMul). */
  bias: boolean;
  /** Share of the run's kernel time in products of this shape (bias Adds included), 0..1. */
  share: number;
  /** fp32 MatMul (+ Add), median microseconds per run. */
  fp32Us: number;
  /** The int8-dynamic pass's pattern (DynamicQuantizeLinear → MatMulInteger …), median microseconds. */
  int8DynamicUs: number;
  /** The int8-static pass's QDQ form on generated calibration data, median microseconds; null when it could not be built. */
  int8StaticUs: number | null;
  /** MatMulNBits (4-bit, block 32), median microseconds; null below MatMulNBits' smallest K. */
  int4Us: number | null;
  /** Timed runs per form. */
  samples: number;
}

/** The dominant fp32 product at two thread counts. */
export interface ThreadScaling {
  input: number[];
  n: number;
  /** Intra-op threads of each measurement (the run's, then the target). */
  threads: [number, number];
  /** Median microseconds per run at each thread count. */
  us: [number, number];
}

/** The dominant fp32 product at the run's batch and at a larger one. */
export interface BatchScaling {
  input: number[];
  n: number;
  batch: number;
  scaledBatch: number;
  /** Median microseconds per run at `batch`. */
  us: number;
  /** Median microseconds per run at `scaledBatch`. */
  scaledUs: number;
}

/** Kernels measured on this machine with ONNX Runtime at the run's own shapes. */
export interface KernelCalibration {
  /** Always `cpu`: the kernels the passes emit are timed on the CPU provider. */
  executionProvider: string;
  ortVersion: string;
  cpu: string;
  /** Logical cores of this machine. */
  cores: number;
  /** Intra-op threads of the timed sessions (the run's). */
  threads: number;
  optLevel: string;
  /** The run the shapes came from. */
  runId: string;
  /** ISO 8601. */
  createdAt: string;
  matmul: MatMulKernel[];
  threadScaling: ThreadScaling | null;
  batchScaling: BatchScaling | null;
  /** Wall time the calibration took, milliseconds. */
  elapsedMs: number;
}

/** The figures of the source the estimates are compared with (null where the source has none). */
export interface AdviceBaseline {
  latencyMs: number | null;
  memoryBytes: number | null;
  sizeBytes: number | null;
}

export interface SuggestionsReport {
  schemaVersion: typeof ADVICE_SCHEMA_VERSION;
  kind: 'suggestions';
  id: string;
  /** ISO 8601. */
  createdAt: string;
  /** `model` is the model source, or for an imported trace the trace's file name. */
  source: { kind: AdviceSourceKind; id: string; model: string };
  baseline: AdviceBaseline;
  calibration: KernelCalibration | null;
  /** Ranked: largest estimated gain first (see `ranking`). */
  suggestions: Suggestion[];
  /** How `suggestions` are ordered, in words. */
  ranking: string;
  /** Rules that apply to this kind of document but did not fire, and why. */
  quiet: Array<{ rule: string; why: string }>;
  warnings: string[];
}
