/**
 * Block-wise 4-bit weight arithmetic in the exact layout of ONNX Runtime's com.microsoft
 * MatMulNBits (bits = 4), so that the values a pass reports as "after" are the values ORT multiplies.
 *
 * A weight W of shape [K, N] (`y = x · W`) is quantized per output column n in blocks of
 * `blockSize` consecutive inputs k. Block b of column n stores:
 * - codes q in [0, 15]: B[n][b][j] holds k = b·bs + 2j in its low nibble and 2j + 1 in its high one;
 * - one scale: scales[n·nBlocks + b];
 * - one zero point zp in [0, 15], packed two per byte per column (zero_points[n·ceil(nBlocks/2) + b/2],
 *   low nibble first), or none for symmetric blocks, where ORT uses 8.
 * The real value is (q − zp) · scale. A K that is not a multiple of the block size is padded with
 * codes equal to the zero point (real 0); ORT reads only the first K of them.
 *
 * Scale and zero point follow MLAS (`range2scalezp` / `range2scale` in q4_dq.cpp): asymmetric blocks
 * stretch [min, max] to include 0 and use 15 steps; symmetric blocks map the value of largest
 * magnitude to code 0 (scale = that value / −8), so the block uses all 16 codes.
 */

/** Values a 4-bit code can take: 0..15. */
export const INT4_MAX = 15;
/** The zero point ORT assumes when MatMulNBits has no zero_points input. */
export const INT4_SYMMETRIC_ZERO_POINT = 8;
/**
 * Block sizes MatMulNBits accepts: the spec asks for a power of two ≥ 16 and ONNX Runtime (1.30)
 * refuses to load anything above 256.
 */
export const INT4_BLOCK_SIZES = [16, 32, 64, 128, 256] as const;

/** A [K, N] weight in MatMulNBits form. */
export interface Int4Blocks {
  /** Input (reduction) dimension of the weight. */
  k: number;
  /** Output dimension of the weight. */
  n: number;
  /** Inputs per block (power of two ≥ 16). */
  blockSize: number;
  /** Blocks per column: ceil(K / blockSize). */
  nBlocks: number;
  /** Codes, shape [N, nBlocks, blockSize / 2], two per byte, low nibble first. */
  packed: Uint8Array;
  /** One scale per block, [N · nBlocks], column n's blocks consecutive. */
  scales: Float32Array;
  /** Packed zero points, [N · ceil(nBlocks / 2)]; absent for symmetric quantization (zero point 8). */
  zeroPoints?: Uint8Array;
}

/** Scale and zero point of one block: real = (q − zeroPoint) · scale. */
export interface BlockParams {
  scale: number;
  zeroPoint: number;
}

/**
 * How a stored scale is rounded: fp32 for fp32 models; fp16 when the activation (and so the scale,
 * which MatMulNBits types like its input A) is fp16.
 */
export type ScaleRounding = (x: number) => number;

/**
 * Scale and zero point of the `count` values `values[offset + i·stride]`, as MLAS chooses them.
 * A block of zeros gets scale 0 (every code then dequantizes to 0, as in ORT).
 */
export function blockParams(
  values: ArrayLike<number>,
  offset: number,
  count: number,
  stride: number,
  symmetric: boolean,
  round: ScaleRounding = Math.fround,
): BlockParams {
  let lo = 0;
  let hi = 0;
  let extreme = 0;
  for (let i = 0; i < count; i++) {
    const v = values[offset + i * stride]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
    if (Math.abs(v) > Math.abs(extreme)) extreme = v;
  }
  if (symmetric) return { scale: round(extreme / -INT4_SYMMETRIC_ZERO_POINT), zeroPoint: INT4_SYMMETRIC_ZERO_POINT };
  const scale = round((hi - lo) / INT4_MAX);
  // MLAS computes the zero point from the unrounded scale and clamps it into the code range.
  const exact = (hi - lo) / INT4_MAX;
  const zp = exact !== 0 ? -lo / exact : lo;
  return { scale, zeroPoint: Math.min(INT4_MAX, Math.max(0, Math.round(zp))) };
}

/** The 4-bit code of `v`: round(v / scale + zp), clamped to [0, 15]. */
export function quantizeValue(v: number, p: BlockParams): number {
  const inv = p.scale !== 0 ? 1 / p.scale : 0;
  return Math.min(INT4_MAX, Math.max(0, Math.round(v * inv + p.zeroPoint)));
}

/** The real value of code `q`, in fp32 as ORT computes it. */
export function dequantizeValue(q: number, p: BlockParams): number {
  return Math.fround((q - p.zeroPoint) * p.scale);
}

/**
 * Packs per-element codes of a [K, N] weight (row-major, `codes[k·N + n]`) with their block scales
 * and zero points (`[N · nBlocks]` each, unpacked) into MatMulNBits form.
 */
