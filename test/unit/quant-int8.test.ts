import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertValidOnnx, builtinModel, executedOps, feedsFor, opCounts, realdataModel, runModel } from './helpers/models';
import { encodeModel } from '../../engine/src/onnx/codec';
import { makeNode } from '../../engine/src/onnx/graph-edit';
import { tensorFromFloat32 } from '../../engine/src/onnx/tensor-data';
import { valueInfo } from '../../engine/src/model/graph-builder';
import { DataType, ModelProto } from '../../engine/src/onnx/types';
import { errorMetrics } from '../../engine/src/analysis/error-metrics';
import { FeedTensor } from '../../engine/src/runtime/feeds';
import { createRng } from '../../engine/src/util/rng';
import { TwbError } from '../../engine/src/util/errors';
import { CaptureFn, CapturedTensor, PassContext, PassResult } from '../../engine/src/passes/types';
import { dequantizeInt8, dequantizeUint8, int8Tensor, int8WeightScales, quantizeInt8, quantizeUint8, REDUCED_INT8_LIMIT, roundHalfEven, uint8Params } from '../../engine/src/passes/quant-math';
import { calibrateRange, entropyRange, histogramOf, minMaxRange, percentileRange, StreamingHistogram } from '../../engine/src/passes/calibration';
import { quantizeInt8Dynamic } from '../../engine/src/passes/int8-dynamic';
import { opsetRaiseBlockers, quantizeInt8Static } from '../../engine/src/passes/int8-static';

const ctx = (extra: Partial<PassContext> = {}): PassContext => ({ exclude: new Set(), ...extra });

/** A copy of `model` that also outputs `tensors` (ORT infers the types of outputs given by name only). */
function expose(model: ModelProto, tensors: string[]): ModelProto {
  const have = new Set([...model.graph.output, ...model.graph.input].map((v) => v.name));
  return { ...model, graph: { ...model.graph, output: [...model.graph.output, ...tensors.filter((t) => !have.has(t)).map((name) => ({ name }))] } };
}

/** A CaptureFn backed by ORT runs of the original model on `batches` (graph inputs come from the feeds). */
function ortCapture(model: ModelProto, batches: Array<Record<string, FeedTensor>>, asked: string[][] = []): CaptureFn {
  return async (names) => {
    asked.push(names);
    const out = new Map<string, CapturedTensor>(names.map((n) => [n, { dims: [], data: [] }]));
    const exposed = expose(model, names);
    for (const feeds of batches) {
      const r = await runModel(exposed, feeds, 'disabled');
      for (const n of names) {
        const v = feeds[n] ? { dims: feeds[n].dims, data: Float32Array.from(feeds[n].data as Float32Array) } : r[n]!;
        out.get(n)!.dims.push(v.dims);
        out.get(n)!.data.push(v.data);
      }
    }
    return out;
  };
}

const sqnr = (a: { data: Float32Array }, b: { data: Float32Array }) => errorMetrics(a.data, b.data).sqnrDb;

