/**
 * Validators of the parallelism documents (schema/parallel.ts): pipeline plans and memory plans
 * read from files, the run store or IPC are checked field by field, with bounds on every array, so
 * that a view or an exporter never meets a malformed or runaway document.
 */
import {
  BLOCK_KINDS,
  CostSource,
  LayerCost,
  MeasuredPipeline,
  MemoryBreakdown,
  MemoryPlan,
  MemoryPlanInput,
  PARALLEL_SCHEMA_VERSION,
  PipelinePlan,
  SCHEDULES,
  ScheduleResult,
  StageStat,
  TimelineBlock,
  ZERO_STAGES,
  ZeroStage,
} from './parallel';
import { arrayUpTo, bool, literal, numberIn, object, oneOf, optional, strUpTo, Validator } from './validate';
import { TwbError } from '../util/errors';

/** Blocks of one timeline: stages × micro-batches × 3 kinds × chunks stays far below this. */
export const MAX_TIMELINE_BLOCKS = 1_000_000;
/** Pipeline stages (devices) of one plan. */
export const MAX_STAGES = 4096;
/** Partitionable units (layers, embeddings, head) of one model. */
export const MAX_LAYERS = 100_000;
/** Points of the memory curve: powers of two up to 1024 plus the requested count. */
const MAX_CURVE_POINTS = 64;
const MAX_WARNINGS = 1000;
const MAX_TEXT = 10_000;

const count = numberIn(0, Number.MAX_SAFE_INTEGER, true);
const positive = numberIn(1, Number.MAX_SAFE_INTEGER, true);
const nonNegative = numberIn(0, Number.MAX_VALUE);
const fraction = numberIn(0, 1);
const text = strUpTo(MAX_TEXT);
const texts = arrayUpTo(text, MAX_WARNINGS);

const zeroStage: Validator<ZeroStage> = (v, at) => {
  if (!(ZERO_STAGES as readonly unknown[]).includes(v)) throw new TwbError('io', `${at}: expected one of: ${ZERO_STAGES.join(', ')}, got ${JSON.stringify(v)}`);
  return v as ZeroStage;
};

const block = object<TimelineBlock>({
  stage: count,
  microbatch: count,
  kind: oneOf(BLOCK_KINDS),
  chunk: count,
  startUs: nonNegative,
  endUs: nonNegative,
});

/** A timeline whose blocks each end no earlier than they start. */
const timeline: Validator<TimelineBlock[]> = (v, at) => {
  const blocks = arrayUpTo(block, MAX_TIMELINE_BLOCKS)(v, at);
  blocks.forEach((b, i) => {
    if (b.endUs < b.startUs) throw new TwbError('io', `${at}[${i}]: endUs (${b.endUs}) is before startUs (${b.startUs})`);
  });
  return blocks;
};

const layer = object<LayerCost>({
  name: text,
  layer: (v, at) => (v === null ? null : count(v, at)),
  forwardUs: nonNegative,
  backwardUs: nonNegative,
  weightGradUs: nonNegative,
  activationBytes: nonNegative,
  paramBytes: nonNegative,
});

const costSource = object<CostSource>({
  kind: oneOf(['inference-profile', 'training-profile', 'uniform'] as const),
  from: text,
  estimated: texts,
});

const stageStat = object<StageStat>({
  stage: count,
  layers: arrayUpTo(arrayUpTo(count, MAX_LAYERS), MAX_STAGES),
  busyUs: nonNegative,
  idleUs: nonNegative,
  bubbleFraction: fraction,
  peakInFlight: count,
  activationBytes: nonNegative,
  paramBytes: nonNegative,
});

const scheduleResult = object<ScheduleResult>({ bubbleFraction: fraction, makespanUs: nonNegative, timeline });

