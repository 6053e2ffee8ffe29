/**
 * Weight-only INT4 (MatMulNBits, RTN and GPTQ) and fp16 conversion: the 4-bit layout against ORT,
 * GPTQ against round-to-nearest, and both passes on the built-in and real models.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { assertValidOnnx, builtinModel, executedOps, feedsFor, opCounts, realdataModel, runModel } from './helpers/models';
import { checkerAvailable, checkModel } from './helpers/checker';
import { encodeModel } from '../../engine/src/onnx/codec';
import { fromHalfArray, toHalfArray } from '../../engine/src/onnx/float16';
import { makeNode, tensorFromBytes } from '../../engine/src/onnx/graph-edit';
import { readFloat32, tensorByteSize, tensorFromFloat32 } from '../../engine/src/onnx/tensor-data';
import { AttributeType, DataType, GraphProto, ModelProto } from '../../engine/src/onnx/types';
import { valueInfo } from '../../engine/src/model/graph-builder';
import { openSession } from '../../engine/src/runtime/ort';
import { FeedTensor } from '../../engine/src/runtime/feeds';
import { errorMetrics } from '../../engine/src/analysis/error-metrics';
import { createRng } from '../../engine/src/util/rng';
import { TwbError } from '../../engine/src/util/errors';
import {
  dequantizeInt4, packInt4, packZeroPoints, quantizeInt4, unpackInt4, unpackZeroPoints,
} from '../../engine/src/passes/int4-math';
import { addToHessian, finishHessian, gptqQuantize, newHessian, prepareGptq } from '../../engine/src/passes/gptq';
import { quantizeInt4Weight } from '../../engine/src/passes/int4-weight';
import { convertFp16 } from '../../engine/src/passes/fp16';
import { CaptureFn, CapturedTensor, PassContext } from '../../engine/src/passes/types';

const ctx = (extra: Partial<PassContext> = {}): PassContext => ({ exclude: new Set(), ...extra });

/** Captures tensors of `model` with ORT: they become extra graph outputs (ORT types them itself). */
function ortCapture(model: ModelProto, batches: Array<Record<string, FeedTensor>>): CaptureFn {
  return async (names) => {
    const outputs = new Set(model.graph.output.map((o) => o.name));
    const exposed = { ...model, graph: { ...model.graph, output: [...model.graph.output, ...names.filter((n) => !outputs.has(n)).map((name) => ({ name }))] } };
    const s = await openSession(encodeModel(exposed), { executionProvider: 'cpu', threads: 2, optLevel: 'disabled' }, 'capture');
    const result = new Map<string, CapturedTensor>(names.map((n) => [n, { dims: [], data: [] }]));
    try {
      for (const feeds of batches) {
        const out = await s.fetch(feeds, names);
        for (const n of names) {
          const t = out[n]!;
          result.get(n)!.dims.push(t.dims);
          result.get(n)!.data.push(t.type === 'float16' ? fromHalfArray(t.data as Uint16Array) : Float32Array.from(t.data as Float32Array));
        }
      }
    } finally {
      await s.release();
    }
    return result;
  };
}

const batchesFor = (model: ModelProto, count: number, batch = 2, seq = 32) => Array.from({ length: count }, (_, i) => feedsFor(model, batch, seq, 100 + i));

/** Bytes of the float initializers (the weights), for size ratios that ignore graph structure. */
const floatBytes = (m: ModelProto) => m.graph.initializer.filter((t) => t.dataType === DataType.FLOAT || t.dataType === DataType.FLOAT16).reduce((s, t) => s + tensorByteSize(t), 0);

/** SQNR (dB) of every output of `approx` against `model` on the same feeds; the worst one. */
async function outputSqnr(model: ModelProto, approx: ModelProto, feeds: Record<string, FeedTensor>): Promise<number> {
  const ref = await runModel(model, feeds);
  const got = await runModel(approx, feeds);
  return Math.min(...Object.keys(ref).map((k) => errorMetrics(ref[k]!.data, got[k]!.data).sqnrDb));
}

function oneMatMul(k: number, n: number, w: Float32Array, m = 3): ModelProto {
  return {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'mm', node: [makeNode('MatMul', ['x', 'W'], ['y'], 'mm')], initializer: [tensorFromFloat32('W', [k, n], w)],
      input: [valueInfo('x', DataType.FLOAT, [m, k])], output: [valueInfo('y', DataType.FLOAT, [m, n])], valueInfo: [],
    },
  };
}

const randn = (count: number, seed: number) => {
  const rng = createRng(seed);
  return Float32Array.from({ length: count }, () => rng.normal());
};

