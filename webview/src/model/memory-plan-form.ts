/**
 * The Memory-plan view's controls as data: N (data-parallel GPUs), the ZeRO stage and a GPU memory
 * size to compare against, parsed from what the user types, and the plan recomputed for them with
 * the engine's pure `planMemory` (no host round trip).
 */
import type { MemoryPlan, ZeroStage } from '../../../engine/src/schema/parallel';
import { ZERO_STAGES } from '../../../engine/src/schema/parallel';
import { planMemory } from '../../../engine/src/analysis/zero-memory';

/** Most GPUs the control accepts (the engine's own limit is far above any cluster). */
export const MAX_GPUS = 1 << 20;
/** Bytes in a GiB: GPU memory is sold in GiB ("80 GB" cards hold 80 GiB). */
export const GIB = 2 ** 30;

export interface MemoryDraft {
  gpus: string;
  zeroStage: string;
  /** GPU memory in GiB; empty for no reference line. */
  gpuGiB: string;
}

export interface MemoryChoice {
  gpus: number;
  zeroStage: ZeroStage;
  /** Bytes of one GPU's memory, when given. */
  gpuBytes?: number;
}

export function memoryDraftOf(plan: MemoryPlan, gpuGiB = ''): MemoryDraft {
  return { gpus: String(plan.input.gpus), zeroStage: String(plan.input.zeroStage), gpuGiB };
}

/** The choice a draft makes, or why it is not one. */
export function parseMemoryDraft(d: MemoryDraft): MemoryChoice | { error: string } {
  const gpus = Number(d.gpus.trim());
  if (!d.gpus.trim() || !Number.isInteger(gpus) || gpus < 1 || gpus > MAX_GPUS) return { error: `N (GPUs) must be a whole number from 1 to ${MAX_GPUS}, got ${JSON.stringify(d.gpus)}` };
  const zeroStage = Number(d.zeroStage) as ZeroStage;
  if (!ZERO_STAGES.includes(zeroStage) || d.zeroStage.trim() === '') return { error: `ZeRO stage must be one of ${ZERO_STAGES.join(', ')}, got ${JSON.stringify(d.zeroStage)}` };
  if (!d.gpuGiB.trim()) return { gpus, zeroStage };
  const gib = Number(d.gpuGiB.trim());
  if (!Number.isFinite(gib) || gib <= 0 || gib > 1e6) return { error: `GPU memory must be a positive number of GiB, got ${JSON.stringify(d.gpuGiB)}` };
  return { gpus, zeroStage, gpuBytes: gib * GIB };
}

/**
 * The plan for another N or ZeRO stage: the same inputs through `planMemory`, keeping the plan's id
 * and time so that the view can tell it apart from a new document. The plan itself when unchanged.
 */
export function replan(plan: MemoryPlan, choice: Pick<MemoryChoice, 'gpus' | 'zeroStage'>): MemoryPlan {
  if (choice.gpus === plan.input.gpus && choice.zeroStage === plan.input.zeroStage) return plan;
  const next = planMemory({ ...plan.input, gpus: choice.gpus, zeroStage: choice.zeroStage }, plan.model, new Date(plan.createdAt));
  return { ...next, id: plan.id, createdAt: plan.createdAt };
}
