/**
 * The settings a distributed-training config is written from: cluster shape, ZeRO stage, precision,
 * batch sizes and the pipeline. They come from a pipeline plan or a memory plan plus the user's
 * overrides, and are checked once here so that every writer (DeepSpeed, accelerate, torchrun,
 * torch.distributed.pipelining) can trust them.
 */
import { MemoryPlan, PipelinePlan, SCHEDULES, ScheduleName, ZERO_STAGES, ZeroStage } from '../schema/parallel';
import { choices, TwbError } from '../util/errors';

export const PRECISIONS = ['bf16', 'fp16', 'fp32'] as const;
/** Training precision: bf16 or fp16 mixed precision (fp32 master weights), or plain fp32. */
export type Precision = (typeof PRECISIONS)[number];

/** GPUs per node when a plan gives only a total: the usual 8-GPU server. */
export const MAX_GPUS_PER_NODE = 8;

export interface DistributedSettings {
  /** Machines. */
  nodes: number;
  /** Processes (GPUs) per machine; world size = nodes × gpusPerNode. */
  gpusPerNode: number;
  zeroStage: ZeroStage;
  precision: Precision;
  /** Samples one GPU processes in one forward/backward pass. */
  microBatchPerGpu: number;
  /** Micro-batches accumulated per optimizer step (DeepSpeed's pipeline engine: = microbatches). */
  gradientAccumulationSteps: number;
  /** Pipeline stages P (1: no pipeline). Data-parallel degree = world size ÷ P. */
  pipelineStages: number;
  schedule: ScheduleName;
  /** Model chunks per pipeline rank (interleaved: V ≥ 2; otherwise 1). */
  chunks: number;
  /** Micro-batches per pipeline step M. */
  microbatches: number;
  /** Full activation checkpointing (recompute each layer in the backward pass). */
  activationCheckpointing: boolean;
  /** Id of the plan the settings came from; null when none. */
  sourcePlan: string | null;
  /** Layer names of each virtual pipeline stage (index = rank + chunk × P), when the plan knows them. */
  stageLayers?: string[][];
}

/** The defaults, for a plan that does not say: one 8-GPU node of plain bf16 data parallelism. */
export const DEFAULT_SETTINGS: DistributedSettings = {
  nodes: 1,
  gpusPerNode: MAX_GPUS_PER_NODE,
  zeroStage: 0,
  precision: 'bf16',
  microBatchPerGpu: 1,
  gradientAccumulationSteps: 1,
  pipelineStages: 1,
  schedule: '1f1b',
  chunks: 1,
  microbatches: 1,
  activationCheckpointing: false,
  sourcePlan: null,
};

/** World size (processes) of the settings. */
export const worldSize = (s: DistributedSettings): number => s.nodes * s.gpusPerNode;
/** Data-parallel degree: the GPUs each pipeline stage is replicated over. */
export const dataParallel = (s: DistributedSettings): number => worldSize(s) / s.pipelineStages;

/**
 * Nodes × GPUs for exactly `gpus` processes: one node up to 8, otherwise nodes of the largest
 * GPU count ≤ 8 that divides `gpus`, so that the world size stays what the plan assumed.
 */
export function topologyFor(gpus: number): { nodes: number; gpusPerNode: number } {
  if (gpus <= MAX_GPUS_PER_NODE) return { nodes: 1, gpusPerNode: gpus };
  let perNode = MAX_GPUS_PER_NODE;
  while (gpus % perNode !== 0) perNode--;
  return { nodes: gpus / perNode, gpusPerNode: perNode };
}

function fromPipeline(plan: PipelinePlan): Partial<DistributedSettings> {
  const P = plan.stages;
  const stageLayers: string[][] = [];
  for (const stat of plan.stageStats) {
    stat.layers.forEach((indices, chunk) => {
      stageLayers[stat.stage + chunk * P] = indices.map((i) => plan.layers[i]?.name ?? `#${i}`);
    });
  }
  const complete = stageLayers.length === P * plan.chunks && stageLayers.every((l) => Array.isArray(l));
  return {
    ...topologyFor(P),
    pipelineStages: P,
    schedule: plan.schedule,
    chunks: plan.chunks,
    microbatches: plan.microbatches,
    gradientAccumulationSteps: plan.microbatches,
    sourcePlan: plan.id,
    ...(complete ? { stageLayers } : {}),
  };
}

function fromMemory(plan: MemoryPlan): Partial<DistributedSettings> {
  return {
    ...topologyFor(plan.input.gpus),
    zeroStage: plan.input.zeroStage,
    microBatchPerGpu: plan.input.microBatch ?? 1,
    activationCheckpointing: plan.input.checkpointing,
    sourcePlan: plan.id,
  };
}