test('int4 codes and zero points survive pack/unpack', () => {
  const rng = createRng(7);
  for (const [k, n, bs] of [[50, 3, 16], [64, 5, 32], [7, 2, 16]] as const) {
    const codes = Uint8Array.from({ length: k * n }, () => rng.int(0, 16));
    const nBlocks = Math.ceil(k / bs);
    const zps = Uint8Array.from({ length: n * nBlocks }, () => rng.int(0, 16));
    const q = packInt4(codes, new Float32Array(n * nBlocks).fill(1), zps, k, n, bs);
    assert.equal(q.packed.length, n * nBlocks * (bs / 2), 'B is [N, n_blocks, block_size/2]');
    assert.equal(q.zeroPoints!.length, n * Math.ceil(nBlocks / 2), 'zero points are [N * ceil(n_blocks/2)]');
    assert.deepEqual(unpackInt4(q), codes);
    assert.deepEqual(unpackZeroPoints(q.zeroPoints!, n, nBlocks), zps);
    assert.deepEqual(unpackZeroPoints(packZeroPoints(zps, n, nBlocks), n, nBlocks), zps);
  }
});

test('int4 quantization of a hand-computed block', () => {
  // Asymmetric: [-2, 5.5] in 15 steps of 0.5, zero point round(2 / 0.5) = 4, codes 0..15 in order.
  const w = Float32Array.from({ length: 16 }, (_, i) => i * 0.5 - 2);
  const q = quantizeInt4(w, 16, 1, { blockSize: 16, symmetric: false });
  assert.deepEqual([...q.packed], [0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe], 'low nibble first');
  assert.deepEqual([...q.scales], [0.5]);
  assert.deepEqual([...q.zeroPoints!], [4]);
  assert.deepEqual([...dequantizeInt4(q)], [...w]);
  // Symmetric: the largest magnitude (-2) maps to code 0: scale = -2 / -8 = 0.25, zero point 8.
  const s = quantizeInt4(Float32Array.from({ length: 16 }, (_, i) => (i - 8) * 0.25), 16, 1, { blockSize: 16, symmetric: true });
  assert.deepEqual([...s.packed], [0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe]);
  assert.equal(s.zeroPoints, undefined);
  // A positive extreme gives a negative scale: 2 → code 0, -1 → 12, 0 → 8; K = 3 is padded with 8s.
  const p = quantizeInt4(new Float32Array([2, -1, 0]), 3, 1, { blockSize: 16, symmetric: true });
  assert.deepEqual([...p.scales], [-0.25]);
  assert.deepEqual([...p.packed], [0xc0, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88]);
  assert.deepEqual(Array.from(dequantizeInt4(p), (v) => v + 0), [2, -1, 0]); // (8 − 8) · −0.25 is −0
});

test('MatMulNBits from the pass computes x · dequantized weight in ORT', async () => {
  for (const [k, n, bs, symmetric] of [[64, 8, 16, false], [100, 5, 32, false], [96, 7, 32, true], [20, 3, 32, false], [300, 33, 64, true]] as const) {
    const w = randn(k * n, k + n);
    const model = oneMatMul(k, n, w);
    const r = await quantizeInt4Weight(model, { method: 'rtn', blockSize: bs, symmetric }, ctx());
    assert.deepEqual(opCounts(r.model), { 'com.microsoft::MatMulNBits': 1 });
    assert.equal(r.model.graph.initializer.some((t) => t.name === 'W'), false, 'the fp32 weight is gone');
    const after = r.changed[0]!.weight!.after;
    const x = randn(3 * k, 1);
    const y = (await runModel(r.model, { x: { type: 'float32', data: x, dims: [3, k] } })).y!.data;
    let maxDiff = 0;
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += x[i * k + p]! * after[p * n + j]!;
        maxDiff = Math.max(maxDiff, Math.abs(s - y[i * n + j]!));
      }
    }
    assert.ok(maxDiff < 2e-4, `K=${k} N=${n} block ${bs}: ORT differs from x·Ŵ by ${maxDiff}`);
  }
});

test('int4 Gemm (transB, alpha, beta, bias) keeps its output name and values', async () => {
  const [k, n, m] = [48, 6, 4];
  const wt = randn(n * k, 5); // stored [N, K]
  const bias = randn(n, 6);
  const model = oneMatMul(k, n, wt, m);
  model.graph.node = [makeNode('Gemm', ['x', 'W', 'C'], ['y'], 'gemm', { transB: 1, alpha: { float: 0.5 }, beta: { float: 2 } })];
  model.graph.initializer = [tensorFromFloat32('W', [n, k], wt), tensorFromFloat32('C', [n], bias)];
  const r = await quantizeInt4Weight(model, { method: 'rtn', blockSize: 16 }, ctx());
  assert.equal(r.changed[0]!.output, 'y');
  assert.equal(opCounts(r.model)['com.microsoft::MatMulNBits'], 1);
  const after = r.changed[0]!.weight!.after; // [K, N]
  assert.equal(after.length, k * n);
  const x = randn(m * k, 9);
  const y = (await runModel(r.model, { x: { type: 'float32', data: x, dims: [m, k] } })).y!.data;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += x[i * k + p]! * after[p * n + j]!;
      assert.ok(Math.abs(0.5 * s + 2 * bias[j]! - y[i * n + j]!) < 1e-4);
    }
  }
});

