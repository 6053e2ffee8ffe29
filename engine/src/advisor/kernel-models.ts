/**
 * One-product models for kernel calibration: `x · W (+ b)` at a run's own shape in fp32, and the same
 * model rewritten by the very passes `twb quantize` runs (int8 dynamic, int8 static QDQ, int4
 * MatMulNBits block 32), so the timed kernels are exactly the ops those passes emit and ORT fuses.
 * Pure: builds bytes, runs nothing.
 */
import { GraphBuilder } from '../model/graph-builder';
import { encodeModel } from '../onnx/codec';
import { tensorFromFloat32 } from '../onnx/tensor-data';
import { DataType, ModelProto } from '../onnx/types';
import { quantizeInt8Dynamic } from '../passes/int8-dynamic';
import { quantizeInt8Static } from '../passes/int8-static';
import { quantizeInt4Weight } from '../passes/int4-weight';
import { INT4_BLOCK_SIZES } from '../passes/int4-math';
import type { CapturedTensor, PassContext } from '../passes/types';
import { createRng } from '../util/rng';

/** The product to build: activation shape `[..., K]`, output width N, whether a bias Add follows. */
export interface KernelShape {
  input: number[];
  n: number;
  bias: boolean;
}

/** Encoded models of one shape; a form is null when its pass rewrote nothing (e.g. K below MatMulNBits' smallest block). */
export interface KernelModels {
  fp32: Uint8Array;
  int8Dynamic: Uint8Array;
  int8Static: Uint8Array | null;
  int4: Uint8Array | null;
}

/** The block size `twb quantize --mode int4-weight` uses by default. */
export const INT4_CALIBRATION_BLOCK = 32;

const OPSET = 17;

function normals(count: number, scale: number, seed: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: count }, () => rng.normal() * scale);
}

/** `y = x · W (+ b)` with seeded weights of a transformer's scale. */
export function fp32Model(shape: KernelShape): ModelProto {
  const k = shape.input[shape.input.length - 1];
  const g = new GraphBuilder();
  g.input('x', DataType.FLOAT, shape.input);
  const w = g.init(tensorFromFloat32('w', [k, shape.n], normals(k * shape.n, 0.02, 1)));
  let y = g.op('product', 'MatMul', ['x', w]);
  if (shape.bias) {
    const b = g.init(tensorFromFloat32('b', [shape.n], normals(shape.n, 0.02, 2)));
    y = g.op('product_bias', 'Add', [y, b]);
  }
  g.output(y, 'y', DataType.FLOAT, [...shape.input.slice(0, -1), shape.n]);
  return { irVersion: 8, opsetImport: [{ domain: '', version: OPSET }], producerName: 'transformer-workbench', graph: g.build('kernel') };
}

/** Stands in for calibration runs: the static pass only needs the activation's range, and x is standard normal. */
function generatedCapture(shape: KernelShape): PassContext['capture'] {
  return async (names) => {
    const count = shape.input.reduce((a, b) => a * b, 1);
    const out = new Map<string, CapturedTensor>();
    for (const name of names) out.set(name, { dims: [shape.input], data: [normals(count, 1, 3)] });
    return out;
  };
}

/** The fp32 model and its rewritten forms, encoded. */
export async function kernelModels(shape: KernelShape, signal?: AbortSignal): Promise<KernelModels> {
  const model = fp32Model(shape);
  const ctx: PassContext = { exclude: new Set(), signal };
  const dynamic = await quantizeInt8Dynamic(model, { perChannel: false }, ctx);
  let int8Static: Uint8Array | null = null;
  try {
    const s = await quantizeInt8Static(model, { perChannel: false, calibrate: 'minmax' }, { ...ctx, capture: generatedCapture(shape) });
    if (s.changed.length > 0) int8Static = encodeModel(s.model);
  } catch {
    // A shape the static pass refuses leaves its estimate out; the dynamic and int4 forms still run.
  }
  const k = shape.input[shape.input.length - 1];
  let int4: Uint8Array | null = null;
  if (k >= INT4_BLOCK_SIZES[0]) {
    const q = await quantizeInt4Weight(model, { method: 'rtn', blockSize: INT4_CALIBRATION_BLOCK }, ctx);
    if (q.changed.length > 0) int4 = encodeModel(q.model);
  }
  return { fp32: encodeModel(model), int8Dynamic: encodeModel(dynamic.model), int8Static, int4 };
}

/** A standard-normal activation of the shape, as ORT takes it. */
export function kernelInput(input: number[], seed = 4): { x: { type: 'float32'; data: Float32Array; dims: number[] } } {
  return { x: { type: 'float32', data: normals(input.reduce((a, b) => a * b, 1), 1, seed), dims: [...input] } };
}
