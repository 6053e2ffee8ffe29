/**
 * Activation ranges for static quantization, estimated from values captured on calibration inputs.
 * Pure functions over `CapturedTensor`s, following ONNX Runtime's calibrate.py:
 *
 * - `minmax`: the observed [min, max];
 * - `percentile`: the range that keeps `percentile` % of the values (default 99.999), read from a
 *   histogram. By default, as ORT's default (`symmetric=False`), the values' histogram with
 *   (100 − p) / 2 % cut off each tail; with `symmetric`, the p-th percentile t of |x| giving [−t, t];
 * - `entropy`: the symmetric clipping threshold whose 128-level quantization of the histogram
 *   loses the least information (KL divergence), as TensorRT's and ORT's entropy calibrators.
 *
 * Every histogram range is clamped to the observed [min, max], as ORT does, so a one-sided
 * activation (after GELU) keeps its small negative side instead of a mirrored copy of the positive.
 * Histograms are accumulated batch by batch into a fixed number of bins, so memory stays bounded
 * however many batches there are. NaN and ±Infinity are ignored.
 */
import { CapturedTensor } from './types';
import { TwbError, choices } from '../util/errors';

export const CALIBRATION_METHODS = ['minmax', 'percentile', 'entropy'] as const;
export type CalibrationMethod = (typeof CALIBRATION_METHODS)[number];

/** A range of real values, in the tensor's own unit. */
export interface ValueRange {
  lo: number;
  hi: number;
}

export interface CalibrationOptions {
  /** Percent of values kept by `percentile`, in (0, 100]. Default 99.999. */
  percentile?: number;
  /** `percentile` on |x| instead of on the values. Default false. */
  symmetric?: boolean;
  /** Histogram bins (even, multiple of 4). Default 2048. */
  bins?: number;
  /** Quantization levels the `entropy` search compares against. Default 128. */
  quantLevels?: number;
}

/**
 * A histogram over [−limit, limit] with a fixed number of bins, filled batch by batch. When a batch
 * exceeds the limit, the limit doubles and neighbouring bins merge in pairs, which keeps every
 * count exact (the old edges are new edges). Seed `limit` with the known |max| to avoid doublings.
 */
export class StreamingHistogram {
  readonly counts: Float64Array;
  /** Observed extremes of all finite values added. */
  min = Infinity;
  max = -Infinity;
  /** Values seen while the limit was still 0 (all of them zero). */
  private zeros = 0;

  constructor(
    readonly bins = 2048,
    private lim = 0,
  ) {
    if (bins < 4 || bins % 4 !== 0) throw new TwbError('usage', `histogram bins must be a positive multiple of 4, got ${bins}`);
    this.counts = new Float64Array(bins);
  }

  /** Half-width of the histogram's range. */
  get limit(): number {
    return this.lim;
  }

  /** Width of one bin. */
  get binWidth(): number {
    return (2 * this.lim) / this.bins;
  }

  get total(): number {
    return this.counts.reduce((a, b) => a + b, 0) + this.zeros;
  }

  add(values: ArrayLike<number>): void {
    let absMax = 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (!Number.isFinite(v)) continue;
      if (v < this.min) this.min = v;
      if (v > this.max) this.max = v;
      if (Math.abs(v) > absMax) absMax = Math.abs(v);
    }
    if (this.lim === 0 && absMax > 0) this.lim = absMax;
    while (absMax > this.lim) this.double();
    if (this.lim > 0 && this.zeros > 0) {
      this.counts[this.bins / 2] += this.zeros;
      this.zeros = 0;
    }
    const b = this.bins;
    const scale = b / (2 * this.lim);
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (!Number.isFinite(v)) continue;
      if (this.lim === 0) this.zeros++;
      else this.counts[Math.min(b - 1, Math.max(0, Math.floor((v + this.lim) * scale)))]++;
    }
  }

  private double(): void {
    const b = this.bins;
    const merged = new Float64Array(b);
    for (let i = 0; i < b / 2; i++) merged[b / 4 + i] = this.counts[2 * i]! + this.counts[2 * i + 1]!;
    this.counts.set(merged);
    this.lim *= 2;
  }
}