test('int4 quantizes a weight shared by two MatMuls once; GPTQ asks for all activations in one capture', async () => {
  const [k, n] = [32, 8];
  const model = oneMatMul(k, n, randn(k * n, 3));
  model.graph.input.push(valueInfo('x2', DataType.FLOAT, [3, k]));
  model.graph.output.push(valueInfo('y2', DataType.FLOAT, [3, n]));
  model.graph.node.push(makeNode('MatMul', ['x2', 'W'], ['y2'], 'mm2'));
  const calls: string[][] = [];
  const capture: CaptureFn = async (names) => {
    calls.push(names);
    return new Map(names.map((name, i) => [name, { dims: [[40, k]], data: [randn(40 * k, 20 + i)] }]));
  };
  for (const method of ['rtn', 'gptq'] as const) {
    const r = await quantizeInt4Weight(model, { method, blockSize: 16 }, ctx({ capture }));
    assert.equal(r.changed.length, 2);
    assert.equal(r.model.graph.initializer.filter((i) => i.name.startsWith('W_Q4')).length, 1, `${method}: one packed weight`);
    const [a, b] = r.model.graph.node;
    assert.deepEqual(a!.input.slice(1), b!.input.slice(1));
    assert.deepEqual(r.changed[0]!.weight!.after, r.changed[1]!.weight!.after);
  }
  assert.deepEqual(calls, [['x', 'x2']]);
});

/** ‖X·W − X·Ŵ‖² for X rows × K and weights [K, N]. */
function outputError(x: Float32Array, rows: number, k: number, n: number, w: Float32Array, wq: Float32Array): number {
  let e = 0;
  const d = Float64Array.from(w, (v, i) => v - wq[i]!);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < n; c++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += x[r * k + p]! * d[p * n + c]!;
      e += s * s;
    }
  }
  return e;
}

test('GPTQ beats round-to-nearest on correlated activations', (t) => {
  const [k, n, rows] = [96, 24, 400];
  const mix = randn(k * k, 11);
  const z = randn(rows * k, 12);
  const x = new Float32Array(rows * k); // X = Z·A: strongly correlated inputs, H far from diagonal
  for (let r = 0; r < rows; r++) for (let j = 0; j < k; j++) for (let p = 0; p < k; p++) x[r * k + j] += z[r * k + p]! * mix[p * k + j]!;
  for (let r = 0; r < rows; r++) x[r * k + 5] = 0; // a dead input
  const w = randn(k * n, 13);
  const h = newHessian(k);
  addToHessian(h, x.subarray(0, 150 * k), 150, k); // streamed in two batches
  addToHessian(h, x.subarray(150 * k), rows - 150, k);
  const factor = prepareGptq(finishHessian(h), k);
  assert.equal(factor.dead[5], 1);
  for (const symmetric of [false, true]) {
    const g = gptqQuantize(w, k, n, factor, { blockSize: 32, symmetric });
    assert.deepEqual(dequantizeInt4(g.blocks), g.dequantized, 'the result is exactly what MatMulNBits stores');
    assert.ok(g.dequantized.subarray(5 * n, 6 * n).every((v) => v === 0), 'the dead input row is zero');
    const rtn = dequantizeInt4(quantizeInt4(w, k, n, { blockSize: 32, symmetric }));
    const ratio = outputError(x, rows, k, n, w, g.dequantized) / outputError(x, rows, k, n, w, rtn);
    t.diagnostic(`synthetic ${symmetric ? 'symmetric' : 'asymmetric'}: GPTQ/RTN output error ${ratio.toFixed(3)}`);
    assert.ok(ratio < 0.8, `GPTQ error is ${ratio.toFixed(3)}× RTN's`);
  }
});

