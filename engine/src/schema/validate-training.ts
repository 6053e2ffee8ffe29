/**
 * Validators of the training documents (schema/training.ts): files read by the CLI and the run
 * store, and messages crossing into the webview, are checked field by field before use.
 */
import type { TransformerSpec } from '../model/spec';
import type { AttentionVariant } from '../model/variants';
import {
  BackendAttempt,
  LearnedSpans,
  MixedPrecision,
  PhaseStat,
  PrecisionEstimate,
  StepValue,
  SweepPoint,
  TRAIN_PHASES,
  TRAIN_TASKS,
  TrainConfig,
  TrainEnv,
  TrainingRun,
  TrainMemory,
  TrainOpStat,
  TRAINING_SCHEMA_VERSION,
  VariantInfo,
  VariantResult,
  VariantsReport,
} from './training';
import { arrayOf, bool, literal, nullable, num, object, oneOf, optional, str, Validator } from './validate';
import { TwbError } from '../util/errors';

const attentionVariant: Validator<AttentionVariant> = (v, at) => {
  const kind = v && typeof v === 'object' ? (v as { kind?: unknown }).kind : undefined;
  switch (kind) {
    case 'dense':
      return object<{ kind: 'dense' }>({ kind: literal('dense') })(v, at);
    case 'window':
      return object<{ kind: 'window'; window: number }>({ kind: literal('window'), window: num })(v, at);
    case 'linformer':
      return object<{ kind: 'linformer'; k: number }>({ kind: literal('linformer'), k: num })(v, at);
    case 'bigbird':
      return object<{ kind: 'bigbird'; block: number; global: number; random: number }>({ kind: literal('bigbird'), block: num, global: num, random: num })(v, at);
    case 'mixer':
      return object<{ kind: 'mixer' }>({ kind: literal('mixer') })(v, at);
    case 'dynamic-conv':
      return object<{ kind: 'dynamic-conv'; kernel: number }>({ kind: literal('dynamic-conv'), kernel: num })(v, at);
    case 'adaptive-span':
      return object<{ kind: 'adaptive-span'; maxSpan: number; ramp: number }>({ kind: literal('adaptive-span'), maxSpan: num, ramp: num })(v, at);
    default:
      throw new TwbError('io', `${at}.kind: expected one of: dense, window, bigbird, linformer, mixer, dynamic-conv, adaptive-span, got ${JSON.stringify(kind)}`);
  }
};

export const transformerSpec = object<TransformerSpec>({
  layers: num,
  hidden: num,
  heads: num,
  ffn: num,
  vocab: num,
  maxSeq: num,
  kind: oneOf(['encoder', 'decoder'] as const),
  numClasses: optional(num),
  attention: optional(attentionVariant),
  shareLayers: optional(num),
});

const variantInfo = object<VariantInfo>({ attention: str, shareLayers: str });
const trainEnv = object<TrainEnv>({ backend: str, tfjsVersion: str, cpu: str, cpuCount: num, platform: str, nodeVersion: str });
const attempt = object<BackendAttempt>({ name: str, ok: bool, reason: str });
const phase = oneOf(TRAIN_PHASES);
const task = oneOf(TRAIN_TASKS);
const stepValue = object<StepValue>({ step: num, value: num });

const trainConfig = object<TrainConfig>({
  task,
  textFile: optional(str),
  steps: num,
  batch: num,
  seq: num,
  lr: num,
  warmupSteps: num,
  weightDecay: num,
  clipNorm: num,
  seed: num,
  backendRequested: str,
  evalEvery: num,
  evalExamples: num,
  profiledSteps: num,
});

const opStat = object<TrainOpStat>({ opType: str, layer: nullable(num), phase, calls: num, totalUs: num, share: num });
const phaseStat = object<PhaseStat>({ phase, totalUs: num, share: num });

