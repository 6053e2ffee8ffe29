/**
 * Share bars: the top op types of a run by kernel time, plus one "other" bar for the rest.
 */
import type { InferenceRun } from '../../../engine/src/schema/run';

export interface ShareBar {
  label: string;
  /** Share of all kernel time (0–1). */
  share: number;
  /** Kernel time over all profiled runs, microseconds. */
  totalUs: number;
  /** Bar length as a fraction of the longest bar (0–1). */
  length: number;
  /** Op type the bar stands for; undefined for "other". */
  opType?: string;
}

/** The `n` op types with the most kernel time, then "other (k op types)" when some remain. */
export function topOpTypeBars(run: InferenceRun, n: number): ShareBar[] {
  const total = run.opTypes.reduce((s, t) => s + t.totalUs, 0);
  const sorted = [...run.opTypes].sort((a, b) => b.totalUs - a.totalUs);
  const bars: ShareBar[] = sorted.slice(0, n).map((t) => ({ label: t.opType, opType: t.opType, totalUs: t.totalUs, share: total > 0 ? t.totalUs / total : 0, length: 0 }));
  const rest = sorted.slice(n);
  if (rest.length) {
    const us = rest.reduce((s, t) => s + t.totalUs, 0);
    bars.push({ label: `other (${rest.length} op type${rest.length === 1 ? '' : 's'})`, totalUs: us, share: total > 0 ? us / total : 0, length: 0 });
  }
  const longest = Math.max(0, ...bars.map((b) => b.share));
  for (const b of bars) b.length = longest > 0 ? b.share / longest : 0;
  return bars;
}
