/**
 * Training documents: one training run of a built-in transformer on TensorFlow.js (`kind:
 * "training"`), and the side-by-side comparison of structural variants with its sequence-length
 * sweep (`kind: "variants"`). Persisted as JSON (`twb train --json`, `twb sweep --json`,
 * `.twb/runs/`), read by the CLI tables and the webview's Training and Variants views.
 */
import type { TransformerSpec } from '../model/spec';

export const TRAINING_SCHEMA_VERSION = 1;

export const TRAIN_PHASES = ['forward', 'backward', 'optimizer'] as const;
export type TrainPhase = (typeof TRAIN_PHASES)[number];

export const TRAIN_TASKS = ['count-compare', 'sort', 'char-lm'] as const;
export type TrainTaskName = (typeof TRAIN_TASKS)[number];

/** Structural options, as the user wrote them (`dense`, `window:32`, `bigbird:16,1,1`, `linformer:32`, `mixer`, `dynamic-conv:7`, `adaptive-span:32`; `none`, `all`, `2`). */
export interface VariantInfo {
  attention: string;
  shareLayers: string;
}

export interface TrainEnv {
  /** tfjs backend that ran: `tensorflow`, `webgpu`, `wasm` or `cpu`. */
  backend: string;
  tfjsVersion: string;
  cpu: string;
  cpuCount: number;
  platform: string;
  nodeVersion: string;
}

/** Why each backend was or was not used, in the order `auto` tried them. */
export interface BackendAttempt {
  name: string;
  ok: boolean;
  reason: string;
}

export interface TrainConfig {
  task: TrainTaskName;
  /** File name (no directory) of the `--text` corpus for char-lm. */
  textFile?: string;
  steps: number;
  batch: number;
  seq: number;
  /** Peak learning rate, reached after `warmupSteps` linear warm-up steps, then cosine decay to 10%. */
  lr: number;
  warmupSteps: number;
  weightDecay: number;
  /** Global gradient-norm clip. */
  clipNorm: number;
  seed: number;
  /** Requested backend (`auto` or a name). */
  backendRequested: string;
  /** Evaluate accuracy every N steps on `evalExamples` held-out examples. */
  evalEvery: number;
  evalExamples: number;
  /** Steps recorded by `tf.profile` (after warm-up steps, which are excluded from stepMs too). */
  profiledSteps: number;
}

/** Kernel time of one (op type, layer, phase) group, summed over the profiled steps. */
export interface TrainOpStat {
  opType: string;
  /** Transformer layer index, or null outside the blocks (embeddings, head, loss). */
  layer: number | null;
  phase: TrainPhase;
  calls: number;
  totalUs: number;
  /** Of all kernel time in the profiled steps; sums to 1 over `ops`. */
  share: number;
}

export interface PhaseStat {
  phase: TrainPhase;
  totalUs: number;
  share: number;
}

/** Memory in use after one kernel of the first profiled step. */
export interface TrainMemoryPoint {
  /** Kernel time elapsed since the start of the step, microseconds. */
  tUs: number;
  bytes: number;
  phase: TrainPhase;
}

export interface TrainMemory {
  /** Highest bytes in use during a profiled step (tfjs engine accounting). */
  peakBytes: number;
  /** Trainable weights (each shared tensor counted once). */
  weightsBytes: number;
  /** AdamW moments (two per weight). */
  optimizerBytes: number;
  /** Everything else in use at the peak: activations kept for backward, gradients, temporaries. */
  activationsBytes: number;
  timeline: TrainMemoryPoint[];
}

/** A memory figure for a precision that did not run: always an estimate. */
export interface PrecisionEstimate {
  dtype: 'fp16' | 'bf16';
  /** Weights in dtype plus an fp32 master copy. */
  weightsBytes: number;
  optimizerBytes: number;
  activationsBytes: number;
  peakBytes: number;
  estimate: true;
}

export interface MixedPrecision {
  /** What the step ran in. */
  ran: 'fp32' | 'fp16' | 'bf16';
  /** Why fp16/bf16 did (not) run on this backend. */
  reason: string;
  estimates: PrecisionEstimate[];
}