test('GPTQ beats round-to-nearest on a real tiny-gpt layer, on held-out activations', async (t) => {
  const model = builtinModel('tiny-gpt');
  const weight = 'layer1/ffn/up/weight';
  const mm = model.graph.node.find((n) => n.opType === 'MatMul' && n.input[1] === weight)!;
  const [k, n] = [256, 1024];
  const rowsOf = async (batches: Array<Record<string, FeedTensor>>) => {
    const data = (await ortCapture(model, batches)([mm.input[0]!])).get(mm.input[0]!)!.data;
    const x = new Float32Array(data.reduce((s, d) => s + d.length, 0));
    data.reduce((o, d) => (x.set(d, o), o + d.length), 0);
    return x;
  };
  const calib = await rowsOf(batchesFor(model, 4, 2, 64));
  const held = await rowsOf([feedsFor(model, 2, 64, 7), feedsFor(model, 2, 64, 8)]);
  const w = readFloat32(model.graph.initializer.find((i) => i.name === weight)!);
  const h = newHessian(k);
  addToHessian(h, calib, calib.length / k, k);
  const g = gptqQuantize(w, k, n, prepareGptq(finishHessian(h), k), { blockSize: 32, symmetric: false });
  const rtn = dequantizeInt4(quantizeInt4(w, k, n, { blockSize: 32, symmetric: false }));
  for (const [label, x] of [['calibration', calib], ['held-out', held]] as const) {
    const rows = x.length / k;
    const ratio = outputError(x, rows, k, n, w, g.dequantized) / outputError(x, rows, k, n, w, rtn);
    t.diagnostic(`tiny-gpt ${weight}, ${label} (${rows} rows): GPTQ/RTN output error ${ratio.toFixed(3)}`);
    assert.ok(ratio < 0.9, `${label}: GPTQ error is ${ratio.toFixed(3)}× RTN's`);
  }
});

