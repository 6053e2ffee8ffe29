/**
 * GPTQ (Frantar et al. 2022, "GPTQ: Accurate Post-Training Quantization for Generative Pre-trained
 * Transformers") for one [K, N] weight of `y = x · W`, producing MatMulNBits blocks.
 *
 * The layer's output error on calibration inputs X (rows × K) is ‖X·W − X·Ŵ‖², whose Hessian with
 * respect to each output column is H = 2·XᵀX / rows (K × K, shared by all columns). GPTQ quantizes
 * the inputs k = 0..K−1 one at a time (each is one row of W here) and spreads the rounding error of
 * row k over the rows not yet quantized, weighted by the upper Cholesky factor U of H⁻¹:
 * W[j] −= (W[k] − Ŵ[k]) / U[k,k] · U[k,j] for j > k. Scales and zero points of a block are chosen
 * when the loop enters the block, from the rows as updated so far, so Ŵ is exactly representable in
 * MatMulNBits' per-block layout.
 *
 * The paper's "lazy batch" updates reorder these same operations (same result up to rounding) so
 * that W is streamed through memory once per batch of rows instead of once per row.
 * Everything is float64: H can be badly conditioned and fp32 Cholesky fails on real activations.
 */
import { TwbError } from '../util/errors';
import { BlockParams, blockParams, dequantizeValue, Int4Blocks, packInt4, quantizeValue, ScaleRounding } from './int4-math';

/** Running sum for H = 2·XᵀX / rows over calibration batches. */
export interface HessianSum {
  /** Input dimension K. */
  k: number;
  /** Σ xᵀx over all rows seen, K × K row-major; only the upper triangle is filled until `finishHessian`. */
  xtx: Float64Array;
  /** Rows (activation vectors) seen so far. */
  rows: number;
}

export function newHessian(k: number): HessianSum {
  return { k, xtx: new Float64Array(k * k), rows: 0 };
}

/** Rows per lazy GPTQ batch (the paper uses 128). */
const LAZY_ROWS = 128;

/** Rows folded into the sum at a time: the K² sum is read once per tile instead of once per row. */
const HESSIAN_TILE = 64;

/** Adds `rows` activation vectors (`x` is rows × K, row-major) to the running sum. */
export function addToHessian(h: HessianSum, x: ArrayLike<number>, rows: number, k: number): void {
  if (k !== h.k) throw new TwbError('internal', `activation width ${k} does not match the Hessian's input dimension ${h.k}`);
  if (x.length < rows * k) throw new TwbError('internal', `${x.length} activation values cannot hold ${rows} rows of ${k}`);
  const s = h.xtx;
  const cols = new Float64Array(k * HESSIAN_TILE); // the tile transposed: column i's values contiguous
  for (let r0 = 0; r0 < rows; r0 += HESSIAN_TILE) {
    const t = Math.min(HESSIAN_TILE, rows - r0);
    for (let r = 0; r < t; r++) for (let i = 0; i < k; i++) cols[i * t + r] = x[(r0 + r) * k + i]!;
    for (let i = 0; i < k; i++) {
      const ci = i * t;
      const base = i * k;
      for (let j = i; j < k; j++) {
        const cj = j * t;
        let dot = 0;
        for (let r = 0; r < t; r++) dot += cols[ci + r]! * cols[cj + r]!;
        s[base + j] += dot;
      }
    }
  }
  h.rows += rows;
}

/** H = 2·XᵀX / rows as a full symmetric K × K matrix. */
export function finishHessian(h: HessianSum): Float64Array {
  const { k } = h;
  const out = new Float64Array(k * k);
  const f = h.rows > 0 ? 2 / h.rows : 0;
  for (let i = 0; i < k; i++) {
    for (let j = i; j < k; j++) {
      const v = h.xtx[i * k + j]! * f;
      out[i * k + j] = v;
      out[j * k + i] = v;
    }
  }
  return out;
}

/** What GPTQ needs from a Hessian; computed once and shared by all weights that read the same input. */
export interface GptqFactor {
  k: number;
  /** Upper Cholesky factor U of the dampened H⁻¹ (H⁻¹ = UᵀU), K × K row-major. */
  u: Float64Array;
  /** Inputs that never fired in calibration (H_ii = 0): their weight rows are set to 0. */
  dead: Uint8Array;
  /** Dampening added to the diagonal, as a fraction of its mean (grows when Cholesky fails). */
  damp: number;
}

