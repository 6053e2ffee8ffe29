/**
 * Sizes and payloads of ONNX tensors. Sizes come from dims and data type alone, so they work for
 * tensors whose data lives in an external file that has not been read.
 */
import { DataType, TensorProto } from './types';
import { TwbError } from '../util/errors';
import { toHalfArray } from './float16';

/** Bytes per element in `raw_data`; 0.5 for the packed 4-bit types. STRING has no fixed size. */
const BYTES: Partial<Record<DataType, number>> = {
  [DataType.FLOAT]: 4,
  [DataType.UINT8]: 1,
  [DataType.INT8]: 1,
  [DataType.UINT16]: 2,
  [DataType.INT16]: 2,
  [DataType.INT32]: 4,
  [DataType.INT64]: 8,
  [DataType.BOOL]: 1,
  [DataType.FLOAT16]: 2,
  [DataType.DOUBLE]: 8,
  [DataType.UINT32]: 4,
  [DataType.UINT64]: 8,
  [DataType.COMPLEX64]: 8,
  [DataType.COMPLEX128]: 16,
  [DataType.BFLOAT16]: 2,
  [DataType.FLOAT8E4M3FN]: 1,
  [DataType.FLOAT8E4M3FNUZ]: 1,
  [DataType.FLOAT8E5M2]: 1,
  [DataType.FLOAT8E5M2FNUZ]: 1,
  [DataType.UINT4]: 0.5,
  [DataType.INT4]: 0.5,
};

const shapeOf = (dims: readonly number[]): string => `[${dims.join(', ')}]`;

function typeName(dataType: number): string {
  return DataType[dataType] ?? `unknown data type ${dataType}`;
}

/**
 * Size of one element in bytes, as stored in `raw_data`: 0.5 for INT4/UINT4 (two per byte).
 * Throws for STRING (variable size), UNDEFINED and unknown types, naming the type.
 */
export function bytesPerElement(dataType: DataType): number {
  const n = BYTES[dataType];
  if (n === undefined) {
    throw new TwbError('invalid-model', `data type ${typeName(dataType)} (${dataType}) has no fixed element size`);
  }
  return n;
}

/** Number of elements of a tensor with shape `dims`: 1 for a scalar (`[]`). Throws on a negative dim. */
export function elementCount(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 0) {
      throw new TwbError('invalid-model', `invalid tensor dimension ${d} in ${shapeOf(dims)}`);
    }
    n *= d;
  }
  return n;
}

/**
 * Size of the tensor's data in bytes, from its dims and data type (never from its payload, so it is
 * right for external-data tensors). 4-bit types round up to whole bytes, as ONNX stores them.
 */
export function tensorByteSize(t: TensorProto): number {
  // Strings have no fixed width: count their stored bytes (tokenizer vocabularies live in such tensors).
  if (t.dataType === DataType.STRING) return (t.stringData ?? []).reduce((s, b) => s + b.length, 0);
  const per = bytesPerElement(t.dataType);
  return Math.ceil(elementCount(t.dims) * per);
}

/** True when the tensor's payload is stored in a separate file (`data_location` = EXTERNAL). */
export function isExternal(t: TensorProto): boolean {
  return t.dataLocation === 1;
}

// Typed arrays use the host's byte order; ONNX raw_data is little-endian.
const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function checkCount(name: string, dims: readonly number[], length: number): void {
  const n = elementCount(dims);
  if (n !== length) {
    const message = `tensor "${name}" has shape ${shapeOf(dims)} (${n} elements) but ${length} values were given`;
    throw new TwbError('usage', message);
  }
}

/** A FLOAT initializer holding a copy of `values` as little-endian `raw_data`. */
export function tensorFromFloat32(name: string, dims: number[], values: Float32Array): TensorProto {
  checkCount(name, dims, values.length);
  let raw: Uint8Array;
  if (littleEndianHost) raw = new Uint8Array(values.buffer, values.byteOffset, values.byteLength).slice();
  else {
    raw = new Uint8Array(values.length * 4);
    const view = new DataView(raw.buffer);
    for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
  }
  return { name, dataType: DataType.FLOAT, dims: [...dims], rawData: raw };
}

/**
 * A FLOAT or FLOAT16 tensor of `values` (fp16 rounds to nearest even): passes write weights back in
 * the element type the model stored them in.
 */
export function tensorFromFloats(name: string, dims: number[], values: Float32Array, dataType: DataType): TensorProto {
  if (dataType === DataType.FLOAT) return tensorFromFloat32(name, dims, values);
  if (dataType !== DataType.FLOAT16) throw new TwbError('internal', `tensor "${name}" has element type ${typeName(dataType)}; only FLOAT and FLOAT16 are written`);
  checkCount(name, dims, values.length);
  const bits = toHalfArray(values);
  return { name, dataType, dims: [...dims], rawData: new Uint8Array(bits.buffer, bits.byteOffset, bits.byteLength) };
}

/** An INT64 initializer holding `values` as little-endian `raw_data`. */
export function tensorFromInt64(
  name: string,
  dims: number[],
  values: readonly bigint[] | BigInt64Array,
): TensorProto {
  checkCount(name, dims, values.length);
  const raw = new Uint8Array(values.length * 8);
  const view = new DataView(raw.buffer);
  for (let i = 0; i < values.length; i++) view.setBigInt64(i * 8, values[i]!, true);
  return { name, dataType: DataType.INT64, dims: [...dims], rawData: raw };
}

/**
 * The values of a FLOAT tensor. From `raw_data` this is a zero-copy view sharing memory with the
 * payload when it is 4-byte aligned (treat it as read-only), and an aligned copy otherwise; from
 * `float_data` a new array. Throws for other data types, external data, or a payload that does not
 * match the shape.
 */
export function readFloat32(t: TensorProto): Float32Array {
  if (t.dataType !== DataType.FLOAT) {
    const type = typeName(t.dataType);
    throw new TwbError('usage', `tensor "${t.name}" has data type ${type}; readFloat32 reads only FLOAT`);
  }
  if (isExternal(t)) {
    const location = t.externalData?.find((e) => e.key === 'location')?.value ?? '?';
    throw new TwbError('usage', `tensor "${t.name}" keeps its data in external file "${location}"; load it first`);
  }
  const n = elementCount(t.dims);
  const raw = t.rawData;
  if (raw) {
    if (raw.length !== n * 4) {
      const message = `tensor "${t.name}" raw_data has ${raw.length} bytes; shape ${shapeOf(t.dims)} needs ${n * 4}`;
      throw new TwbError('invalid-model', message);
    }
    if (littleEndianHost && raw.byteOffset % 4 === 0) return new Float32Array(raw.buffer, raw.byteOffset, n);
    const out = new Float32Array(n);
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
    return out;
  }
  const data = t.floatData ?? [];
  if (data.length !== n) {
    const message = `tensor "${t.name}" float_data has ${data.length} values; shape ${shapeOf(t.dims)} needs ${n}`;
    throw new TwbError('invalid-model', message);
  }
  return Float32Array.from(data);
}