/**
 * Settings for `doc`: a pipeline plan gives P, M (= gradient-accumulation steps), the schedule and
 * its chunks; a memory plan gives the ZeRO stage, the GPU count, the micro-batch and checkpointing.
 * `overrides` win over both; the rest are `DEFAULT_SETTINGS`. Throws a usage error when the result
 * is inconsistent.
 */
export function settingsFromPlan(doc: PipelinePlan | MemoryPlan, overrides: Partial<DistributedSettings> = {}): DistributedSettings {
  const fromDoc = doc.kind === 'pipeline' ? fromPipeline(doc) : fromMemory(doc);
  const given = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) as Partial<DistributedSettings>;
  const merged: DistributedSettings = { ...DEFAULT_SETTINGS, ...fromDoc, ...given };
  // DeepSpeed's pipeline engine runs gradient_accumulation_steps micro-batches per step: keep the
  // two equal when only one of them was overridden.
  if (merged.pipelineStages > 1) {
    if (given.microbatches !== undefined && given.gradientAccumulationSteps === undefined) merged.gradientAccumulationSteps = given.microbatches;
    if (given.gradientAccumulationSteps !== undefined && given.microbatches === undefined) merged.microbatches = given.gradientAccumulationSteps;
  }
  // A different stage count invalidates the plan's layer split.
  if (given.pipelineStages !== undefined || given.chunks !== undefined) delete merged.stageLayers;
  checkSettings(merged);
  return merged;
}

/** Throws a usage error naming the first setting that is wrong and what would fix it. */
export function checkSettings(s: DistributedSettings): void {
  const positiveInt = (name: keyof DistributedSettings, max = 1 << 20): void => {
    const v = s[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) {
      throw new TwbError('usage', `${name} must be an integer from 1 to ${max}, got ${JSON.stringify(v)}`);
    }
  };
  for (const k of ['nodes', 'gpusPerNode', 'microBatchPerGpu', 'gradientAccumulationSteps', 'pipelineStages', 'chunks', 'microbatches'] as const) positiveInt(k);
  if (!(ZERO_STAGES as readonly unknown[]).includes(s.zeroStage)) throw new TwbError('usage', `zeroStage must be one of 0, 1, 2, 3, got ${JSON.stringify(s.zeroStage)}`);
  if (!(PRECISIONS as readonly string[]).includes(s.precision)) throw new TwbError('usage', `unknown precision ${JSON.stringify(s.precision)}; ${choices(PRECISIONS)}`);
  if (!(SCHEDULES as readonly string[]).includes(s.schedule)) throw new TwbError('usage', `unknown schedule ${JSON.stringify(s.schedule)}; ${choices(SCHEDULES)}`);
  if (typeof s.activationCheckpointing !== 'boolean') throw new TwbError('usage', `activationCheckpointing must be true or false, got ${JSON.stringify(s.activationCheckpointing)}`);
  const world = worldSize(s);
  if (world % s.pipelineStages !== 0) {
    throw new TwbError(
      'usage',
      `world size ${world} (${s.nodes} node(s) × ${s.gpusPerNode} GPUs) is not divisible by ${s.pipelineStages} pipeline stages`,
      `Choose a GPU count that is a multiple of ${s.pipelineStages}, or a stage count that divides ${world}.`,
    );
  }
  if (s.schedule === 'interleaved' && s.chunks < 2) {
    throw new TwbError('usage', `the interleaved schedule needs at least 2 chunks per stage, got ${s.chunks}`, 'Set chunks ≥ 2, or use the 1f1b schedule.');
  }
  if ((s.schedule === 'gpipe' || s.schedule === '1f1b') && s.chunks !== 1) {
    throw new TwbError('usage', `the ${s.schedule} schedule runs 1 chunk per stage, got ${s.chunks}`, 'Set chunks to 1, or use the interleaved schedule for several chunks per stage.');
  }
  if (s.pipelineStages > 1 && s.microbatches !== s.gradientAccumulationSteps) {
    throw new TwbError(
      'usage',
      `with ${s.pipelineStages} pipeline stages, microbatches (${s.microbatches}) must equal gradientAccumulationSteps (${s.gradientAccumulationSteps}): each pipeline step runs the accumulated micro-batches`,
      'Give only one of the two; the other follows.',
    );
  }
}

/** A one-line description of the layout, for headers of the written files. */
export function describeLayout(s: DistributedSettings): string {
  const world = worldSize(s);
  const pipe = s.pipelineStages > 1 ? `, ${s.pipelineStages} pipeline stages × ${dataParallel(s)} data-parallel` : `, ${world}-way data parallel`;
  return `${s.nodes} node(s) × ${s.gpusPerNode} GPUs = ${world} processes${pipe}, ZeRO stage ${s.zeroStage}, ${s.precision}`;
}
