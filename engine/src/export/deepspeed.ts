/**
 * DeepSpeed configuration JSON (https://www.deepspeed.ai/docs/config-json/) from distributed
 * settings. Keys are the documented ones; the `pipeline` section is the one DeepSpeed's runtime
 * config reads for its PipelineEngine (deepspeed/runtime/config.py, get_pipeline_config).
 */
import { dataParallel, DistributedSettings, worldSize } from './distributed-settings';
import { TwbError } from '../util/errors';

/** A written config file: its text, a suggested file name, and what the user should know. */
export interface ExportedConfig {
  text: string;
  /** Suggested default file name. */
  fileName: string;
  warnings: string[];
}

export const DEEPSPEED_FILE = 'ds_config.json';

/** Bucket sizes of DeepSpeed's own examples (elements): large enough to overlap well. */
const BUCKET = 500_000_000;

/**
 * DeepSpeed's PipelineEngine asserts `zero_optimization_stage() < 2` ("ZeRO-2 and ZeRO-3 are
 * incompatible with pipeline parallelism"): refuse before the user finds out on the cluster.
 */
export function checkDeepSpeedPipeline(s: DistributedSettings): void {
  if (s.pipelineStages > 1 && s.zeroStage >= 2) {
    throw new TwbError(
      'usage',
      `DeepSpeed cannot combine ZeRO stage ${s.zeroStage} with ${s.pipelineStages} pipeline stages: its PipelineEngine accepts ZeRO stage 0 or 1 only`,
      `Use zeroStage 1 (optimizer states partitioned) with the pipeline, or pipelineStages 1 to keep ZeRO stage ${s.zeroStage}.`,
    );
  }
}

function precision(s: DistributedSettings): Record<string, unknown> {
  if (s.precision === 'bf16') return { bf16: { enabled: true } };
  if (s.precision === 'fp16') {
    // loss_scale 0 = dynamic loss scaling, starting at 2^16.
    return { fp16: { enabled: true, loss_scale: 0, initial_scale_power: 16, loss_scale_window: 1000, hysteresis: 2, min_loss_scale: 1 } };
  }
  return {};
}

function zero(s: DistributedSettings): Record<string, unknown> {
  if (s.zeroStage === 0) return { stage: 0 };
  const common = { stage: s.zeroStage, overlap_comm: true, contiguous_gradients: true, reduce_bucket_size: BUCKET };
  if (s.zeroStage < 3) return { ...common, allgather_partitions: true, allgather_bucket_size: BUCKET, reduce_scatter: true };
  return {
    ...common,
    stage3_prefetch_bucket_size: 50_000_000,
    stage3_param_persistence_threshold: 1_000_000,
    stage3_max_live_parameters: 1_000_000_000,
    stage3_max_reuse_distance: 1_000_000_000,
    stage3_gather_16bit_weights_on_model_save: true,
    sub_group_size: 1_000_000_000,
  };
}

/**
 * DeepSpeed splits a PipelineModule by layer count ("uniform") or by parameter count
 * ("parameters", its default). Uniform when the plan put equally many layers on every stage.
 */
function partitionMethod(s: DistributedSettings): 'uniform' | 'parameters' {
  const counts = s.stageLayers?.map((l) => l.length) ?? [];
  return counts.length > 0 && counts.every((c) => c === counts[0]) ? 'uniform' : 'parameters';
}

/** The config as an object, in the order it is written. */
export function deepspeedConfig(s: DistributedSettings): Record<string, unknown> {
  checkDeepSpeedPipeline(s);
  const config: Record<string, unknown> = {
    // DeepSpeed asserts train_batch_size = micro × accumulation × data-parallel degree; with a
    // pipeline the data-parallel degree is world ÷ stages, not the world size.
    train_batch_size: s.microBatchPerGpu * s.gradientAccumulationSteps * dataParallel(s),
    train_micro_batch_size_per_gpu: s.microBatchPerGpu,
    gradient_accumulation_steps: s.gradientAccumulationSteps,
    gradient_clipping: 1.0,
    ...precision(s),
    zero_optimization: zero(s),
  };
  if (s.activationCheckpointing) {
    // Partitioning activations only pays with tensor parallelism, and DeepSpeed allows the
    // contiguous-memory optimization only with partitioned activations.
    config.activation_checkpointing = { partition_activations: false, contiguous_memory_optimization: false, cpu_checkpointing: false };
  }
  if (s.pipelineStages > 1) {
    config.pipeline = { stages: s.pipelineStages, partition: partitionMethod(s) };
  }
  config.steps_per_print = 100;
  config.wall_clock_breakdown = false;
  return config;
}

/** `ds_config.json` for the settings. */
export function exportDeepSpeed(s: DistributedSettings): ExportedConfig {
  const config = deepspeedConfig(s);
  const warnings: string[] = [];
  if (s.pipelineStages > 1 && s.schedule !== '1f1b') {
    warnings.push(
      `DeepSpeed's pipeline engine runs 1F1B only; the plan's ${s.schedule} schedule${s.chunks > 1 ? ` with ${s.chunks} chunks per stage` : ''} is not available there. Export --format pipelining for torch.distributed.pipelining, which has it.`,
    );
  }
  if (s.pipelineStages > 1) {
    warnings.push(`Build the model as deepspeed.pipe.PipelineModule(layers, num_stages=${s.pipelineStages}, partition_method="${(config.pipeline as { partition: string }).partition}") and train with engine.train_batch(); the PipelineModule's arguments decide the split.`);
  }
  if (s.activationCheckpointing) {
    warnings.push(
      s.pipelineStages > 1
        ? 'Activation checkpointing happens where the model asks for it: pass activation_checkpoint_interval=1 to PipelineModule.'
        : 'Activation checkpointing happens where the model asks for it: wrap each layer in deepspeed.checkpointing.checkpoint (or the framework\'s gradient checkpointing).',
    );
  }
  if (worldSize(s) === 1 && s.zeroStage > 0) warnings.push(`ZeRO stage ${s.zeroStage} on 1 GPU partitions nothing.`);
  return { text: `${JSON.stringify(config, null, 2)}\n`, fileName: DEEPSPEED_FILE, warnings };
}
