/** Percentile by linear interpolation between closest ranks (numpy's default). `p` in [0, 100]. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}

export function mean(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}

/** The timing figures every result records: p50, p90, mean, min, max and the samples (all 0 when there are none). */
export function timingSummary(samples: number[]): { p50: number; p90: number; mean: number; min: number; max: number; samples: number[] } {
  if (samples.length === 0) return { p50: 0, p90: 0, mean: 0, min: 0, max: 0, samples: [] };
  return { p50: percentile(samples, 50), p90: percentile(samples, 90), mean: mean(samples), min: Math.min(...samples), max: Math.max(...samples), samples };
}
