/**
 * What a training job or a variants sweep is asked to do, as the CLI, the engine server and tests
 * pass it. Every field has a default (see `trainDefaults`), so a request is small.
 */
import type { BackendChoice } from '../runtime/tfjs';
import type { TrainTaskName, TrainPhase } from '../schema/training';
import type { TransformerSpec } from '../model/spec';

/** Spec fields a request may change from the preset (for quick experiments and small tests). */
export type SpecOverrides = Partial<Pick<TransformerSpec, 'layers' | 'hidden' | 'heads' | 'ffn' | 'vocab' | 'maxSeq'>>;

export interface TrainRequest {
  /** `builtin:NAME`. */
  model: string;
  specOverrides?: SpecOverrides;
  /** Default: count-compare for encoders, sort for decoders; char-lm needs `textFile`. */
  task?: TrainTaskName;
  /** Text corpus for char-lm (a path). */
  textFile?: string;
  steps?: number;
  batch?: number;
  seq?: number;
  lr?: number;
  warmupSteps?: number;
  weightDecay?: number;
  clipNorm?: number;
  seed?: number;
  backend?: BackendChoice;
  /** `--attention` spelling: `ATTENTION_SYNTAX` of model/variants.ts (dense, window:W, bigbird:W,G,R, linformer:K, mixer, dynamic-conv:K, adaptive-span:MAX[,RAMP]). */
  attention?: string;
  /** `--share-layers` spelling: none | all | N. */
  shareLayers?: string;
  evalEvery?: number;
  evalExamples?: number;
  /** Steps recorded by tf.profile (default 2). */
  profiledSteps?: number;
  /** Write the trained model as ONNX here and check ORT's logits against tfjs's. */
  saveOnnx?: string;
}

export interface TrainProgress {
  phase: 'load' | 'train' | 'profile' | 'eval' | 'export';
  step: number;
  steps: number;
  /** Latest training loss, when a step has run. */
  loss?: number;
  /** Latest held-out accuracy, when an eval has run. */
  accuracy?: number;
  message: string;
}

export interface SweepRequest {
  model: string;
  specOverrides?: SpecOverrides;
  /** Variant labels, e.g. `dense`, `window:32`, `bigbird:16,1,1`, `linformer:32`, `mixer`, `dynamic-conv:7`, `adaptive-span:32`, `dense+share:all`. */
  variants?: string[];
  /** Sequence lengths of the sweep (default 64,128,256,512,1024). */
  seqs?: number[];
  batch?: number;
  /** Base sequence length of the side-by-side table (default 128). */
  seq?: number;
  /** Train each variant on this task for `trainSteps` steps to fill the accuracy column (default: none). */
  task?: TrainTaskName;
  trainSteps?: number;
  seed?: number;
  backend?: BackendChoice;
  /** Give up on a sweep point whose step takes longer than this (default 60 s). */
  pointBudgetMs?: number;
}

export interface SweepProgress {
  variant: string;
  /** Index of the variant and how many there are. */
  index: number;
  count: number;
  seq?: number;
  message: string;
}

export interface JobOptions<P> {
  onProgress?: (p: P) => void;
  /** Cancelling stops at the next step; the result so far comes back with `cancelled: true`. */
  signal?: AbortSignal;
}

export type { TrainPhase };