/** [min, max] of all batches. An all-NaN or empty tensor gives [0, 0]. */
export function minMaxRange(t: CapturedTensor): ValueRange {
  let lo = Infinity;
  let hi = -Infinity;
  for (const batch of t.data) {
    for (let i = 0; i < batch.length; i++) {
      const v = batch[i]!;
      if (!Number.isFinite(v)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  return lo <= hi ? { lo, hi } : { lo: 0, hi: 0 };
}

/** The histogram of all batches, its limit seeded with the exact |max| (one cheap pass) so no bins are wasted. */
export function histogramOf(t: CapturedTensor, bins = 2048): StreamingHistogram {
  const { lo, hi } = minMaxRange(t);
  const h = new StreamingHistogram(bins, Math.max(Math.abs(lo), Math.abs(hi)));
  for (const batch of t.data) h.add(batch);
  return h;
}

function clampToObserved(h: StreamingHistogram, lo: number, hi: number): ValueRange {
  if (h.min > h.max) return { lo: 0, hi: 0 };
  return { lo: Math.max(lo, h.min), hi: Math.min(hi, h.max) };
}

/** See the file comment. Edges are taken outward (the bin where the cumulative share crosses is kept). */
export function percentileRange(h: StreamingHistogram, percentile = 99.999, symmetric = false): ValueRange {
  if (!(percentile > 0 && percentile <= 100)) throw new TwbError('usage', `percentile must be in (0, 100], got ${percentile}`);
  const total = h.total;
  if (total === 0 || h.limit === 0) return clampToObserved(h, 0, 0);
  const w = h.binWidth;
  const b = h.bins;
  if (symmetric) {
    // Fold the signed histogram onto |x|: bins b/2 + j and b/2 − 1 − j both hold |x| in [j·w, (j+1)·w).
    const target = (percentile / 100) * total;
    let acc = 0;
    for (let j = 0; j < b / 2; j++) {
      acc += h.counts[b / 2 + j]! + h.counts[b / 2 - 1 - j]!;
      if (acc >= target) return clampToObserved(h, -(j + 1) * w, (j + 1) * w);
    }
    return clampToObserved(h, -h.limit, h.limit);
  }
  const cut = ((100 - percentile) / 200) * total;
  let left = 0;
  for (let acc = 0; left < b - 1; left++) if ((acc += h.counts[left]!) > cut) break;
  let right = b - 1;
  for (let acc = 0; right > 0; right--) if ((acc += h.counts[right]!) > cut) break;
  return clampToObserved(h, -h.limit + left * w, -h.limit + (right + 1) * w);
}

/**
 * The symmetric threshold t minimizing KL(P ‖ Q), where P is the histogram inside [−t, t] with the
 * outliers folded into its end bins and Q is P merged into `quantLevels` levels and spread back
 * evenly over the bins P has values in (TensorRT's formulation; ORT's calibrate.py spreads over
 * the same bins). Candidates are every bin edge from `quantLevels / 2` bins out to the limit.
 */
export function entropyRange(h: StreamingHistogram, quantLevels = 128): ValueRange {
  const b = h.bins;
  const zero = b / 2;
  const half = Math.floor(quantLevels / 2);
  if (h.total === 0 || h.limit === 0 || half < 1 || half > zero) return clampToObserved(h, -h.limit, h.limit);
  const counts = h.counts;
  const prefix = new Float64Array(b + 1);
  for (let i = 0; i < b; i++) prefix[i + 1] = prefix[i]! + counts[i]!;
  let best = zero;
  let bestKl = Infinity;
  const p = new Float64Array(b);
  const q = new Float64Array(b);
  for (let i = half; i <= zero; i++) {
    const start = zero - i;
    const len = 2 * i;
    for (let j = 0; j < len; j++) p[j] = counts[start + j]!;
    p[0] += prefix[start]!;
    p[len - 1] += prefix[b]! - prefix[start + len]!;
    quantizeDistribution(p, q, len, quantLevels, counts, start);
    const kl = smoothedKl(p, q, len);
    if (kl < bestKl) {
      bestKl = kl;
      best = i;
    }
  }
  const t = best * h.binWidth;
  return clampToObserved(h, -t, t);
}

/** Q for the window: the window's (unfolded) counts merged into `levels` groups and spread over P's nonzero bins. */
function quantizeDistribution(p: Float64Array, q: Float64Array, len: number, levels: number, counts: Float64Array, start: number): void {
  const per = Math.floor(len / levels);
  for (let l = 0; l < levels; l++) {
    const from = l * per;
    const to = l === levels - 1 ? len : from + per; // the last level takes the remainder
    let sum = 0;
    let nonzero = 0;
    for (let j = from; j < to; j++) {
      sum += counts[start + j]!;
      if (p[j] !== 0) nonzero++;
    }
    const each = nonzero > 0 ? sum / nonzero : 0;
    for (let j = from; j < to; j++) q[j] = p[j] !== 0 ? each : 0;
  }
}

/** KL(P ‖ Q) of the normalized distributions after ORT's smoothing (ε = 1e-4 moved onto zero bins). */
function smoothedKl(p: Float64Array, q: Float64Array, len: number): number {
  const ps = smooth(p, len);
  const qs = smooth(q, len);
  if (!ps || !qs) return Infinity;
  let kl = 0;
  for (let j = 0; j < len; j++) if (ps.v[j]! > 0) kl += (ps.v[j]! / ps.sum) * Math.log((ps.v[j]! / ps.sum) / (qs.v[j]! / qs.sum));
  return kl;
}

function smooth(x: Float64Array, len: number): { v: Float64Array; sum: number } | undefined {
  const eps = 1e-4;
  let zeros = 0;
  for (let j = 0; j < len; j++) if (x[j] === 0) zeros++;
  const nonzeros = len - zeros;
  if (nonzeros === 0) return undefined;
  const eps1 = (eps * zeros) / nonzeros;
  const v = new Float64Array(len);
  let sum = 0;
  for (let j = 0; j < len; j++) {
    v[j] = x[j] === 0 ? eps : x[j]! - eps1;
    sum += v[j]!;
  }
  return { v, sum };
}

/** The range of one captured tensor by `method`. */
export function calibrateRange(t: CapturedTensor, method: CalibrationMethod, opts: CalibrationOptions = {}): ValueRange {
  switch (method) {
    case 'minmax':
      return minMaxRange(t);
    case 'percentile':
      return percentileRange(histogramOf(t, opts.bins), opts.percentile, opts.symmetric);
    case 'entropy':
      return entropyRange(histogramOf(t, opts.bins), opts.quantLevels);
    default:
      throw new TwbError('usage', `unknown calibration method "${String(method)}"; ${choices(CALIBRATION_METHODS)}`);
  }
}