/** A point on a curve: the training loss at a step, or held-out accuracy at a step. */
export interface StepValue {
  step: number;
  value: number;
}

export interface TrainingRun {
  schemaVersion: typeof TRAINING_SCHEMA_VERSION;
  kind: 'training';
  id: string;
  /** ISO 8601. */
  createdAt: string;
  /** `builtin:NAME`. */
  model: string;
  spec: TransformerSpec;
  variant: VariantInfo;
  config: TrainConfig;
  backend: string;
  backendAttempts: BackendAttempt[];
  env: TrainEnv;
  /** Distinct trainable parameters (shared tensors once). */
  params: number;
  /** Counted floating-point operations per training step (forward × 3); computed, not measured. */
  flopsPerStep: number;
  /** Wall time of the unprofiled training steps after warm-up, milliseconds. */
  stepMs: { p50: number; p90: number; mean: number; min: number; max: number; samples: number[] };
  /** batch × seq / p50 step time. */
  tokensPerSecond: number;
  loss: StepValue[];
  /** Held-out accuracy (task metric) over training. */
  accuracy: StepValue[];
  /** What `accuracy` measures, in words (e.g. "tokens of the sorted half right"). */
  accuracyMetric: string;
  /** Accuracy a trained model should reach on this task with the default settings. */
  accuracyBar?: number;
  ops: TrainOpStat[];
  phases: PhaseStat[];
  memory: TrainMemory;
  mixedPrecision: MixedPrecision;
  /** Set when `--save-onnx` wrote the trained model: where, and how far ORT's logits were from tfjs's. */
  onnx?: { path: string; maxAbsDiff: number };
  /** Adaptive-span attention only: the span each head learned, at the end of training. */
  spans?: LearnedSpans;
  /** True when the run was cancelled: the curves hold the steps done so far. */
  cancelled?: boolean;
  warnings: string[];
}

/**
 * The spans an adaptive-span model learned: for each weight-owning layer, each head's span z in
 * positions (0 … maxSpan; the head attends fully up to z back and fades out over `ramp` more).
 */
export interface LearnedSpans {
  maxSpan: number;
  ramp: number;
  layers: Array<{ layer: number; heads: number[] }>;
}

/** Time and memory of one training step at one sequence length. */
export interface SweepPoint {
  seq: number;
  stepMs?: number;
  peakBytes?: number;
  /** Counted FLOPs of the step at this length. */
  flops: number;
  /** Why this point was not measured (out of memory, over the time budget, not supported). */
  error?: string;
}

export interface VariantResult {
  /** `dense`, `window:32`, `bigbird:16,1,1`, `linformer:32`, `mixer`, `dynamic-conv:7`, `adaptive-span:32`, each optionally `+share:all`. */
  label: string;
  variant: VariantInfo;
  params: number;
  /** Per training step at the base sequence length. */
  flopsPerStep: number;
  stepMs: number;
  peakBytes: number;
  tokensPerSecond: number;
  /** Task accuracy after `trainSteps` steps; null when no task was trained. */
  accuracy: number | null;
  /** Least-squares slope of log(time) and log(memory) over log(seq) across the sweep: ≈2 quadratic, ≈1 linear. */
  growth: { time: number | null; memory: number | null };
  /** Adaptive span with a task: the spans each head learned in the task's training. */
  spans?: LearnedSpans;
  sweep: SweepPoint[];
  error?: string;
}

export interface VariantsReport {
  schemaVersion: typeof TRAINING_SCHEMA_VERSION;
  kind: 'variants';
  id: string;
  createdAt: string;
  model: string;
  spec: TransformerSpec;
  backend: string;
  env: TrainEnv;
  config: {
    batch: number;
    /** Base sequence length of the side-by-side table. */
    seq: number;
    seqs: number[];
    task: TrainTaskName | null;
    trainSteps: number;
    seed: number;
  };
  variants: VariantResult[];
  cancelled?: boolean;
  warnings: string[];
}
