/**
 * Memory per GPU under data parallelism and ZeRO stages 0–3 (Rajbhandari et al. 2020, "ZeRO: Memory
 * Optimizations Toward Training Trillion Parameter Models"), plus the activations of one micro-batch
 * (Korthikanti et al. 2022, "Reducing Activation Recomputation in Large Transformer Models").
 *
 * Model states of mixed-precision Adam: 2 bytes of fp16/bf16 parameters, 2 of fp16/bf16 gradients
 * and K = 12 of fp32 optimizer states (master weights, momentum, variance) per parameter. Stage 1
 * partitions the optimizer states over the N data-parallel GPUs, stage 2 the gradients too, stage 3
 * the parameters too. Pure: no I/O, time passed in.
 */
import { MemoryBreakdown, MemoryPlan, MemoryPlanInput, PARALLEL_SCHEMA_VERSION, ZERO_STAGES, ZeroStage } from '../schema/parallel';
import { TwbError } from '../util/errors';
import { resultId } from '../util/result-id';

/** Bytes per parameter of the fp16/bf16 weights and of their gradients. */
const HALF_BYTES = 2;
/** K of the ZeRO paper: fp32 master weights, momentum and variance of Adam, bytes per parameter. */
const OPTIMIZER_BYTES = 12;
/** Head size assumed when the head count is not given (GPT-2/3, BERT, Llama all use 64 or more). */
const DEFAULT_HEAD_DIM = 64;
/** GPU counts of the curve besides the requested one: 1, 2, 4, …, 1024. */
const CURVE_GPUS = Array.from({ length: 11 }, (_, i) => 2 ** i);
/** Far above any cluster; keeps the arithmetic away from nonsense. */
const MAX_GPUS = 1 << 24;

/**
 * Elements each GPU owns when `count` elements are split over `gpus`: DeepSpeed pads the flat
 * buffers so that every rank holds the same number, hence the ceiling.
 */
const partition = (count: number, gpus: number): number => Math.ceil(count / gpus);

/** Activation bytes of one micro-batch, and what was assumed to get them. */
interface Activations {
  bytes: number;
  /** Heads used in the attention-score term; null when activations were left out. */
  heads: number | null;
  headsDefaulted: boolean;
  missing: string[];
}

const ACTIVATION_INPUTS = ['microBatch', 'seq', 'hidden', 'layers'] as const;

function activations(input: MemoryPlanInput): Activations {
  const missing = ACTIVATION_INPUTS.filter((k) => input[k] === undefined);
  if (missing.length > 0) return { bytes: 0, heads: null, headsDefaulted: false, missing };
  const b = input.microBatch as number;
  const s = input.seq as number;
  const h = input.hidden as number;
  const layers = input.layers as number;
  const headsDefaulted = input.heads === undefined;
  const a = input.heads ?? Math.max(1, Math.round(h / DEFAULT_HEAD_DIM));
  // s·b·h·(34 + 5·a·s/h) = 34·s·b·h + 5·a·s²·b: written this way it stays an integer.
  const perLayer = 34 * s * b * h + 5 * a * s * s * b;
  // Full recomputation keeps only each layer's input (2·s·b·h bytes in 16 bits) and rebuilds one
  // layer's activations at a time during the backward pass.
  const bytes = input.checkpointing ? layers * 2 * s * b * h + perLayer : layers * perLayer;
  return { bytes, heads: a, headsDefaulted, missing: [] };
}

function modelStates(params: number, gpus: number, stage: ZeroStage): Omit<MemoryBreakdown, 'activations' | 'total'> {
  const shard = partition(params, gpus);
  return {
    params: HALF_BYTES * (stage >= 3 ? shard : params),
    grads: HALF_BYTES * (stage >= 2 ? shard : params),
    optimizer: OPTIMIZER_BYTES * (stage >= 1 ? shard : params),
  };
}

/** Bytes per GPU for `input.gpus` data-parallel GPUs at `input.zeroStage`, by what they hold. */
export function memoryBreakdown(input: MemoryPlanInput): MemoryBreakdown {
  checkInput(input);
  const states = modelStates(input.params, input.gpus, input.zeroStage);
  const act = activations(input).bytes;
  return { ...states, activations: act, total: states.params + states.grads + states.optimizer + act };
}

