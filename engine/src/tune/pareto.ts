/**
 * Pareto front and best pick of tuning trials. Pure: points in, ids out. Lower latency, higher
 * accuracy and smaller size are better; one point dominates another when it is no worse on all
 * three and better on at least one.
 */

export interface TrialPoint {
  id: string;
  /** Any latency-like figure where lower is better (the tuner passes 1 / speedup). */
  latency: number;
  /** Higher is better (0..1). */
  accuracy: number;
  /** Bytes; lower is better. */
  sizeBytes: number;
}

/** Whether `a` is no worse than `b` on every axis and strictly better on one. */
export function dominates(a: TrialPoint, b: TrialPoint): boolean {
  const noWorse = a.latency <= b.latency && a.accuracy >= b.accuracy && a.sizeBytes <= b.sizeBytes;
  const better = a.latency < b.latency || a.accuracy > b.accuracy || a.sizeBytes < b.sizeBytes;
  return noWorse && better;
}

/** Ids of the points no other point dominates, in input order (equal points are all kept). */
export function paretoFront(points: readonly TrialPoint[]): string[] {
  return points.filter((p) => !points.some((q) => q !== p && dominates(q, p))).map((p) => p.id);
}

/**
 * Latencies within this fraction of the fastest count as a tie: interleaved p50s of two models that
 * close are inside the noise of a short timing, and the smaller file is the better keep.
 */
export const LATENCY_TIE = 0.02;

/**
 * The best point: the fastest; among those within `tie` of it, the smallest file, then the more
 * accurate, then the faster, then the earlier. Null for no points.
 */
export function pickBest(points: readonly TrialPoint[], tie = LATENCY_TIE): string | null {
  if (points.length === 0) return null;
  const fastest = Math.min(...points.map((p) => p.latency));
  const tied = points.filter((p) => p.latency <= fastest * (1 + tie));
  const ranked = [...tied].sort((a, b) => a.sizeBytes - b.sizeBytes || b.accuracy - a.accuracy || a.latency - b.latency);
  return ranked[0]!.id;
}

/**
 * Trials in a row, ending with the latest, that added nothing to the Pareto front — the count
 * early stopping compares with its patience. `admitted` holds the points within budget, in trial
 * order, and `trialIds` every trial's id in order. While nothing is within budget the count stays
 * 0: each trial could be the first to meet the budget, and stopping then would leave the user
 * with nothing kept and the untried candidates unknown.
 */
export function trialsWithoutGain(trialIds: readonly string[], admitted: readonly TrialPoint[]): number {
  let run = 0;
  for (const [i, id] of trialIds.entries()) {
    const upTo = new Set(trialIds.slice(0, i + 1));
    const front = paretoFront(admitted.filter((p) => upTo.has(p.id)));
    run = front.length === 0 || front.includes(id) ? 0 : run + 1;
  }
  return run;
}
