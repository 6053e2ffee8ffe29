/**
 * The op-type colours of a run, computed once per run and shared by every view so that an op type
 * has the same colour in the Overview bars, the icicle, the Timeline and its legend.
 */
import type { InferenceRun } from '../../../engine/src/schema/run';
import { assignOpTypeColors, OTHER_SLOT } from '../charts/palette';

export interface RunColors {
  /** Palette slot by op type. */
  byOpType: Map<string, number>;
  /** Palette slot by index into `run.ops`. */
  byOp: Int16Array;
}

const cache = new WeakMap<InferenceRun, RunColors>();

/** Colours of a run's op types: busiest op types first get distinct slots. */
export function runColors(run: InferenceRun): RunColors {
  let c = cache.get(run);
  if (!c) {
    const priority = [...run.opTypes].sort((a, b) => b.totalUs - a.totalUs).map((t) => t.opType);
    const byOpType = assignOpTypeColors([...priority, ...run.ops.map((o) => o.opType)]);
    const byOp = Int16Array.from(run.ops, (o) => byOpType.get(o.opType) ?? OTHER_SLOT);
    c = { byOpType, byOp };
    cache.set(run, c);
  }
  return c;
}