/** Throws a usage error naming the first input that is not what the model needs. */
export function checkInput(input: MemoryPlanInput): void {
  const positiveInt = (name: string, v: unknown, max = Number.MAX_SAFE_INTEGER): void => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) {
      throw new TwbError('usage', `${name} must be an integer from 1 to ${max}, got ${JSON.stringify(v)}`);
    }
  };
  positiveInt('params', input.params);
  positiveInt('gpus', input.gpus, MAX_GPUS);
  if (!(ZERO_STAGES as readonly unknown[]).includes(input.zeroStage)) {
    throw new TwbError('usage', `zeroStage must be one of 0, 1, 2, 3, got ${JSON.stringify(input.zeroStage)}`);
  }
  for (const k of [...ACTIVATION_INPUTS, 'heads'] as const) if (input[k] !== undefined) positiveInt(k, input[k]);
  if (typeof input.checkpointing !== 'boolean') throw new TwbError('usage', `checkpointing must be true or false, got ${JSON.stringify(input.checkpointing)}`);
}

function formulas(input: MemoryPlanInput, act: Activations): string[] {
  const lines = [
    'Ψ = parameters, N = data-parallel GPUs, K = 12 bytes of fp32 Adam state (master weights, momentum, variance) per parameter; parameters and gradients are 2-byte fp16/bf16.',
    'Stage 0 (plain data parallel): 2Ψ + 2Ψ + KΨ bytes per GPU.',
    'Stage 1 (optimizer states partitioned): 2Ψ + 2Ψ + KΨ/N.',
    'Stage 2 (gradients too): 2Ψ + (2 + K)Ψ/N.',
    'Stage 3 (parameters too): (2 + 2 + K)Ψ/N.',
    'Ψ/N is rounded up to whole parameters: every GPU holds an equal, padded partition.',
  ];
  if (act.missing.length > 0) {
    lines.push(`Activations are left out (0 bytes): ${act.missing.join(', ')} not given.`);
    return lines;
  }
  lines.push(
    'Activations per layer and micro-batch, 16-bit, no tensor parallelism (Korthikanti et al. 2022): s·b·h·(34 + 5·a·s/h) bytes, s = sequence, b = micro-batch, h = hidden, a = heads.',
    act.headsDefaulted ? `a = round(h/64) = ${act.heads} (no head count given).` : `a = ${act.heads}.`,
    input.checkpointing
      ? 'Full activation checkpointing: 2·s·b·h bytes of layer input kept per layer, plus one layer recomputed at a time: L·2·s·b·h + s·b·h·(34 + 5·a·s/h).'
      : 'No checkpointing: every layer keeps its activations until its backward pass: L·s·b·h·(34 + 5·a·s/h).',
    'Activations belong to one micro-batch and are not partitioned by ZeRO.',
  );
  return lines;
}

function warnings(input: MemoryPlanInput, act: Activations): string[] {
  const out: string[] = [];
  if (input.gpus === 1 && input.zeroStage > 0) {
    out.push(`ZeRO stage ${input.zeroStage} partitions over data-parallel GPUs; with 1 GPU it saves nothing (stages 0–3 need the same memory here).`);
  }
  if (act.missing.length > 0) {
    out.push(`Activations not counted: ${act.missing.join(', ')} missing (all of microBatch, seq, hidden and layers are needed).`);
  } else if (input.heads !== undefined && input.hidden !== undefined && input.hidden % input.heads !== 0) {
    out.push(`hidden (${input.hidden}) is not a multiple of heads (${input.heads}).`);
  }
  return out;
}

/** The memory plan of `input` (a `kind: "memory-plan"` document); `model` says where Ψ came from. */
export function planMemory(input: MemoryPlanInput, model: string, now: Date): MemoryPlan {
  checkInput(input);
  const act = activations(input);
  const at = (zeroStage: ZeroStage, gpus: number): MemoryBreakdown => memoryBreakdown({ ...input, zeroStage, gpus });
  const breakdown = at(input.zeroStage, input.gpus);
  const byStage = ZERO_STAGES.map((zeroStage) => {
    const b = at(zeroStage, input.gpus);
    return { zeroStage, bytesPerGpu: b.total, breakdown: b };
  });
  const counts = [...new Set([...CURVE_GPUS, input.gpus])].sort((a, b) => a - b);
  const curve = counts.map((gpus) => ({
    gpus,
    bytesPerGpu: ZERO_STAGES.map((z) => at(z, gpus).total) as [number, number, number, number],
  }));
  return {
    schemaVersion: PARALLEL_SCHEMA_VERSION,
    kind: 'memory-plan',
    id: resultId(now, model, 'memory-plan'),
    createdAt: now.toISOString(),
    model,
    input: { ...input },
    bytesPerGpu: breakdown.total,
    breakdown,
    byStage,
    curve,
    formulas: formulas(input, act),
    warnings: warnings(input, act),
  };
}