test('INT4 rejects a bad block size and GPTQ without calibration', async () => {
  const model = oneMatMul(32, 4, randn(128, 1));
  await assert.rejects(quantizeInt4Weight(model, { method: 'rtn', blockSize: 24 }, ctx()), (e: unknown) => e instanceof TwbError && e.code === 'usage' && /block size 24 is not one ONNX Runtime's MatMulNBits supports; expected one of: 16, 32, 64, 128, 256$/.test(e.message));
  for (const blockSize of [8, 512]) await assert.rejects(quantizeInt4Weight(model, { method: 'rtn', blockSize }, ctx()), new RegExp(`block size ${blockSize} is not one`));
  await assert.rejects(quantizeInt4Weight(model, { method: 'awq' as 'rtn', blockSize: 32 }, ctx()), /unknown INT4 method "awq"; expected one of: rtn, gptq/);
  await assert.rejects(quantizeInt4Weight(model, { method: 'gptq', blockSize: 32 }, ctx()), (e: unknown) => e instanceof TwbError && e.code === 'usage' && e.message === 'GPTQ needs calibration data: pass --calibration FILE');
  const aborted = new AbortController();
  aborted.abort();
  await assert.rejects(quantizeInt4Weight(model, { method: 'rtn', blockSize: 32 }, ctx({ signal: aborted.signal })), (e: unknown) => e instanceof TwbError && e.code === 'cancelled');
});

for (const name of ['tiny-gpt', 'tiny-bert'] as const) {
  for (const method of ['rtn', 'gptq'] as const) {
    test(`int4 ${method} on builtin:${name}: valid, runs MatMulNBits, close to fp32, ~6× smaller weights`, async (t) => {
      const model = builtinModel(name);
      const bytes = encodeModel(model);
      const progress: number[] = [];
      const capture = method === 'gptq' ? ortCapture(model, batchesFor(model, 4)) : undefined;
      const r = await quantizeInt4Weight(model, { method, blockSize: 32 }, ctx({ ...(capture ? { capture } : {}), onProgress: (f) => progress.push(f) }));
      assert.deepEqual(encodeModel(model), bytes, 'the original model is unchanged');
      assertValidOnnx(r.model, t);
      assert.ok((await executedOps(r.model, feedsFor(model, 1, 8))).has('MatMulNBits'));
      // Enough rows that the SQNR of tiny-bert's two logits per row is not luck.
      const feeds = feedsFor(model, 16, 32, 3);
      const sqnr = await outputSqnr(model, r.model, feeds);
      const matmuls = model.graph.node.filter((n) => n.opType === 'MatMul' && model.graph.initializer.some((i) => i.name === n.input[1])).length;
      assert.equal(r.changed.length, matmuls);
      assert.equal(opCounts(r.model)['com.microsoft::MatMulNBits'], matmuls);
      assert.equal(opCounts(r.model).MatMul, opCounts(model).MatMul! - matmuls, 'activation × activation MatMuls stay');
      const weights = new Set(r.changed.map((c) => c.weight!.name));
      assert.ok(!r.model.graph.initializer.some((i) => weights.has(i.name)), 'fp32 weights removed');
      const fp32 = model.graph.initializer.filter((i) => weights.has(i.name)).reduce((s, i) => s + i.rawData!.length, 0);
      const q4 = r.model.graph.initializer.filter((i) => /_(Q4|scales|zp)(_\d+)?$/.test(i.name)).reduce((s, i) => s + i.rawData!.length, 0);
      const ratio = fp32 / q4;
      t.diagnostic(`${name} ${method}: output SQNR ${sqnr.toFixed(1)} dB, MatMul weights ${ratio.toFixed(2)}× smaller, file ${(bytes.length / encodeModel(r.model).length).toFixed(2)}× smaller`);
      assert.ok(sqnr > 8, `output SQNR ${sqnr.toFixed(1)} dB`);
      assert.ok(ratio > 4 && ratio < 7, `weights ${ratio.toFixed(2)}× smaller`);
      for (const c of r.changed) assert.match(c.detail!, new RegExp(`^int4 block 32, ${method}, asymmetric, \\d+ scales$`));
      assert.ok(progress.length >= matmuls && progress.at(-1) === 1);
      if (method === 'gptq') {
        const rtn = await quantizeInt4Weight(model, { method: 'rtn', blockSize: 32 }, ctx());
        const rtnSqnr = await outputSqnr(model, rtn.model, feeds);
        t.diagnostic(`${name}: RTN output SQNR ${rtnSqnr.toFixed(1)} dB`);
        assert.ok(sqnr > rtnSqnr, `GPTQ ${sqnr.toFixed(1)} dB vs RTN ${rtnSqnr.toFixed(1)} dB`);
      }
    });
  }
}

test('int4 on real models: contrib-op GPT-2, BERT with a K of 37, a weight fed at run time, tiny K', async (t) => {
  const gpt = realdataModel('onnxruntime-genai/tiny-random-gpt2-fp32/past.onnx');
  const g = await quantizeInt4Weight(gpt, { method: 'rtn', blockSize: 16 }, ctx());
  assert.equal(g.changed.length, 16);
  assert.match(g.notes.join('\n'), /5 fused Attention node\(s\) keep fp32 QKV weights/);
  assertValidOnnx(g.model, t);
  const gptFeeds = feedsFor(gpt, 2, 8);
  assert.ok((await executedOps(g.model, gptFeeds)).has('MatMulNBits'));
  const gptSqnr = await outputSqnr(gpt, g.model, gptFeeds);
  const gptSize = encodeModel(g.model).length / encodeModel(gpt).length;

  const bert = realdataModel('onnxruntime/testdata/bert_toy_optimized.onnx');
  const b = await quantizeInt4Weight(bert, { method: 'rtn', blockSize: 16 }, ctx());
  const k37 = b.changed.filter((c) => c.weight!.before.length / Number(/(\d+) scales/.exec(c.detail!)![1]) !== 16);
  assert.ok(k37.length > 0, 'a K that is not a multiple of the block size is padded');
  const bertSqnr = await outputSqnr(bert, b.model, feedsFor(bert, 4, 8));
  t.diagnostic(`tiny-random-gpt2 past: SQNR ${gptSqnr.toFixed(1)} dB, file ×${gptSize.toFixed(2)}; bert_toy: SQNR ${bertSqnr.toFixed(1)} dB, ${b.changed.length} MatMulNBits`);
  assert.ok(gptSqnr > 12 && bertSqnr > 12);
  assert.ok(gptSize < 0.7);

  const fed = await quantizeInt4Weight(realdataModel('onnxruntime/testdata/attention_mask1d_fp32.onnx'), { method: 'rtn', blockSize: 32 }, ctx());
  assert.equal(fed.changed.length, 0);
  assert.deepEqual(fed.skipped.map((s) => s.reason), ['weight "weight" is a graph input, so its value is not known until run time']);

  const distil = realdataModel('optimum/tiny-distilbert-classification/model.onnx');
  const d = await quantizeInt4Weight(distil, { method: 'rtn', blockSize: 32 }, ctx());
  assert.equal(d.changed.length, 0);
  assert.ok(d.skipped.length > 0 && d.skipped.every((s) => /K = 2 is below MatMulNBits' smallest block \(16\)/.test(s.reason)));
});

test('int4 keeps fp16 weights fp16: scales follow the activation type', async () => {
  const model = realdataModel('onnxruntime-genai/tiny-random-gpt2-fp16-cuda/past.onnx');
  const r = await quantizeInt4Weight(model, { method: 'rtn', blockSize: 32, symmetric: true }, ctx());
  assert.equal(r.changed.length, 16);
  assert.ok(r.model.graph.initializer.filter((i) => i.name.includes('_scales')).every((i) => i.dataType === DataType.FLOAT16));
  assert.ok(!r.model.graph.initializer.some((i) => i.name.includes('_zp')), 'symmetric: no zero points');
  const sqnr = await outputSqnr(model, r.model, feedsFor(model, 2, 8));
  assert.ok(sqnr > 12, `SQNR ${sqnr.toFixed(1)} dB`);
});

test('int4 on an fp16 Gemm with alpha and beta: the tail stays fp16', async () => {
  const [k, n] = [32, 4];
  const half = (name: string, dims: number[], v: Float32Array) => {
    const bits = toHalfArray(v);
    return tensorFromBytes(name, DataType.FLOAT16, dims, new Uint8Array(bits.buffer));
  };
  const model = oneMatMul(k, n, new Float32Array(k * n), 2);
  model.graph.node = [makeNode('Gemm', ['x', 'W', 'C'], ['y'], 'gemm', { alpha: { float: 0.5 }, beta: { float: 2 } })];
  model.graph.initializer = [half('W', [k, n], randn(k * n, 4)), half('C', [n], randn(n, 5))];
  model.graph.input = [valueInfo('x', DataType.FLOAT16, [2, k])];
  model.graph.output = [valueInfo('y', DataType.FLOAT16, [2, n])];
  const r = await quantizeInt4Weight(model, { method: 'rtn', blockSize: 32 }, ctx());
  assert.ok(r.model.graph.initializer.filter((i) => i.name.startsWith('gemm/')).every((i) => i.dataType === DataType.FLOAT16));
  const sqnr = await outputSqnr(model, r.model, { x: { type: 'float16', data: toHalfArray(randn(2 * k, 6)), dims: [2, k] } });
  assert.ok(sqnr > 12, `SQNR ${sqnr.toFixed(1)} dB`);
});

/** The Cast nodes around `node` in `model` (its float inputs come from Casts to FLOAT, its output goes to Casts to FLOAT16). */
function castsAround(model: ModelProto, nodeName: string): { before: number; after: number } {
  const node = model.graph.node.find((n) => n.name === nodeName)!;
  const castTo = (n: { opType: string; attribute: Array<{ name: string; i?: bigint }> }, type: DataType) => n.opType === 'Cast' && Number(n.attribute.find((a) => a.name === 'to')!.i) === type;
  const before = model.graph.node.filter((n) => castTo(n, DataType.FLOAT) && node.input.includes(n.output[0]!)).length;
  const after = model.graph.node.filter((n) => castTo(n, DataType.FLOAT16) && n.input.includes(node.output[0]!)).length;
  return { before, after };
}

const floatIo = (m: ModelProto) => [...m.graph.input, ...m.graph.output].map((v) => `${v.name}:${v.type?.tensorType?.elemType}`);

for (const name of ['tiny-gpt', 'tiny-bert'] as const) {
  test(`fp16 on builtin:${name}: valid, fp32 at the edges, half the size, close to fp32`, async (t) => {
    const model = builtinModel(name);
    const bytes = encodeModel(model);
    const r = await convertFp16(model, {}, ctx());
    assert.deepEqual(encodeModel(model), bytes, 'the original model is unchanged');
    assertValidOnnx(r.model, t);
    assert.deepEqual(floatIo(r.model), floatIo(model), 'graph inputs and outputs keep names and types');
    const sqnr = await outputSqnr(model, r.model, feedsFor(model, 4, 32, 3));
    const size = encodeModel(r.model).length / bytes.length;
    t.diagnostic(`${name} fp16: output SQNR ${sqnr.toFixed(1)} dB, file ×${size.toFixed(3)}`);
    assert.ok(sqnr > 45, `SQNR ${sqnr.toFixed(1)} dB`);
    assert.ok(size > 0.48 && size < 0.55, `size ×${size.toFixed(3)}`);
    assert.ok(r.model.graph.initializer.every((i) => i.dataType !== DataType.FLOAT), 'no fp32 weights left');
    const mm = r.changed.find((c) => c.opType === 'MatMul' && c.weight)!;
    assert.ok(mm.weight!.after.every((v, i) => Math.abs(v - mm.weight!.before[i]!) <= Math.abs(mm.weight!.before[i]!) * 2 ** -11 + 2 ** -25), 'fp16-rounded weight');
    assert.ok(r.changed.some((c) => c.opType === 'LayerNormalization') && r.changed.some((c) => c.opType === 'Softmax'));
    assert.match(r.notes.join('\n'), /CPU .*inserts its own Casts/);
  });
}

test('fp16 keeps requested nodes in fp32 with Casts around them', async (t) => {
  const model = builtinModel('tiny-gpt');
  const keep = 'layer1/attn/q_proj';
  const r = await convertFp16(model, { keepFp32: new Set([keep]) }, ctx({ exclude: new Set(['layer2/ln1']) }));
  assertValidOnnx(r.model, t);
  for (const n of [keep, 'layer2/ln1']) {
    assert.deepEqual(castsAround(r.model, n), { before: 1, after: 1 }, `${n}: one Cast in, one Cast out`);
    assert.ok(r.skipped.some((s) => s.node === n && s.reason === 'kept in fp32 by request'));
    assert.ok(!r.changed.some((c) => c.node === n));
  }
  const weight = r.model.graph.initializer.find((i) => i.name === 'layer1/attn/q_proj/weight')!;
  assert.equal(weight.dataType, DataType.FLOAT, 'the kept MatMul keeps its fp32 weight');
  const sqnr = await outputSqnr(model, r.model, feedsFor(model, 2, 16, 3));
  assert.ok(sqnr > 45, `SQNR ${sqnr.toFixed(1)} dB`);
});

test('fp16 retypes float-making attributes and keeps fp32-only inputs and ops fp32', async (t) => {
  const f = DataType.FLOAT;
  const model: ModelProto = {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'attrs',
      node: [
        makeNode('Shape', ['x'], ['shape'], 'shape'),
        makeNode('ConstantOfShape', ['shape'], ['zeros'], 'zeros'), // float 0 by default
        makeNode('Cast', ['shape'], ['shape_f'], 'shape_f', { to: f }),
        makeNode('ReduceSum', ['shape_f'], ['dims_sum'], 'dims_sum', { keepdims: 0 }),
        makeNode('Add', ['x', 'zeros'], ['x0'], 'add0'),
        makeNode('Mul', ['x0', 'dims_sum'], ['x1'], 'mul'),
        makeNode('EyeLike', ['x1'], ['eye'], 'eye', { dtype: f }),
        makeNode('Add', ['x1', 'eye'], ['x2'], 'add_eye'),
        makeNode('Range', ['start', 'limit', 'delta'], ['range'], 'range'), // blocked: stays fp32
        makeNode('Add', ['x2', 'range'], ['x3'], 'add_range'),
        makeNode('Reshape', ['x3', 'img_shape'], ['img'], 'to_img'),
        makeNode('Resize', ['img', '', 'scales'], ['big'], 'resize', { mode: 'nearest' }),
        makeNode('Softmax', ['big'], ['y'], 'softmax'),
      ],
      initializer: [
        tensorFromFloat32('start', [], new Float32Array([0])), tensorFromFloat32('limit', [], new Float32Array([3])),
        tensorFromFloat32('delta', [], new Float32Array([1])), tensorFromFloat32('scales', [4], new Float32Array([1, 1, 2, 2])),
        { name: 'img_shape', dataType: DataType.INT64, dims: [4], int64Data: [1n, 1n, 3n, 3n] },
      ],
      input: [valueInfo('x', f, [3, 3])],
      output: [valueInfo('y', f, [1, 1, 6, 6])],
      valueInfo: [valueInfo('x2', f, [3, 3]), valueInfo('shape', DataType.INT64, [2])],
    },
  };
  const r = await convertFp16(model, {}, ctx());
  assertValidOnnx(r.model, t);
  const node = (name: string) => r.model.graph.node.find((n) => n.name === name)!;
  assert.equal(node('zeros').attribute.find((a) => a.name === 'value')!.t!.dataType, DataType.FLOAT16);
  assert.equal(node('shape_f').attribute.find((a) => a.name === 'to')!.i, BigInt(DataType.FLOAT16));
  assert.equal(node('eye').attribute.find((a) => a.name === 'dtype')!.i, BigInt(DataType.FLOAT16));
  const init = (name: string) => r.model.graph.initializer.find((i) => i.name === name)!;
  assert.equal(init('start').dataType, DataType.FLOAT, 'Range (block list) reads fp32');
  assert.equal(init('scales').dataType, DataType.FLOAT, "Resize's scales stay fp32 by spec");
  assert.deepEqual(castsAround(r.model, 'range'), { before: 0, after: 1 });
  assert.ok(r.skipped.some((s) => s.node === 'range' && /block list/.test(s.reason)));
  assert.equal(r.model.graph.valueInfo.find((v) => v.name === 'x2')!.type!.tensorType!.elemType, DataType.FLOAT16);
  assert.equal(r.model.graph.valueInfo.find((v) => v.name === 'shape')!.type!.tensorType!.elemType, DataType.INT64);
  const x = Float32Array.from({ length: 9 }, (_, i) => i / 10);
  const feeds = { x: { type: 'float32' as const, data: x, dims: [3, 3] } };
  const sqnr = await outputSqnr(model, r.model, feeds);
  assert.ok(sqnr > 45, `SQNR ${sqnr.toFixed(1)} dB`);
});

test('fp16 leaves nodes with subgraphs fp32 and feeds them fp32 values of outer tensors', async (t) => {
  const f = DataType.FLOAT;
  const branch = (op: string): GraphProto => ({
    name: op, node: [makeNode(op, ['h', 'one'], [`${op}_out`], op)], initializer: [tensorFromFloat32('one', [], new Float32Array([1]))],
    input: [], output: [valueInfo(`${op}_out`, f, [2, 3])], valueInfo: [],
  });
  const model: ModelProto = {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'if',
      node: [
        makeNode('Mul', ['x', 'two'], ['h'], 'double'),
        { ...makeNode('If', ['cond'], ['r'], 'branch'), attribute: [
          { name: 'then_branch', type: AttributeType.GRAPH, g: branch('Add') },
          { name: 'else_branch', type: AttributeType.GRAPH, g: branch('Sub') },
        ] },
        makeNode('Mul', ['r', 'two'], ['y'], 'scale'),
      ],
      initializer: [tensorFromFloat32('two', [], new Float32Array([2]))],
      input: [valueInfo('x', f, [2, 3]), valueInfo('cond', DataType.BOOL, [])],
      output: [valueInfo('y', f, [2, 3])],
      valueInfo: [],
    },
  };
  const r = await convertFp16(model, {}, ctx());
  assertValidOnnx(r.model, t);
  assert.ok(r.skipped.some((s) => s.node === 'branch' && /subgraph/.test(s.reason)));
  assert.match(r.notes.join('\n'), /1 node\(s\) with subgraphs stay fp32/);
  const h = r.model.graph.node.find((n) => n.output[0] === 'h')!;
  assert.equal(h.opType, 'Cast', 'the subgraph reads "h" in fp32, made by a Cast from the fp16 product');
  assert.deepEqual(castsAround(r.model, 'branch'), { before: 0, after: 1 });
  for (const cond of [0, 1]) {
    const feeds = { x: { type: 'float32' as const, data: Float32Array.from([1, 2, 3, 4, 5, 6]), dims: [2, 3] }, cond: { type: 'bool' as const, data: new Uint8Array([cond]), dims: [] } };
    assert.ok((await outputSqnr(model, r.model, feeds)) > 60);
  }
  // A real model whose weights all live in BeamSearch's subgraphs: nothing to convert, still runs.
  const beam = realdataModel('onnxruntime/testdata_transformers/tiny_gpt2_beamsearch.onnx');
  const b = await convertFp16(beam, {}, ctx());
  assert.deepEqual(b.skipped.map((s) => s.opType), ['BeamSearch']);
  assert.equal(await outputSqnr(beam, b.model, feedsFor(beam, 1, 4)), Infinity);
});

test('fp16 types tensors in graphs whose nodes are not in producer order', async () => {
  // An ORT-quantized export: the nodes of its MatMulInteger (feeding a float Reshape) are appended at the end.
  const model = realdataModel('onnxruntime/testdata/attention_past_state.u8s8.onnx');
  const r = await convertFp16(model, {}, ctx());
  assert.deepEqual(floatIo(r.model), floatIo(model));
  const sqnr = await outputSqnr(model, r.model, feedsFor(model, 2, 4, 3));
  assert.ok(sqnr > 45, `SQNR ${sqnr.toFixed(1)} dB`);
});

const REAL_FP16 = [
  { rel: 'optimum/tiny-distilbert-classification/model.onnx', seq: 8, halves: true },
  { rel: 'onnxruntime-genai/tiny-random-gpt2-fp32/past.onnx', seq: 8, halves: true },
  { rel: 'onnxruntime/testdata/bert_toy_optimized.onnx', seq: 8, halves: true },
  // 2000 nodes and 15 KB of weights: the graph, not the weights, makes up the file.
  { rel: 'onnxruntime/transformers_test_data/gpt2_past.onnx', seq: 4, halves: false },
];

for (const { rel, seq, halves } of REAL_FP16) {
  test(`fp16 on ${rel}`, async (t) => {
    const model = realdataModel(rel);
    const r = await convertFp16(model, {}, ctx());
    // Some exports are not topologically sorted for onnx.checker; then the converted model must fail no differently.
    if (checkerAvailable()) {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'twb-fp16-'));
      try {
        const check = (m: ModelProto, f: string) => (writeFileSync(path.join(dir, f), encodeModel(m)), checkModel(path.join(dir, f)));
        const before = check(model, 'a.onnx');
        if (before === '') assertValidOnnx(r.model, t);
        else assert.equal(check(r.model, 'b.onnx').split('\n').slice(-3).join('\n'), before.split('\n').slice(-3).join('\n'));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    assert.deepEqual(floatIo(r.model), floatIo(model));
    const sqnr = await outputSqnr(model, r.model, feedsFor(model, 2, seq, 3));
    const size = encodeModel(r.model).length / encodeModel(model).length;
    const weights = floatBytes(r.model) / floatBytes(model);
    t.diagnostic(`${rel}: output SQNR ${sqnr.toFixed(1)} dB, file ×${size.toFixed(3)}, float initializers ×${weights.toFixed(3)}, ${r.changed.length} changed, notes: ${r.notes.slice(1).join('; ')}`);
    assert.ok(sqnr > 45, `SQNR ${sqnr.toFixed(1)} dB`);
    assert.ok(weights > 0.49 && weights < 0.52, `float initializers ×${weights.toFixed(3)}`);
    if (halves) assert.ok(size < 0.6, `file ×${size.toFixed(3)}`);
    assert.ok(r.changed.length > 0);
  });
}