export function packInt4(
  codes: Uint8Array,
  scales: Float32Array,
  zeroPoints: Uint8Array | undefined,
  k: number,
  n: number,
  blockSize: number,
): Int4Blocks {
  const nBlocks = Math.ceil(k / blockSize);
  const blob = blockSize / 2;
  const packed = new Uint8Array(n * nBlocks * blob);
  for (let c = 0; c < n; c++) {
    for (let b = 0; b < nBlocks; b++) {
      const pad = zeroPoints ? zeroPoints[c * nBlocks + b]! : INT4_SYMMETRIC_ZERO_POINT;
      const base = (c * nBlocks + b) * blob;
      for (let j = 0; j < blob; j++) {
        const r = b * blockSize + 2 * j;
        const lo = r < k ? codes[r * n + c]! : pad;
        const hi = r + 1 < k ? codes[(r + 1) * n + c]! : pad;
        packed[base + j] = (lo & 0xf) | ((hi & 0xf) << 4);
      }
    }
  }
  const zp = zeroPoints ? packZeroPoints(zeroPoints, n, nBlocks) : undefined;
  return { k, n, blockSize, nBlocks, packed, scales, ...(zp ? { zeroPoints: zp } : {}) };
}

/** The codes of a packed weight as [K, N] row-major (padding dropped). */
export function unpackInt4(q: Int4Blocks): Uint8Array {
  const { k, n, nBlocks, blockSize } = q;
  const codes = new Uint8Array(k * n);
  for (let c = 0; c < n; c++) {
    for (let r = 0; r < k; r++) {
      const b = Math.floor(r / blockSize);
      const byte = q.packed[(c * nBlocks + b) * (blockSize / 2) + ((r % blockSize) >> 1)]!;
      codes[r * n + c] = r % 2 === 0 ? byte & 0xf : byte >> 4;
    }
  }
  return codes;
}

/** Zero points `[N · nBlocks]` packed per column into ceil(nBlocks / 2) bytes, low nibble first. */
export function packZeroPoints(zp: Uint8Array, n: number, nBlocks: number): Uint8Array {
  const perCol = Math.ceil(nBlocks / 2);
  const out = new Uint8Array(n * perCol);
  for (let c = 0; c < n; c++) {
    for (let b = 0; b < nBlocks; b++) out[c * perCol + (b >> 1)]! |= (zp[c * nBlocks + b]! & 0xf) << ((b & 1) * 4);
  }
  return out;
}

/** The inverse of `packZeroPoints`. */
export function unpackZeroPoints(packed: Uint8Array, n: number, nBlocks: number): Uint8Array {
  const perCol = Math.ceil(nBlocks / 2);
  const out = new Uint8Array(n * nBlocks);
  for (let c = 0; c < n; c++) for (let b = 0; b < nBlocks; b++) out[c * nBlocks + b] = (packed[c * perCol + (b >> 1)]! >> ((b & 1) * 4)) & 0xf;
  return out;
}

/** Round-to-nearest quantization of a [K, N] row-major weight, block by block. */
export function quantizeInt4(
  weight: ArrayLike<number>,
  k: number,
  n: number,
  opts: { blockSize: number; symmetric: boolean; round?: ScaleRounding },
): Int4Blocks {
  const { blockSize, symmetric } = opts;
  const nBlocks = Math.ceil(k / blockSize);
  const codes = new Uint8Array(k * n);
  const scales = new Float32Array(n * nBlocks);
  const zps = new Uint8Array(n * nBlocks);
  for (let b = 0; b < nBlocks; b++) {
    const r0 = b * blockSize;
    const rows = Math.min(blockSize, k - r0);
    for (let c = 0; c < n; c++) {
      const p = blockParams(weight, r0 * n + c, rows, n, symmetric, opts.round);
      scales[c * nBlocks + b] = p.scale;
      zps[c * nBlocks + b] = p.zeroPoint;
      for (let r = r0; r < r0 + rows; r++) codes[r * n + c] = quantizeValue(weight[r * n + c]!, p);
    }
  }
  return packInt4(codes, scales, symmetric ? undefined : zps, k, n, blockSize);
}

/** The real [K, N] row-major weight a MatMulNBits weight stands for. */
export function dequantizeInt4(q: Int4Blocks): Float32Array {
  const { k, n, nBlocks, blockSize } = q;
  const codes = unpackInt4(q);
  const zps = q.zeroPoints ? unpackZeroPoints(q.zeroPoints, n, nBlocks) : undefined;
  const out = new Float32Array(k * n);
  for (let r = 0; r < k; r++) {
    const b = Math.floor(r / blockSize);
    for (let c = 0; c < n; c++) {
      const i = c * nBlocks + b;
      out[r * n + c] = dequantizeValue(codes[r * n + c]!, { scale: q.scales[i]!, zeroPoint: zps ? zps[i]! : INT4_SYMMETRIC_ZERO_POINT });
    }
  }
  return out;
}

/** Whether `blockSize` is one MatMulNBits accepts. */
export function isValidBlockSize(blockSize: number): boolean {
  return (INT4_BLOCK_SIZES as readonly number[]).includes(blockSize);
}
