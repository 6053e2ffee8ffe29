/**
 * Parallelism documents: a pipeline plan (`kind: "pipeline"`: stages, a schedule simulated as
 * discrete events, and optionally a measured pipeline of real per-stage ORT sessions) and a memory
 * plan (`kind: "memory-plan"`: bytes per GPU under data parallelism and ZeRO stages 0–3). Written by
 * `twb pipeline --json` and `twb memory-plan --json`, read by `twb export-distributed`, the webview's
 * Pipeline and Memory-plan views and the run store.
 */
export const PARALLEL_SCHEMA_VERSION = 1;

export const SCHEDULES = ['gpipe', '1f1b', 'interleaved', 'zb-h1'] as const;
/** Pipeline schedule: GPipe, 1F1B (PipeDream-flush), interleaved 1F1B (Megatron), Zero Bubble H1. */
export type ScheduleName = (typeof SCHEDULES)[number];

export const BLOCK_KINDS = ['F', 'B', 'W'] as const;
/** Forward; backward (the whole backward, or only the input gradient under ZB-H1); weight gradient (ZB-H1). */
export type BlockKind = (typeof BLOCK_KINDS)[number];

/** One block of work on one stage. */
export interface TimelineBlock {
  /** Pipeline stage (device), 0-based. */
  stage: number;
  microbatch: number;
  kind: BlockKind;
  /** Model chunk on this stage (interleaved: 0..V-1; otherwise 0). */
  chunk: number;
  /** Since the start of the step, microseconds. */
  startUs: number;
  endUs: number;
}

/** Cost of one partitionable unit of the model (a transformer layer, or the embeddings / head). */
export interface LayerCost {
  /** `embed`, `layer 3`, `head`, ... */
  name: string;
  /** Transformer layer index; null for the parts outside the blocks. */
  layer: number | null;
  /** Forward time per micro-batch, microseconds. */
  forwardUs: number;
  /** Backward time per micro-batch (input and weight gradients together), microseconds. */
  backwardUs: number;
  /** Of `backwardUs`, the weight-gradient part (ZB-H1's W), microseconds. */
  weightGradUs: number;
  /** Activations kept from forward until backward, per micro-batch, bytes. */
  activationBytes: number;
  /** Weights, bytes. */
  paramBytes: number;
}

/** Where the layer costs came from, and which of them are estimates. */
export interface CostSource {
  kind: 'inference-profile' | 'training-profile' | 'uniform';
  /** The run the costs were read from (id), or the model profiled for them. */
  from: string;
  /** What was estimated rather than measured, in words (empty when everything was measured). */
  estimated: string[];
}

export interface StageStat {
  stage: number;
  /** Indices into `layers`, per chunk (one list per chunk; interleaved has V). */
  layers: number[][];
  /** Busy time over the step, microseconds. */
  busyUs: number;
  /** makespan − busy. */
  idleUs: number;
  /** idle ÷ makespan of this stage. */
  bubbleFraction: number;
  /** Most micro-batches whose forward ran here and whose activations are still held. */
  peakInFlight: number;
  /** peakInFlight × activation bytes per micro-batch of this stage's layers (an estimate when the costs are). */
  activationBytes: number;
  paramBytes: number;
}

/** The simulated (or measured) outcome of one schedule. */
export interface ScheduleResult {
  /** Idle time ÷ (stages × makespan). */
  bubbleFraction: number;
  makespanUs: number;
  timeline: TimelineBlock[];
}

/** A pipeline run for real: each stage a sub-model in its own worker with its own ORT session. */
export interface MeasuredPipeline extends ScheduleResult {
  /** Forward only: ORT runs inference, so the measured pipeline streams F blocks in the schedule's forward order. */
  phases: 'forward';
  /** The same forward-only schedule simulated with the stage times measured alone and the measured hop time. */
  simulated: ScheduleResult;
  /** Median time of each stage's sub-model run alone, per micro-batch, microseconds. */
  stageUs: number[];
  /** Median hand-over time between stages (post, copy, receive), microseconds. */
  commUs: number;
  /** Largest |difference| between the composed stages' output and the whole model's. */
  maxAbsDiff: number;
  /** Micro-batch shape fed to the first stage. */
  batch: number;
  seq: number;
  executionProvider: string;
  threadsPerStage: number;
}

export interface PipelinePlan {
  schemaVersion: typeof PARALLEL_SCHEMA_VERSION;
  kind: 'pipeline';
  id: string;
  /** ISO 8601. */
  createdAt: string;
  /** `builtin:NAME`, a model file name, or the run the costs came from. */
  model: string;
  /** What a measurement runs: `builtin:NAME` or a model path (absent when no model is known). */
  modelSource?: string;
  /** Micro-batch shape of the profile and of a measurement. */
  batch: number;
  seq: number;
  costSource: CostSource;
  schedule: ScheduleName;
  /** Chunks per stage (interleaved: V ≥ 2; otherwise 1). */
  chunks: number;
  stages: number;
  microbatches: number;
  /** Time per hop between consecutive stages, microseconds. */
  commUs: number;
  layers: LayerCost[];
  stageStats: StageStat[];
  bubbleFraction: number;
  makespanUs: number;
  /** Most micro-batches in flight on any stage. */
  peakInFlight: number;
  /** The textbook bubble of this schedule for these P, M, V (uniform costs, no communication). */
  closedFormBubble: number;
  timeline: TimelineBlock[];
  measured?: MeasuredPipeline;
  warnings: string[];
}

export const ZERO_STAGES = [0, 1, 2, 3] as const;
export type ZeroStage = (typeof ZERO_STAGES)[number];

/** Inputs of the memory model. */
export interface MemoryPlanInput {
  /** Parameters of the model. */
  params: number;
  /** Data-parallel GPUs the states are partitioned over. */
  gpus: number;
  zeroStage: ZeroStage;
  /** Activation inputs; activations are left out when any is absent. */
  microBatch?: number;
  seq?: number;
  hidden?: number;
  layers?: number;
  heads?: number;
  checkpointing: boolean;
}

/** Bytes per GPU, by what they hold. */
export interface MemoryBreakdown {
  /** fp16/bf16 parameters (2 bytes each), after partitioning. */
  params: number;
  /** fp16/bf16 gradients (2 bytes each), after partitioning. */
  grads: number;
  /** fp32 master weights, momentum and variance (12 bytes each), after partitioning. */
  optimizer: number;
  /** Activations of one micro-batch (not partitioned by ZeRO). */
  activations: number;
  total: number;
}

export interface MemoryPlan {
  schemaVersion: typeof PARALLEL_SCHEMA_VERSION;
  kind: 'memory-plan';
  id: string;
  /** ISO 8601. */
  createdAt: string;
  /** Where the parameter count came from (`--params`, a model, a run). */
  model: string;
  input: MemoryPlanInput;
  /** Bytes per GPU for the requested stage and GPU count. */
  bytesPerGpu: number;
  breakdown: MemoryBreakdown;
  /** The same GPU count at every ZeRO stage. */
  byStage: Array<{ zeroStage: ZeroStage; bytesPerGpu: number; breakdown: MemoryBreakdown }>;
  /** Bytes per GPU against the GPU count (powers of two up to 1024, and the requested count), per ZeRO stage. */
  curve: Array<{ gpus: number; bytesPerGpu: [number, number, number, number] }>;
  /** The formulas used, in words. */
  formulas: string[];
  warnings: string[];
}