/**
 * Prepares H for GPTQ: dead inputs get H_ii = 1, `dampFraction` of the mean diagonal is added
 * (the paper's 1%), and U = chol(H⁻¹) upper is computed. When H is not positive definite even so
 * (rank-deficient calibration data), dampening is raised tenfold and retried.
 */
export function prepareGptq(hessian: Float64Array, k: number, dampFraction = 0.01): GptqFactor {
  const h = Float64Array.from(hessian);
  const dead = new Uint8Array(k);
  let mean = 0;
  for (let i = 0; i < k; i++) {
    if (h[i * k + i] === 0) {
      dead[i] = 1;
      h[i * k + i] = 1;
    }
    mean += h[i * k + i]! / k;
  }
  // H⁻¹ = UᵀU needs U = V⁻¹ where H = V·Vᵀ with V upper: the Cholesky factor of H with its index
  // order reversed (J·H·J = L·Lᵀ gives V = J·L·J). One factorization and one triangular inverse
  // instead of factor, invert, multiply and factor again.
  for (let damp = dampFraction; damp <= 10; damp *= 10) {
    const a = reversed(h, k);
    for (let i = 0; i < k; i++) a[i * k + i] += damp * mean;
    if (!choleskyLower(a, k)) continue;
    return { k, u: reversed(lowerInverse(a, k), k), dead, damp };
  }
  throw new TwbError('internal', `GPTQ: the Hessian of a ${k}-input layer is not positive definite even with heavy dampening`);
}

/**
 * Quantizes a [K, N] row-major weight with GPTQ. Returns the MatMulNBits blocks and the dequantized
 * weight they stand for.
 */
export function gptqQuantize(
  weight: ArrayLike<number>,
  k: number,
  n: number,
  factor: GptqFactor,
  opts: { blockSize: number; symmetric: boolean; round?: ScaleRounding },
): { blocks: Int4Blocks; dequantized: Float32Array } {
  if (factor.k !== k) throw new TwbError('internal', `GPTQ factor is for ${factor.k} inputs, the weight has ${k}`);
  const { blockSize, symmetric } = opts;
  const nBlocks = Math.ceil(k / blockSize);
  const w = Float64Array.from(weight as ArrayLike<number>);
  for (let r = 0; r < k; r++) if (factor.dead[r]) w.fill(0, r * n, (r + 1) * n);
  const codes = new Uint8Array(k * n);
  const scales = new Float32Array(n * nBlocks);
  const zps = new Uint8Array(n * nBlocks);
  const deq = new Float32Array(k * n);
  const params: BlockParams[] = new Array(n);
  const u = factor.u;
  // Lazy batches: rows inside a batch are updated at once, rows after it once per batch (from the
  // batch's accumulated errors), so W streams through the cache K/lazy times instead of K times.
  // A batch is a whole number of quantization blocks, so every block's rows are current when its
  // scales are chosen.
  const lazy = Math.max(blockSize, LAZY_ROWS);
  const errs = new Float64Array(lazy * n);
  for (let b0 = 0; b0 < k; b0 += lazy) {
    const b1 = Math.min(k, b0 + lazy);
    for (let r = b0; r < b1; r++) {
      if (r % blockSize === 0) {
        const b = r / blockSize;
        const rows = Math.min(blockSize, k - r);
        for (let c = 0; c < n; c++) {
          const p = blockParams(w, r * n + c, rows, n, symmetric, opts.round);
          params[c] = p;
          scales[c * nBlocks + b] = p.scale;
          zps[c * nBlocks + b] = p.zeroPoint;
        }
      }
      const d = u[r * k + r]!;
      const e = (r - b0) * n;
      for (let c = 0; c < n; c++) {
        const v = w[r * n + c]!;
        const q = quantizeValue(v, params[c]!);
        codes[r * n + c] = q;
        const dq = dequantizeValue(q, params[c]!);
        deq[r * n + c] = dq;
        errs[e + c] = (v - dq) / d;
      }
      for (let j = r + 1; j < b1; j++) axpy(w, j * n, errs, e, -u[r * k + j]!, n);
    }
    for (let j = b1; j < k; j++) deferredUpdate(w, j * n, errs, u, b0, b1, j, k, n);
  }
  return { blocks: packInt4(codes, scales, symmetric ? undefined : zps, k, n, blockSize), dequantized: deq };
}