describe('quant-math', () => {
  test('rounding is half to even, as QuantizeLinear', () => {
    assert.deepEqual([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4, -2.6].map(roundHalfEven), [0, 2, 2, -0, -2, -2, 2, -3]);
  });

  test('symmetric int8 weights per tensor and per column, hand computed', () => {
    // [K=2, N=2]: column maxima 127 and 254, so per-column scales 1 and 2, per-tensor scale 2.
    const w = Float32Array.from([127, 254, 2.5, 7]);
    const perTensor = int8WeightScales(w, 2, 2, false);
    assert.deepEqual([...perTensor], [2]);
    assert.deepEqual([...quantizeInt8(w, 2, 2, perTensor)], [64, 127, 1, 4]); // 63.5→64, 1.25→1, 3.5→4
    const perColumn = int8WeightScales(w, 2, 2, true);
    assert.deepEqual([...perColumn], [1, 2]);
    const q = quantizeInt8(w, 2, 2, perColumn);
    assert.deepEqual([...q], [127, 127, 2, 4]); // 2.5→2 (even), 3.5→4
    assert.deepEqual([...dequantizeInt8(q, 2, 2, perColumn)], [127, 254, 2, 8]);
  });

  test('weights clamp to ±127 (never -128), zero columns get scale 1, reduced range is ±64', () => {
    assert.deepEqual([...quantizeInt8(Float32Array.from([300, -300]), 1, 2, Float32Array.from([1]))], [127, -127]);
    assert.deepEqual([...int8WeightScales(Float32Array.from([0, 3, 0, -1]), 2, 2, true)], [1, Math.fround(3 / 127)]);
    const reduced = int8WeightScales(Float32Array.from([128, -64]), 1, 2, false, REDUCED_INT8_LIMIT);
    assert.deepEqual([...reduced], [2]);
    assert.deepEqual([...quantizeInt8(Float32Array.from([128, -64]), 1, 2, reduced, REDUCED_INT8_LIMIT)], [64, -32]);
  });

  test('uint8 activation parameters include 0 in the range', () => {
    const p = uint8Params(-1, 3);
    assert.equal(p.scale, Math.fround(4 / 255));
    assert.equal(p.zeroPoint, 64); // round(1 / (4/255)) = round(63.75)
    assert.deepEqual(uint8Params(0.5, 2), { scale: Math.fround(2 / 255), zeroPoint: 0 });
    assert.deepEqual(uint8Params(-2, -1), { scale: Math.fround(2 / 255), zeroPoint: 255 });
    assert.deepEqual(uint8Params(0, 0), { scale: 1, zeroPoint: 0 });
  });

  test('uint8 quantization saturates at 0 and 255 and dequantizes back', () => {
    const p = { scale: 1, zeroPoint: 10 };
    const q = quantizeUint8([-20, 0, 2.5, 3.5, 300], p);
    assert.deepEqual([...q], [0, 10, 12, 14, 255]);
    assert.deepEqual([...dequantizeUint8(q, p)], [-10, 0, 2, 4, 245]);
  });

  test('int8 tensors store two’s-complement bytes as INT8 raw data', () => {
    const t = int8Tensor('w', [3], Int8Array.from([-1, 127, -127]));
    assert.equal(t.dataType, DataType.INT8);
    assert.deepEqual([...t.rawData!], [255, 127, 129]);
  });
});

function laplace(n: number, seed: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n }, () => {
    const u = rng.next() - 0.5;
    return -Math.sign(u) * Math.log(1 - 2 * Math.abs(u));
  });
}

function fakeQuantMse(x: Float32Array, r: { lo: number; hi: number }): number {
  const p = uint8Params(r.lo, r.hi);
  const d = dequantizeUint8(quantizeUint8(x, p), p);
  let s = 0;
  for (let i = 0; i < x.length; i++) s += (x[i]! - d[i]!) ** 2;
  return s / x.length;
}

const captured = (...batches: Float32Array[]): CapturedTensor => ({ dims: batches.map((b) => [b.length]), data: batches });

describe('calibration', () => {
  test('minmax is exact over all batches and ignores NaN and infinities', () => {
    const t = captured(Float32Array.from([0.5, -2, NaN]), Float32Array.from([7, Infinity, -1]));
    assert.deepEqual(minMaxRange(t), { lo: -2, hi: 7 });
    assert.deepEqual(calibrateRange(t, 'minmax'), { lo: -2, hi: 7 });
  });

  test('the streaming histogram doubles its range without losing counts', () => {
    const h = new StreamingHistogram(8);
    h.add([0.5, -0.25]);
    h.add([3]); // limit 0.5 → 1 → 2 → 4
    assert.equal(h.limit, 4);
    const direct = new StreamingHistogram(8, 4);
    direct.add([0.5, -0.25, 3]);
    assert.deepEqual([...h.counts], [...direct.counts]);
    assert.equal(h.total, 3);
    assert.deepEqual([h.min, h.max], [-0.25, 3]);
  });

  test('percentile of a uniform distribution cuts each tail, or |x| when symmetric', () => {
    const rng = createRng(3);
    const batches = Array.from({ length: 4 }, () => Float32Array.from({ length: 250_000 }, () => 2 * rng.next() - 1));
    const h = histogramOf(captured(...batches));
    const w = h.binWidth;
    const r = percentileRange(h, 99);
    assert.ok(Math.abs(r.lo + 0.99) < 2 * w && Math.abs(r.hi - 0.99) < 2 * w, `range ${r.lo}..${r.hi}`);
    const s = percentileRange(h, 98, true);
    assert.ok(Math.abs(s.hi - 0.98) < 2 * w && s.lo === -s.hi, `range ${s.lo}..${s.hi}`);
    // The default keeps 99.999 %: almost all of [−1, 1].
    const d = calibrateRange(captured(...batches), 'percentile');
    assert.ok(d.hi > 0.999 && d.lo < -0.999);
  });

  test('entropy clips a heavy-tailed distribution below its max and quantizes it better than minmax', () => {
    const t = captured(laplace(250_000, 1), laplace(250_000, 2), laplace(250_000, 3), laplace(250_000, 4));
    const all = new Float32Array(1_000_000);
    t.data.forEach((b, i) => all.set(b, i * 250_000));
    const mm = minMaxRange(t);
    const en = entropyRange(histogramOf(t));
    assert.ok(en.hi < 0.9 * mm.hi && en.lo > 0.9 * mm.lo, `entropy ${en.lo}..${en.hi} vs max ${mm.lo}..${mm.hi}`);
    assert.ok(en.hi > 3, `entropy threshold ${en.hi} is not absurdly small`);
    assert.ok(fakeQuantMse(all, en) < fakeQuantMse(all, mm));
  });
});

