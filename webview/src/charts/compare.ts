/**
 * Two runs side by side: headline deltas and per-op-type kernel time deltas, with regressions and
 * improvements flagged. Times are per inference (summed kernel time over the profiled runs divided
 * by their count) so that runs with different numbers of profiled runs compare fairly.
 */
import type { InferenceRun } from '../../../engine/src/schema/run';

/** A change counts when it is larger than this fraction of the base value… */
export const REGRESSION_FRACTION = 0.05;
/** …and, for times, larger than this, microseconds. */
export const REGRESSION_MIN_US = 10;

export type DeltaFlag = 'regression' | 'improvement' | null;

export interface OpTypeDelta {
  opType: string;
  domain: string;
  /** Kernel time per inference in the base run, microseconds (0 if absent there). */
  baseUs: number;
  /** Kernel time per inference in the other run, microseconds (0 if absent there). */
  otherUs: number;
  /** otherUs − baseUs, microseconds. */
  deltaUs: number;
  /** deltaUs / baseUs; ±Infinity when the op type is new, NaN when both are 0. */
  deltaFraction: number;
  flag: DeltaFlag;
  /** Present in only one of the runs. */
  only?: 'base' | 'other';
}

/** Profiled runs behind a run's per-op totals (at least 1). */
export function profiledRunCount(run: InferenceRun): number {
  return Math.max(1, run.trace.runUs.length || run.config.profiledRuns || 1);
}

/** Sum of all kernel time per inference, microseconds. */
export function kernelUsPerInference(run: InferenceRun): number {
  return run.opTypes.reduce((s, t) => s + t.totalUs, 0) / profiledRunCount(run);
}

/** Flags a lower-is-better change: both above `REGRESSION_FRACTION` and above `minAbs` (in the value's unit). */
export function flagDelta(base: number, other: number, minAbs: number): DeltaFlag {
  const delta = other - base;
  if (Math.abs(delta) <= minAbs) return null;
  const fraction = base > 0 ? Math.abs(delta) / base : Infinity;
  if (fraction <= REGRESSION_FRACTION) return null;
  return delta > 0 ? 'regression' : 'improvement';
}

/** Per-op-type deltas from `base` to `other`, sorted by absolute change (largest first). */
export function compareOpTypes(base: InferenceRun, other: InferenceRun): OpTypeDelta[] {
  const key = (t: { opType: string; domain: string }) => `${t.domain}::${t.opType}`;
  const nb = profiledRunCount(base);
  const no = profiledRunCount(other);
  const rows = new Map<string, OpTypeDelta>();
  for (const t of base.opTypes) rows.set(key(t), { opType: t.opType, domain: t.domain, baseUs: t.totalUs / nb, otherUs: 0, deltaUs: 0, deltaFraction: 0, flag: null, only: 'base' });
  for (const t of other.opTypes) {
    const r = rows.get(key(t));
    if (r) {
      r.otherUs = t.totalUs / no;
      delete r.only;
    } else rows.set(key(t), { opType: t.opType, domain: t.domain, baseUs: 0, otherUs: t.totalUs / no, deltaUs: 0, deltaFraction: 0, flag: null, only: 'other' });
  }
  const out = [...rows.values()];
  for (const r of out) {
    r.deltaUs = r.otherUs - r.baseUs;
    r.deltaFraction = r.baseUs > 0 ? r.deltaUs / r.baseUs : r.deltaUs === 0 ? NaN : Math.sign(r.deltaUs) * Infinity;
    r.flag = flagDelta(r.baseUs, r.otherUs, REGRESSION_MIN_US);
  }
  return out.sort((a, b) => Math.abs(b.deltaUs) - Math.abs(a.deltaUs) || a.opType.localeCompare(b.opType));
}

/** Unit of a headline figure, for formatting. */
export type HeadlineUnit = 'us' | 'bytes';

export interface HeadlineDelta {
  label: string;
  unit: HeadlineUnit;
  base: number;
  other: number;
  delta: number;
  /** delta / base; NaN when base is 0. */
  deltaFraction: number;
  flag: DeltaFlag;
}

/**
 * Headline figures of both runs: latency p50/p90 (unprofiled, microseconds), total kernel time per
 * inference (microseconds) and peak memory (bytes; left out when either run has no memory figures).
 */
export function compareHeadline(base: InferenceRun, other: InferenceRun): HeadlineDelta[] {
  const row = (label: string, unit: HeadlineUnit, a: number, b: number, minAbs: number): HeadlineDelta => ({
    label,
    unit,
    base: a,
    other: b,
    delta: b - a,
    deltaFraction: a > 0 ? (b - a) / a : NaN,
    flag: flagDelta(a, b, minAbs),
  });
  const rows = [
    row('latency p50', 'us', base.latencyMs.p50 * 1000, other.latencyMs.p50 * 1000, REGRESSION_MIN_US),
    row('latency p90', 'us', base.latencyMs.p90 * 1000, other.latencyMs.p90 * 1000, REGRESSION_MIN_US),
    row('kernel time per inference', 'us', kernelUsPerInference(base), kernelUsPerInference(other), REGRESSION_MIN_US),
  ];
  if (!base.memory.unavailable && !other.memory.unavailable) rows.push(row('peak memory', 'bytes', base.memory.peakBytes, other.memory.peakBytes, 0));
  return rows;
}

/** Default pair to compare: the previous and the latest run (ids), or undefined with fewer than two runs. */
export function defaultComparePair(runs: readonly InferenceRun[]): { baseId: string; otherId: string } | undefined {
  if (runs.length < 2) return undefined;
  return { baseId: runs[runs.length - 2].id, otherId: runs[runs.length - 1].id };
}