/** W[j] −= Σ_{r∈[b0,b1)} U[r][j] · err[r], four rows of errors per pass over W[j]. */
function deferredUpdate(w: Float64Array, wo: number, errs: Float64Array, u: Float64Array, b0: number, b1: number, j: number, k: number, n: number): void {
  let r = b0;
  for (; r + 4 <= b1; r += 4) {
    const [f0, f1, f2, f3] = [u[r * k + j]!, u[(r + 1) * k + j]!, u[(r + 2) * k + j]!, u[(r + 3) * k + j]!];
    const e = (r - b0) * n;
    for (let c = 0; c < n; c++) w[wo + c] -= f0 * errs[e + c]! + f1 * errs[e + n + c]! + f2 * errs[e + 2 * n + c]! + f3 * errs[e + 3 * n + c]!;
  }
  for (; r < b1; r++) axpy(w, wo, errs, (r - b0) * n, -u[r * k + j]!, n);
}

/** y[yo..yo+n) += f · x[xo..xo+n). */
function axpy(y: Float64Array, yo: number, x: Float64Array, xo: number, f: number, n: number): void {
  if (f === 0) return;
  for (let c = 0; c < n; c++) y[yo + c] += f * x[xo + c]!;
}

/**
 * Rows handled together by the factorizations: a tile's rows stay in cache while every earlier row
 * is read once per tile instead of once per row (the matrices are megabytes for K = 1024).
 */
const TILE = 32;

/** In place: the lower triangle of `a` becomes L with a = L·Lᵀ (row by row). False when `a` is not positive definite. */
function choleskyLower(a: Float64Array, k: number): boolean {
  const dot = (ri: number, rj: number, len: number) => {
    let t = 0;
    for (let p = 0; p < len; p++) t += a[ri + p]! * a[rj + p]!;
    return t;
  };
  for (let i0 = 0; i0 < k; i0 += TILE) {
    const i1 = Math.min(k, i0 + TILE);
    for (let j = 0; j < i0; j++) {
      const rj = j * k;
      for (let i = i0; i < i1; i++) a[i * k + j] = (a[i * k + j]! - dot(i * k, rj, j)) / a[rj + j]!;
    }
    for (let i = i0; i < i1; i++) {
      const ri = i * k;
      for (let j = i0; j < i; j++) a[ri + j] = (a[ri + j]! - dot(ri, j * k, j)) / a[j * k + j]!;
      const s = a[ri + i]! - dot(ri, ri, i);
      if (!(s > 0) || !Number.isFinite(s)) return false;
      a[ri + i] = Math.sqrt(s);
    }
  }
  for (let i = 0; i < k; i++) a.fill(0, i * k + i + 1, (i + 1) * k);
  return true;
}

/** L⁻¹ (lower) of a lower-triangular L: M[i][j] = −(Σ_{p=j}^{i−1} L[i][p]·M[p][j]) / L[i][i]. */
function lowerInverse(l: Float64Array, k: number): Float64Array {
  const m = new Float64Array(k * k);
  const subtract = (i: number, p: number) => axpy(m, i * k, m, p * k, -l[i * k + p]!, p + 1);
  for (let i0 = 0; i0 < k; i0 += TILE) {
    const i1 = Math.min(k, i0 + TILE);
    for (let p = 0; p < i0; p++) for (let i = i0; i < i1; i++) subtract(i, p);
    for (let i = i0; i < i1; i++) {
      for (let p = i0; p < i; p++) subtract(i, p);
      const inv = 1 / l[i * k + i]!;
      for (let j = i * k; j < i * k + i; j++) m[j] *= inv;
      m[i * k + i] = inv;
    }
  }
  return m;
}

/** J·A·J: both index orders reversed (J is the reversal permutation). */
function reversed(a: Float64Array, k: number): Float64Array {
  const out = new Float64Array(k * k);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) out[(k - 1 - i) * k + (k - 1 - j)] = a[i * k + j]!;
  return out;
}