interface Case {
  name: string;
  model: ModelProto;
  /** Extra tensors compared (kept names inside the graph). */
  inspect: string[];
}

const builtins = (): Case[] => [
  { name: 'tiny-bert', model: builtinModel('tiny-bert'), inspect: ['final_ln'] },
  { name: 'tiny-gpt', model: builtinModel('tiny-gpt'), inspect: ['final_ln'] },
];

/** Runs the fp32 and quantized models on the same feeds and returns SQNR per compared tensor. */
async function compare(original: ModelProto, quantized: ModelProto, inspect: string[], feeds: Record<string, FeedTensor>): Promise<Record<string, number>> {
  const names = [...original.graph.output.map((o) => o.name), ...inspect];
  const a = await runModel(expose(original, inspect), feeds);
  const b = await runModel(expose(quantized, inspect), feeds);
  return Object.fromEntries(names.map((n) => [n, sqnr(a[n]!, b[n]!)]));
}

function assertCommon(c: Case, r: PassResult, before: Uint8Array, targets: number) {
  assert.deepEqual(encodeModel(c.model), before, 'the original model is untouched');
  assert.equal(r.changed.filter((c) => c.opType !== 'Gather').length, targets);
  assert.ok(encodeModel(r.model).length < 0.4 * before.length, 'int8 weights make the file much smaller');
  for (const ch of r.changed) {
    assert.ok(ch.weight && ch.weight.before.length === ch.weight.after.length);
    // Rounding moves a weight by at most half a step; a step is at most |max| / 64 (7-bit range).
    const absMax = ch.weight.before.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    assert.ok(ch.weight.before.every((v, i) => Math.abs(v - ch.weight!.after[i]!) <= absMax / 128 + 1e-7), `${ch.node}: dequantized weight`);
    assert.ok(r.model.graph.node.some((n) => n.output.includes(ch.output)), `"${ch.output}" is still produced`);
  }
  const fp32Left = r.changed.filter((ch) => r.model.graph.initializer.some((t) => t.name === ch.weight!.name));
  assert.deepEqual(fp32Left, [], 'the fp32 weights are removed');
}

