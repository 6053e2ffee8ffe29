/**
 * INT8 arithmetic shared by the dynamic and static quantization passes, written to match what
 * ONNX Runtime computes so that the values a pass reports as "after" are the values ORT multiplies:
 *
 * - weights: signed int8, symmetric (zero point 0) over [-127, 127] like ORT's quantizer, so that
 *   -128 never appears and negation stays exact, or over [-64, 64] (`REDUCED_INT8_LIMIT`); per
 *   tensor or per output channel (column N of a [K, N] weight);
 * - activations: unsigned uint8, asymmetric over a range stretched to include 0 (ORT's
 *   DynamicQuantizeLinear and calibrated ranges alike), so that zero padding is exact.
 *
 * Rounding is half to even, as ONNX QuantizeLinear and numpy's `round` do. Scales are fp32 values
 * (`Math.fround`) because that is what the model stores and ORT divides by.
 */
import { tensorFromBytes } from '../onnx/graph-edit';
import { DataType, TensorProto } from '../onnx/types';

/** Largest magnitude of a symmetric int8 weight. */
export const INT8_LIMIT = 127;
/**
 * Largest magnitude of a "reduced range" (7-bit) int8 weight, ORT's `reduce_range`. x86 CPUs without
 * VNNI multiply u8×s8 with vpmaddubsw, which adds two products into a saturating int16: with
 * |w| ≤ 64 the sum stays below 2·255·64 = 32640 < 32767 and the kernel is exact.
 */
export const REDUCED_INT8_LIMIT = 64;
/** Largest uint8 value. */
export const UINT8_MAX = 255;

/** Quantization parameters of a uint8 tensor: real = (q − zeroPoint) · scale. */
export interface Uint8Params {
  /** Real value of one quantization step (same unit as the tensor). */
  scale: number;
  /** The uint8 code that stands for real 0, in [0, 255]. */
  zeroPoint: number;
}

/** Round half to even (banker's rounding), as ONNX QuantizeLinear specifies. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  // Math.round rounds .5 up; step back when that lands on an odd number.
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Symmetric int8 scales of a [K, N] row-major weight: one per column (`perChannel`) or one for all.
 * An all-zero column gets scale 1 (any scale represents it exactly; 0 would divide by zero).
 */
export function int8WeightScales(w: Float32Array, k: number, n: number, perChannel: boolean, limit = INT8_LIMIT): Float32Array {
  const absMax = new Float64Array(perChannel ? n : 1);
  for (let r = 0; r < k; r++) {
    for (let c = 0; c < n; c++) {
      const a = Math.abs(w[r * n + c]!);
      const j = perChannel ? c : 0;
      if (a > absMax[j]!) absMax[j] = a;
    }
  }
  return Float32Array.from(absMax, (m) => (m > 0 && Number.isFinite(m) ? Math.fround(m / limit) : 1));
}

/** Quantizes a [K, N] weight with per-tensor (length 1) or per-column (length N) scales, zero point 0. */
export function quantizeInt8(w: Float32Array, k: number, n: number, scales: Float32Array, limit = INT8_LIMIT): Int8Array {
  const q = new Int8Array(k * n);
  const perChannel = scales.length > 1;
  for (let r = 0; r < k; r++) {
    for (let c = 0; c < n; c++) {
      const v = roundHalfEven(w[r * n + c]! / scales[perChannel ? c : 0]!);
      q[r * n + c] = Math.max(-limit, Math.min(limit, v));
    }
  }
  return q;
}

/** The fp32 values an int8 [K, N] weight stands for. */
export function dequantizeInt8(q: Int8Array, k: number, n: number, scales: Float32Array): Float32Array {
  const out = new Float32Array(k * n);
  const perChannel = scales.length > 1;
  for (let r = 0; r < k; r++) for (let c = 0; c < n; c++) out[r * n + c] = q[r * n + c]! * scales[perChannel ? c : 0]!;
  return out;
}

/**
 * uint8 parameters for values in [lo, hi]. The range is first stretched to include 0, as ORT does,
 * so that 0 has an exact code; an empty range (all zeros) gets scale 1.
 */
export function uint8Params(lo: number, hi: number): Uint8Params {
  const min = Math.min(lo, 0);
  const max = Math.max(hi, 0);
  const scale = Math.fround((max - min) / UINT8_MAX);
  if (!(scale > 0) || !Number.isFinite(scale)) return { scale: 1, zeroPoint: 0 };
  const zeroPoint = Math.max(0, Math.min(UINT8_MAX, roundHalfEven(-min / scale)));
  return { scale, zeroPoint };
}

/** QuantizeLinear to uint8 (saturating). */
export function quantizeUint8(x: ArrayLike<number>, p: Uint8Params): Uint8Array {
  const q = new Uint8Array(x.length);
  for (let i = 0; i < x.length; i++) q[i] = Math.max(0, Math.min(UINT8_MAX, roundHalfEven(x[i]! / p.scale) + p.zeroPoint));
  return q;
}

/** DequantizeLinear from uint8. */
export function dequantizeUint8(q: Uint8Array, p: Uint8Params): Float32Array {
  const out = new Float32Array(q.length);
  for (let i = 0; i < q.length; i++) out[i] = (q[i]! - p.zeroPoint) * p.scale;
  return out;
}

/** An INT8 initializer (raw_data holds the two's-complement bytes). */
export function int8Tensor(name: string, dims: number[], values: Int8Array): TensorProto {
  return tensorFromBytes(name, DataType.INT8, dims, new Uint8Array(values.buffer, values.byteOffset, values.length).slice());
}

/** A UINT8 initializer. */
export function uint8Tensor(name: string, dims: number[], values: Uint8Array): TensorProto {
  return tensorFromBytes(name, DataType.UINT8, dims, values.slice());
}