const memory = object<TrainMemory>({
  peakBytes: num,
  weightsBytes: num,
  optimizerBytes: num,
  activationsBytes: num,
  timeline: arrayOf(object({ tUs: num, bytes: num, phase })),
});

const isTrue: Validator<true> = (v, at) => {
  if (v !== true) throw new TwbError('io', `${at}: expected true, got ${JSON.stringify(v)}`);
  return true;
};

const estimate = object<PrecisionEstimate>({
  dtype: oneOf(['fp16', 'bf16'] as const),
  weightsBytes: num,
  optimizerBytes: num,
  activationsBytes: num,
  peakBytes: num,
  estimate: isTrue,
});

const mixedPrecision = object<MixedPrecision>({ ran: oneOf(['fp32', 'fp16', 'bf16'] as const), reason: str, estimates: arrayOf(estimate) });

const learnedSpans = object<LearnedSpans>({ maxSpan: num, ramp: num, layers: arrayOf(object({ layer: num, heads: arrayOf(num) })) });

const trainingRun = object<TrainingRun>({
  schemaVersion: literal(TRAINING_SCHEMA_VERSION),
  kind: literal('training'),
  id: str,
  createdAt: str,
  model: str,
  spec: transformerSpec,
  variant: variantInfo,
  config: trainConfig,
  backend: str,
  backendAttempts: arrayOf(attempt),
  env: trainEnv,
  params: num,
  flopsPerStep: num,
  stepMs: object({ p50: num, p90: num, mean: num, min: num, max: num, samples: arrayOf(num) }),
  tokensPerSecond: num,
  loss: arrayOf(stepValue),
  accuracy: arrayOf(stepValue),
  accuracyMetric: str,
  accuracyBar: optional(num),
  ops: arrayOf(opStat),
  phases: arrayOf(phaseStat),
  memory,
  mixedPrecision,
  onnx: optional(object({ path: str, maxAbsDiff: num })),
  spans: optional(learnedSpans),
  cancelled: optional(bool),
  warnings: arrayOf(str),
});

const sweepPoint = object<SweepPoint>({ seq: num, stepMs: optional(num), peakBytes: optional(num), flops: num, error: optional(str) });

const variantResult = object<VariantResult>({
  label: str,
  variant: variantInfo,
  params: num,
  flopsPerStep: num,
  stepMs: num,
  peakBytes: num,
  tokensPerSecond: num,
  accuracy: nullable(num),
  growth: object({ time: nullable(num), memory: nullable(num) }),
  spans: optional(learnedSpans),
  sweep: arrayOf(sweepPoint),
  error: optional(str),
});

const variantsReport = object<VariantsReport>({
  schemaVersion: literal(TRAINING_SCHEMA_VERSION),
  kind: literal('variants'),
  id: str,
  createdAt: str,
  model: str,
  spec: transformerSpec,
  backend: str,
  env: trainEnv,
  config: object({ batch: num, seq: num, seqs: arrayOf(num), task: nullable(task), trainSteps: num, seed: num }),
  variants: arrayOf(variantResult),
  cancelled: optional(bool),
  warnings: arrayOf(str),
});

function checkVersion(v: unknown, what: string): void {
  const version = v && typeof v === 'object' ? (v as { schemaVersion?: unknown }).schemaVersion : undefined;
  if (version !== undefined && version !== TRAINING_SCHEMA_VERSION) {
    throw new TwbError('io', `${what} document has schemaVersion ${String(version)}; this version of the workbench reads ${TRAINING_SCHEMA_VERSION}`);
  }
}

/** Validates a parsed training run; throws an io error naming the bad path. */
export function validateTrainingRun(v: unknown): TrainingRun {
  checkVersion(v, 'training');
  return trainingRun(v, 'training');
}

/** Validates a parsed variants comparison; throws an io error naming the bad path. */
export function validateVariantsReport(v: unknown): VariantsReport {
  checkVersion(v, 'variants');
  return variantsReport(v, 'variants');
}