describe('int8 dynamic on the built-in models', () => {
  for (const perChannel of [false, true]) {
    for (const c of builtins()) {
      test(`${c.name} ${perChannel ? 'per-channel' : 'per-tensor'}: valid, runs the fast kernels, close to fp32`, async (t) => {
        const before = encodeModel(c.model);
        const r = await quantizeInt8Dynamic(c.model, { perChannel }, ctx());
        assertCommon(c, r, before, c.name === 'tiny-bert' ? 26 : 25);
        assert.match(r.changed[0]!.detail!, perChannel ? /^int8 per-channel \(256 scales/ : /^int8 per-tensor/);
        assert.equal(opCounts(r.model).MatMulInteger, r.changed.filter((c) => c.opType !== 'Gather').length);
        const feeds = feedsFor(c.model, 4, 32);
        const s = await compare(c.model, r.model, c.inspect, feeds);
        t.diagnostic(`SQNR dB ${JSON.stringify(s)}`);
        // Measured ~27–30 dB on final_ln and 23–29 dB on logits; a wrong scale or layout gives < 5 dB.
        assert.ok(s.final_ln! > 22 && s.logits! > 18, JSON.stringify(s));
        // Every product is fused (per-channel scales included): nothing runs as a bare MatMulInteger.
        const ops = await executedOps(r.model, feeds);
        assert.ok(ops.has('DynamicQuantizeMatMul') && ops.has('MatMulIntegerToFloat') && !ops.has('MatMulInteger'), [...ops].join(','));
        assertValidOnnx(r.model, t);
      });
    }
  }

  test('a weight shared by two MatMuls is quantized once', async () => {
    const m = builtinModel('tiny-bert');
    const k = m.graph.node.find((n) => n.name === 'layer0/attn/k_proj')!;
    k.input[1] = 'layer0/attn/q_proj/weight';
    const r = await quantizeInt8Dynamic(m, { perChannel: false }, ctx());
    const int8 = r.model.graph.initializer.filter((t) => t.dataType === DataType.INT8 && t.dims.length === 2);
    assert.equal(int8.length, r.changed.length - 1);
    await runModel(r.model, feedsFor(m));
  });

  test('an excluded node stays an fp32 MatMul and is reported', async () => {
    const m = builtinModel('tiny-gpt');
    const r = await quantizeInt8Dynamic(m, { perChannel: false }, ctx({ exclude: new Set(['head/lm_matmul']) }));
    const kept = r.model.graph.node.find((n) => n.name === 'head/lm_matmul')!;
    assert.equal(kept.opType, 'MatMul');
    assert.equal(r.model.graph.initializer.find((t) => t.name === kept.input[1])!.dataType, DataType.FLOAT);
    assert.deepEqual(r.skipped.map((s) => s.node), ['head/lm_matmul']);
    assert.ok(!r.changed.some((c) => c.node === 'head/lm_matmul'));
  });

  test('a default opset below 11 skips every target with the reason', async () => {
    const m = builtinModel('tiny-bert');
    m.opsetImport = [{ domain: '', version: 10 }];
    const r = await quantizeInt8Dynamic(m, { perChannel: false }, ctx());
    assert.equal(r.changed.length, 0);
    assert.equal(r.skipped.length, 26);
    assert.match(r.skipped[0]!.reason, /opset 10; the int8 ops need opset 11/);
  });

  test('cancellation stops the pass', async () => {
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(quantizeInt8Dynamic(builtinModel('tiny-bert'), { perChannel: false }, ctx({ signal: ac.signal })), (e: unknown) => e instanceof TwbError && e.code === 'cancelled');
  });
});

describe('int8 static (QDQ) on the built-in models', () => {
  const methods = [
    { calibrate: 'minmax', perChannel: false },
    { calibrate: 'percentile', perChannel: true },
    { calibrate: 'entropy', perChannel: false },
  ] as const;
  for (const opts of methods) {
    for (const c of builtins()) {
      test(`${c.name} ${opts.calibrate} ${opts.perChannel ? 'per-channel' : 'per-tensor'}: valid, fused by ORT, close to fp32`, async (t) => {
        const before = encodeModel(c.model);
        const asked: string[][] = [];
        const progress: number[] = [];
        const capture = ortCapture(c.model, [feedsFor(c.model, 4, 32, 11), feedsFor(c.model, 4, 32, 12)], asked);
        const r = await quantizeInt8Static(c.model, opts, ctx({ capture, onProgress: (f) => progress.push(f) }));
        assert.equal(asked.length, 1, 'one capture call for all activations');
        assert.equal(progress.at(-1), 1);
        assertCommon(c, r, before, c.name === 'tiny-bert' ? 26 : 25);
        assert.match(r.changed[0]!.detail!, new RegExp(`uint8 activations in \\[.*\\] \\(${opts.calibrate}\\)`));
        const dq = r.model.graph.node.filter((n) => n.opType === 'DequantizeLinear' && n.attribute.some((a) => a.name === 'axis'));
        assert.equal(dq.length, opts.perChannel ? r.changed.length : 0);
        const feeds = feedsFor(c.model, 4, 32, 1);
        const s = await compare(c.model, r.model, c.inspect, feeds);
        t.diagnostic(`SQNR dB ${JSON.stringify(s)}`);
        // Measured ~27–30 dB on final_ln, 23–29 dB on logits.
        assert.ok(s.final_ln! > 22 && s.logits! > 18, JSON.stringify(s));
        const ops = await executedOps(r.model, feeds);
        assert.ok(ops.has('MatMulIntegerToFloat') || ops.has('QLinearMatMul'), [...ops].join(','));
        assertValidOnnx(r.model, t);
      });
    }
  }

  test('without calibration data the pass refuses with the flag to use', async () => {
    await assert.rejects(quantizeInt8Static(builtinModel('tiny-bert'), { perChannel: false, calibrate: 'minmax' }, ctx()), (e: unknown) => e instanceof TwbError && e.code === 'usage' && /--calibration FILE/.test(e.message));
  });

  test('cancellation between layers', async () => {
    const ac = new AbortController();
    const m = builtinModel('tiny-gpt');
    const capture: CaptureFn = async (names) => {
      ac.abort();
      return new Map(names.map((n) => [n, captured(Float32Array.from([-1, 1]))]));
    };
    await assert.rejects(quantizeInt8Static(m, { perChannel: false, calibrate: 'minmax' }, ctx({ capture, signal: ac.signal })), (e: unknown) => e instanceof TwbError && e.code === 'cancelled');
  });

  test('opset blockers: attribute-style Unsqueeze blocks a raise to 13, input-style does not', () => {
    const g = builtinModel('tiny-bert').graph;
    assert.deepEqual(opsetRaiseBlockers(g, 12, 13), []);
    const withAxes = { ...g, node: [...g.node, { name: 'u', opType: 'Unsqueeze', domain: '', input: ['x'], output: ['y'], attribute: [{ name: 'axes', type: 7, ints: [0n] }] }] };
    assert.deepEqual(opsetRaiseBlockers(withAxes, 11, 13), ['"u" (Unsqueeze)']);
    assert.deepEqual(opsetRaiseBlockers(withAxes, 13, 17), []);
  });
});

/** Real models: what to run, with which feed sizes, and how close the outputs must stay (dB, measured minus margin). */
const REAL = [
  { rel: 'optimum/tiny-distilbert-classification/model.onnx', seq: 16, checker: true, gemm: 2, minDb: { dynamic: 30, static: 40 } },
  // gpt2_past and bert_toy_optimized are not topologically sorted as shipped, so onnx.checker rejects even the originals.
  { rel: 'onnxruntime/transformers_test_data/gpt2_past.onnx', seq: 4, checker: false, gemm: 48, minDb: { dynamic: 38, static: 20 } },
  { rel: 'onnxruntime/testdata/bert_toy_optimized.onnx', seq: 16, checker: false, gemm: 2, minDb: { dynamic: 30, static: 30 } },
  { rel: 'onnxruntime-genai/tiny-random-gpt2-fp32/past.onnx', seq: 4, checker: true, gemm: 0, minDb: { dynamic: 25, static: 25 } },
];

describe('int8 on real models', () => {
  for (const m of REAL) {
    for (const mode of ['dynamic', 'static'] as const) {
      test(`${m.rel} ${mode}: runs and stays close`, async (t) => {
        const model = realdataModel(m.rel);
        const before = encodeModel(model);
        const feeds = feedsFor(model, 2, m.seq, 1);
        const capture = ortCapture(model, [11, 12, 13, 14, 15, 16].map((s) => feedsFor(model, 2, m.seq, s)));
        const r = mode === 'dynamic'
          ? await quantizeInt8Dynamic(model, { perChannel: true }, ctx())
          : await quantizeInt8Static(model, { perChannel: true, calibrate: 'minmax' }, ctx({ capture }));
        assert.deepEqual(encodeModel(model), before);
        assert.ok(r.changed.length > 0);
        assert.equal(r.changed.filter((c) => c.opType === 'Gemm').length, m.gemm);
        const s = await compare(model, r.model, [], feeds);
        t.diagnostic(`SQNR dB ${JSON.stringify(s)}`);
        const first = model.graph.output[0]!.name;
        assert.ok(s[first]! > m.minDb[mode], `${first}: ${s[first]} dB`);
        const attention = opCounts(model)['com.microsoft::Attention'] ?? 0;
        if (attention > 0) {
          // Fused Attention becomes QAttention, which ORT runs.
          assert.equal(opCounts(r.model)['com.microsoft::QAttention'], attention);
          assert.ok((await executedOps(r.model, feeds)).has('QAttention'));
        }
        if (mode === 'static' && (model.opsetImport.find((o) => !o.domain)?.version ?? 0) < 13) {
          assert.ok(r.notes.some((n) => /opset/.test(n)), r.notes.join(' | '));
        }
        if (m.checker) assertValidOnnx(r.model, t);
      });
    }
  }

  test('a weight fed as a graph input is skipped with the reason', async () => {
    const model = realdataModel('onnxruntime/testdata/attention_mask1d_fp32.onnx');
    for (const r of [
      await quantizeInt8Dynamic(model, { perChannel: false }, ctx()),
      await quantizeInt8Static(model, { perChannel: false, calibrate: 'minmax' }, ctx({ capture: async () => new Map() })),
    ]) {
      assert.equal(r.changed.length, 0);
      const s = r.skipped.find((x) => x.node === 'Gemm_60');
      assert.ok(s && /graph input/.test(s.reason), JSON.stringify(r.skipped));
    }
  });

  test('an Attention node QAttention cannot express stays fp32 with the reason and a note', async () => {
    const model = realdataModel('onnxruntime-genai/tiny-random-gpt2-fp32/past.onnx');
    const a = model.graph.node.find((n) => n.name === 'GptAttention_2')!;
    a.attribute.push({ name: 'qkv_hidden_sizes', type: 7, ints: [32n, 32n, 32n] });
    const r = await quantizeInt8Dynamic(model, { perChannel: false }, ctx());
    assert.match(r.skipped.find((x) => x.node === 'GptAttention_2')!.reason, /attribute "qkv_hidden_sizes" has no QAttention counterpart/);
    assert.deepEqual(r.notes, ['1 fused com.microsoft Attention node(s) stay fp32 (their QKV weights are not quantized)']);
    assert.equal(opCounts(r.model)['com.microsoft::QAttention'], 4);
  });

  test('static per-channel on an opset-11 model with Unsqueeze attributes falls back to per tensor', async () => {
    const model = realdataModel('optimum/tiny-distilbert-classification/model.onnx');
    const capture = ortCapture(model, [feedsFor(model, 2, 16, 11)]);
    const r = await quantizeInt8Static(model, { perChannel: true, calibrate: 'minmax' }, ctx({ capture }));
    assert.ok(r.notes.some((n) => /weights are quantized per tensor/.test(n)), r.notes.join(' | '));
    assert.equal(r.model.opsetImport.find((o) => !o.domain)!.version, 11);
    assert.ok(r.changed.every((c) => /int8 per-tensor/.test(c.detail!)));
  });
});

describe('Gemm targets', () => {
  /** x[B,16] → Gemm(W stored [N=8, K=16], transB=1, alpha 0.5, beta 2, bias) → y: the general Gemm. */
  function gemmModel(): ModelProto {
    const rng = createRng(5);
    const w = Float32Array.from({ length: 8 * 16 }, () => rng.normal());
    const bias = Float32Array.from({ length: 8 }, () => rng.normal());
    return {
      irVersion: 8,
      opsetImport: [{ domain: '', version: 17 }],
      graph: {
        name: 'gemm',
        node: [makeNode('Gemm', ['x', 'W', 'b'], ['y'], 'fc', { transB: 1, alpha: { float: 0.5 }, beta: { float: 2 } })],
        initializer: [tensorFromFloat32('W', [8, 16], w), tensorFromFloat32('b', [8], bias)],
        input: [valueInfo('x', DataType.FLOAT, ['batch', 16])],
        output: [valueInfo('y', DataType.FLOAT, ['batch', 8])],
        valueInfo: [],
      },
    };
  }

  for (const mode of ['dynamic', 'static'] as const) {
    test(`${mode} per-channel: transB, alpha and beta are honoured and ORT runs an int8 kernel`, async (t) => {
      const m = gemmModel();
      const feeds = feedsFor(m, 64, 1, 3);
      const capture = ortCapture(m, [feedsFor(m, 64, 1, 4), feedsFor(m, 64, 1, 5)]);
      const r = mode === 'dynamic' ? await quantizeInt8Dynamic(m, { perChannel: true }, ctx()) : await quantizeInt8Static(m, { perChannel: true, calibrate: 'minmax' }, ctx({ capture }));
      assert.equal(r.changed[0]!.detail!.startsWith('int8 per-channel (8 scales'), true);
      assert.equal(r.changed[0]!.weight!.before.length, 16 * 8);
      const s = await compare(m, r.model, [], feeds);
      t.diagnostic(`SQNR dB ${JSON.stringify(s)}`);
      assert.ok(s.y! > 30, JSON.stringify(s));
      const ops = await executedOps(r.model, feeds);
      t.diagnostic(`executed ${[...ops].join(',')}`);
      assert.ok(['DynamicQuantizeMatMul', 'MatMulIntegerToFloat', 'QGemm'].some((o) => ops.has(o)), [...ops].join(','));
      assertValidOnnx(r.model, t);
    });
  }
});