const measured = object<MeasuredPipeline>({
  bubbleFraction: fraction,
  makespanUs: nonNegative,
  timeline,
  phases: literal('forward'),
  simulated: scheduleResult,
  stageUs: arrayUpTo(nonNegative, MAX_STAGES),
  commUs: nonNegative,
  maxAbsDiff: nonNegative,
  batch: positive,
  seq: positive,
  executionProvider: text,
  threadsPerStage: positive,
});

const pipelinePlan = object<PipelinePlan>({
  schemaVersion: literal(PARALLEL_SCHEMA_VERSION),
  kind: literal('pipeline'),
  id: text,
  createdAt: text,
  model: text,
  modelSource: optional(text),
  batch: positive,
  seq: positive,
  costSource,
  schedule: oneOf(SCHEDULES),
  chunks: positive,
  stages: numberIn(1, MAX_STAGES, true),
  microbatches: positive,
  commUs: nonNegative,
  layers: arrayUpTo(layer, MAX_LAYERS),
  stageStats: arrayUpTo(stageStat, MAX_STAGES),
  bubbleFraction: fraction,
  makespanUs: nonNegative,
  peakInFlight: count,
  closedFormBubble: fraction,
  timeline,
  measured: optional(measured),
  warnings: texts,
});

const memoryInput = object<MemoryPlanInput>({
  params: positive,
  gpus: positive,
  zeroStage,
  microBatch: optional(positive),
  seq: optional(positive),
  hidden: optional(positive),
  layers: optional(positive),
  heads: optional(positive),
  checkpointing: bool,
});

const breakdown = object<MemoryBreakdown>({ params: nonNegative, grads: nonNegative, optimizer: nonNegative, activations: nonNegative, total: nonNegative });

const fourBytes: Validator<[number, number, number, number]> = (v, at) => {
  const values = arrayUpTo(nonNegative, 4)(v, at);
  if (values.length !== 4) throw new TwbError('io', `${at}: expected 4 values (ZeRO stages 0–3), got ${values.length}`);
  return values as [number, number, number, number];
};

const memoryPlan = object<MemoryPlan>({
  schemaVersion: literal(PARALLEL_SCHEMA_VERSION),
  kind: literal('memory-plan'),
  id: text,
  createdAt: text,
  model: text,
  input: memoryInput,
  bytesPerGpu: nonNegative,
  breakdown,
  byStage: arrayUpTo(object({ zeroStage, bytesPerGpu: nonNegative, breakdown }), ZERO_STAGES.length),
  curve: arrayUpTo(object({ gpus: positive, bytesPerGpu: fourBytes }), MAX_CURVE_POINTS),
  formulas: texts,
  warnings: texts,
});

function checkVersion(v: unknown, what: string): void {
  const version = v && typeof v === 'object' ? (v as { schemaVersion?: unknown }).schemaVersion : undefined;
  if (version !== undefined && version !== PARALLEL_SCHEMA_VERSION) {
    throw new TwbError('io', `${what} document has schemaVersion ${String(version)}; this version of the workbench reads ${PARALLEL_SCHEMA_VERSION}`);
  }
}

/** Validates a parsed pipeline plan; throws an io error naming the bad path. */
export function validatePipelinePlan(v: unknown): PipelinePlan {
  checkVersion(v, 'pipeline');
  const plan = pipelinePlan(v, 'pipeline');
  if (plan.stageStats.length !== plan.stages) {
    throw new TwbError('io', `pipeline.stageStats: ${plan.stageStats.length} entries for ${plan.stages} stages`);
  }
  plan.stageStats.forEach((s, i) => {
    s.layers.forEach((chunk, c) =>
      chunk.forEach((index, k) => {
        if (index >= plan.layers.length) throw new TwbError('io', `pipeline.stageStats[${i}].layers[${c}][${k}]: layer ${index} does not exist (${plan.layers.length} layers)`);
      }),
    );
  });
  return plan;
}

/** Validates a parsed memory plan; throws an io error naming the bad path. */
export function validateMemoryPlan(v: unknown): MemoryPlan {
  checkVersion(v, 'memory-plan');
  return memoryPlan(v, 'memory-plan');
}
