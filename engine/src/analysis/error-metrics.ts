/**
 * Error between a reference tensor and an approximation of it (a quantized or pruned model's value
 * of the same tensor), in the measures PyTorch's Numeric Suite and ONNX Runtime's qdq_loss_debug
 * report. Pure functions over flat arrays; accumulation in float64.
 */

/** Differences of two tensors of equal length. */
export interface ErrorMetrics {
  /** Signal-to-quantization-noise ratio, dB: 10·log10(Σref² / Σ(ref−approx)²). Infinity when equal. */
  sqnrDb: number;
  /** Mean squared error. */
  mse: number;
  /** Cosine similarity of the two as vectors; 1 when both are all zero. */
  cosine: number;
  /** Largest absolute difference. */
  maxAbs: number;
}

type Floats = ArrayLike<number>;

function checkLengths(ref: Floats, approx: Floats): void {
  if (ref.length !== approx.length) throw new RangeError(`tensors differ in size: ${ref.length} vs ${approx.length} elements`);
}

export function errorMetrics(ref: Floats, approx: Floats): ErrorMetrics {
  const acc = newErrorAccumulator();
  accumulateError(acc, ref, approx);
  return finishError(acc);
}

/** Running sums from which ErrorMetrics follow; lets a tensor's error be measured batch by batch. */
export interface ErrorAccumulator {
  signal: number;
  noise: number;
  dot: number;
  approxSq: number;
  maxAbs: number;
  count: number;
}

export function newErrorAccumulator(): ErrorAccumulator {
  return { signal: 0, noise: 0, dot: 0, approxSq: 0, maxAbs: 0, count: 0 };
}

export function accumulateError(acc: ErrorAccumulator, ref: Floats, approx: Floats): void {
  checkLengths(ref, approx);
  for (let i = 0; i < ref.length; i++) {
    const r = ref[i]!;
    const a = approx[i]!;
    const d = r - a;
    acc.signal += r * r;
    acc.noise += d * d;
    acc.dot += r * a;
    acc.approxSq += a * a;
    const ad = Math.abs(d);
    if (ad > acc.maxAbs || Number.isNaN(ad)) acc.maxAbs = ad;
  }
  acc.count += ref.length;
}

export function finishError(acc: ErrorAccumulator): ErrorMetrics {
  return {
    sqnrDb: sqnrFromEnergies(acc.signal, acc.noise),
    mse: acc.noise / Math.max(acc.count, 1),
    cosine: acc.signal === 0 && acc.approxSq === 0 ? 1 : acc.dot / Math.sqrt(acc.signal * acc.approxSq),
    maxAbs: acc.maxAbs,
  };
}

/** SQNR in dB from Σsignal² and Σnoise²; Infinity for no noise, -Infinity for no signal. */
export function sqnrFromEnergies(signal: number, noise: number): number {
  if (noise === 0) return Infinity;
  if (signal === 0) return -Infinity;
  return 10 * Math.log10(signal / noise);
}

/** Index of the largest value in each row of length `width` (the last axis). */
export function argmaxRows(values: Floats, width: number): Int32Array {
  if (width <= 0 || values.length % width !== 0) throw new RangeError(`cannot split ${values.length} values into rows of ${width}`);
  const rows = values.length / width;
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    let bestValue = -Infinity;
    for (let c = 0; c < width; c++) {
      const v = values[r * width + c]!;
      if (v > bestValue) {
        bestValue = v;
        best = c;
      }
    }
    out[r] = best;
  }
  return out;
}

/** Fraction of rows (last axis of width `width`) whose argmax is the same in both tensors. */
export function top1Agreement(ref: Floats, approx: Floats, width: number): number {
  checkLengths(ref, approx);
  const a = argmaxRows(ref, width);
  const b = argmaxRows(approx, width);
  if (a.length === 0) return 1;
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return same / a.length;
}

/** Counts of values in `bins` equal-width bins over [lo, hi]; values outside are clamped in. */
export interface Histogram {
  lo: number;
  hi: number;
  counts: number[];
}

export function histogram(values: Floats, bins: number, range?: { lo: number; hi: number }): Histogram {
  let lo = range?.lo ?? Infinity;
  let hi = range?.hi ?? -Infinity;
  if (!range) {
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return { lo: 0, hi: 0, counts: new Array(bins).fill(0) };
  const counts = new Array<number>(bins).fill(0);
  const width = hi - lo;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isNaN(v)) continue;
    const b = width > 0 ? Math.floor(((v - lo) / width) * bins) : 0;
    counts[Math.min(bins - 1, Math.max(0, b))]++;
  }
  return { lo, hi, counts };
}
