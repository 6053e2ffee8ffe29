import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeModel } from '../../engine/src/onnx/codec';
import { GraphEditor } from '../../engine/src/onnx/graph-edit';
import { DataType, ModelProto, NodeProto, TensorProto } from '../../engine/src/onnx/types';
import { readFloat32, tensorFromFloat32 } from '../../engine/src/onnx/tensor-data';
import { toHalfArray } from '../../engine/src/onnx/float16';
import { prune24, pruneMagnitude } from '../../engine/src/passes/prune-magnitude';
import { pruneHeads } from '../../engine/src/passes/prune-heads';
import { PassContext } from '../../engine/src/passes/types';
import { defaultDeps, profileInference } from '../../engine/src/profile/profiler';
import { buildFeeds, FeedTensor } from '../../engine/src/runtime/feeds';
import { TwbError } from '../../engine/src/util/errors';
import { checkerAvailable, checkModel } from './helpers/checker';
import { assertValidOnnx, builtinModel, feedsFor, realdataModel, realdataPath, runModel } from './helpers/models';

const ctx = (exclude: string[] = []): PassContext => ({ exclude: new Set(exclude) });
const hasRealdata = existsSync(realdataPath('onnxruntime/transformers_test_data/attention_opt.onnx'));
const realdata = { skip: hasRealdata ? false : 'shared/realdata is not beside the checkout' };

/** The weight a node reads now, as fp32, with its dims and element type. */
function weightOf(model: ModelProto, node: NodeProto, input = 1): { dims: number[]; values: Float32Array; type: DataType } {
  const ed = new GraphEditor(model);
  const t = ed.constant(node.input[input]!)!;
  return { dims: t.dims, values: ed.constantFloat(node.input[input]!)!, type: t.dataType };
}

const nodeNamed = (m: ModelProto, name: string) => m.graph.node.find((n) => n.name === name)!;
const bytesOf = (m: ModelProto) => Buffer.from(encodeModel(m));

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

/**
 * Whether onnx.checker can judge a rewrite of `original`: Debian's onnx 1.12 knows IR ≤ 8 and
 * opset ≤ 17, and some third-party files fail it already (nodes not topologically sorted).
 */
function checkable(original: ModelProto): boolean {
  if (original.irVersion > 8 || original.opsetImport.some((o) => (!o.domain || o.domain === 'ai.onnx') && o.version > 17)) return false;
  if (!checkerAvailable()) return true; // assertValidOnnx reports the missing checker
  const dir = mkdtempSync(path.join(os.tmpdir(), 'twb-check-'));
  try {
    writeFileSync(path.join(dir, 'm.onnx'), encodeModel(original));
    return checkModel(path.join(dir, 'm.onnx')) === '';
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A copy of `model` where the listed heads contribute nothing: their Q/K/V columns and output rows are zero. */
function zeroHeads(model: ModelProto, columns: Array<{ name: string; offsets: number[]; headDim: number }>, rows: Array<{ name: string; headDim: number }>, heads: number[]): ModelProto {
  const inits = new Map(model.graph.initializer.map((t) => [t.name, t] as const));
  const replace = new Map<string, TensorProto>();
  for (const c of columns) {
    const t = inits.get(c.name)!;
    const v = Float32Array.from(readFloat32(t));
    const cols = t.dims[1]!;
    for (let r = 0; r < t.dims[0]!; r++) for (const o of c.offsets) for (const h of heads) v.fill(0, r * cols + o + h * c.headDim, r * cols + o + (h + 1) * c.headDim);
    replace.set(c.name, tensorFromFloat32(c.name, t.dims, v));
  }
  for (const r of rows) {
    const t = inits.get(r.name)!;
    const v = Float32Array.from(readFloat32(t));
    const cols = t.dims[1]!;
    for (const h of heads) v.fill(0, h * r.headDim * cols, (h + 1) * r.headDim * cols);
    replace.set(r.name, tensorFromFloat32(r.name, t.dims, v));
  }
  return { ...model, graph: { ...model.graph, initializer: model.graph.initializer.map((t) => replace.get(t.name) ?? t) } };
}

function builtinZeroed(name: 'tiny-bert' | 'tiny-gpt', heads: number[]): ModelProto {
  const layers = [0, 1, 2, 3];
  return zeroHeads(
    builtinModel(name),
    layers.flatMap((l) => ['q', 'k', 'v'].map((p) => ({ name: `layer${l}/attn/${p}_proj/weight`, offsets: [0], headDim: 64 }))),
    layers.map((l) => ({ name: `layer${l}/attn/out_proj/weight`, headDim: 64 })),
    heads,
  );
}

async function firstOutput(m: ModelProto, feeds: Record<string, FeedTensor>, name?: string): Promise<Float32Array> {
  const out = await runModel(m, feeds, 'disabled');
  return out[name ?? m.graph.output[0]!.name]!.data;
}

// ---------------------------------------------------------------- magnitude and 2:4

test('magnitude: exactly the asked fraction of each tensor is zero, the largest weights are untouched, and the model runs', async (t) => {
  const model = builtinModel('tiny-bert');
  const before = bytesOf(model);
  const r = await pruneMagnitude(model, { method: 'magnitude', amount: 0.5 }, ctx());
  assert.deepEqual(bytesOf(model), before, 'the input model is not modified');
  assert.equal(r.changed.length, 4 * 6 + 2, 'every MatMul with a weight: 6 per layer + pooler + classifier');
  for (const c of r.changed) {
    const { before: b, after: a } = c.weight!;
    const zeros = a.reduce((s, v) => s + (v === 0 ? 1 : 0), 0);
    assert.equal(zeros, Math.round(0.5 * b.length), c.node);
    assert.equal(c.detail, '50.0% zeros');
    const sorted = Float32Array.from(b, Math.abs).sort();
    const tenth = sorted[Math.floor(0.9 * sorted.length)]!;
    for (let i = 0; i < b.length; i++) if (Math.abs(b[i]!) >= tenth) assert.equal(a[i], b[i], `${c.node}: a large weight was changed`);
    const stored = weightOf(r.model, nodeNamed(r.model, c.node));
    assert.deepEqual(stored.values, a, 'the graph holds the pruned values');
  }
  assert.ok(r.notes.some((n) => /do not skip zeros/.test(n)));
  assert.ok(r.notes.some((n) => /gzip/.test(n)));
  assertValidOnnx(r.model, t);
  const feeds = feedsFor(model);
  const [x, y] = [await firstOutput(model, feeds), await firstOutput(r.model, feeds)];
  assert.ok(y.every(Number.isFinite));
  assert.ok(maxAbsDiff(x, y) > 0, 'pruning changes the output');
});

test('2:4: in every group of 4 along K, the 2 smallest are zero and the 2 largest kept', async (t) => {
  const model = builtinModel('tiny-gpt');
  const r = await pruneMagnitude(model, { method: '2:4' }, ctx());
  assert.ok(r.changed.length > 0);
  for (const c of r.changed) {
    const w = weightOf(model, nodeNamed(model, c.node));
    const [k, n] = w.dims as [number, number];
    const a = c.weight!.after;
    for (let col = 0; col < n; col++) {
      for (let r0 = 0; r0 < k; r0 += 4) {
        const idx = [0, 1, 2, 3].map((j) => (r0 + j) * n + col);
        const kept = idx.filter((i) => a[i] !== 0);
        assert.ok(kept.length <= 2, `${c.node} column ${col} rows ${r0}..${r0 + 3}`);
        const mags = idx.map((i) => Math.abs(w.values[i]!)).sort((x, y) => y - x);
        for (const i of kept) assert.ok(Math.abs(a[i]!) >= mags[1]!, 'kept weights are the 2 largest');
      }
    }
    assert.match(c.detail!, /^2:4 \(5\d\.\d% zeros\)$/);
  }
  assertValidOnnx(r.model, t);
  assert.ok((await firstOutput(r.model, feedsFor(model))).every(Number.isFinite));
});

test('2:4 with K not a multiple of 4: the tail counts as padded with zeros', () => {
  const k6 = prune24(Float32Array.from({ length: 6 }, (_, i) => i + 1), 6, 1);
  assert.deepEqual([...k6], [0, 0, 3, 4, 5, 6], 'a tail of 2 keeps both');
  const k7 = prune24(Float32Array.from([4, 3, 2, 1, 7, 5, 6]), 7, 1);
  assert.deepEqual([...k7], [4, 3, 0, 0, 7, 0, 6], 'a tail of 3 loses its smallest');
});

test('magnitude keeps the storage layout (Gemm transB) and element type (FLOAT16)', async () => {
  const w = Float32Array.from({ length: 32 }, (_, i) => (i % 7) - 3 + i / 100);
  const model: ModelProto = {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'g',
      node: [
        { name: 'gemm', opType: 'Gemm', domain: '', input: ['x', 'wt'], output: ['y'], attribute: [{ name: 'transB', type: 2, i: 1n }] },
        { name: 'mm16', opType: 'MatMul', domain: '', input: ['h', 'w16'], output: ['z'], attribute: [] },
      ],
      initializer: [tensorFromFloat32('wt', [4, 8], w), { name: 'w16', dataType: DataType.FLOAT16, dims: [8, 4], rawData: new Uint8Array(toHalfArray(w).buffer) }],
      input: [],
      output: [],
      valueInfo: [],
    },
  };
  const r = await pruneMagnitude(model, { method: '2:4' }, ctx());
  const gemm = weightOf(r.model, nodeNamed(r.model, 'gemm'));
  assert.deepEqual(gemm.dims, [4, 8], 'Gemm transB weight stays [N, K]');
  assert.equal(gemm.type, DataType.FLOAT);
  for (let row = 0; row < 4; row++) for (let g = 0; g < 8; g += 4) assert.equal(gemm.values.slice(row * 8 + g, row * 8 + g + 4).filter((v) => v === 0).length, 2, 'groups run along K, the stored rows');
  const h = weightOf(r.model, nodeNamed(r.model, 'mm16'));
  assert.equal(h.type, DataType.FLOAT16);
  assert.deepEqual(h.dims, [8, 4]);
  assert.deepEqual(h.values, r.changed.find((c) => c.node === 'mm16')!.weight!.after);
});

test('magnitude leaves excluded nodes alone and rejects bad options', async () => {
  const model = builtinModel('tiny-bert');
  const r = await pruneMagnitude(model, { method: 'magnitude', amount: 0.3 }, ctx(['layer0/attn/q_proj']));
  assert.equal(nodeNamed(r.model, 'layer0/attn/q_proj').input[1], 'layer0/attn/q_proj/weight');
  assert.deepEqual(weightOf(r.model, nodeNamed(r.model, 'layer0/attn/q_proj')).values, weightOf(model, nodeNamed(model, 'layer0/attn/q_proj')).values);
  assert.ok(r.skipped.some((s) => s.node === 'layer0/attn/q_proj' && /excluded/.test(s.reason)));
  assert.ok(!r.changed.some((c) => c.node === 'layer0/attn/q_proj'));
  for (const amount of [1, -0.1, NaN, undefined]) await assert.rejects(pruneMagnitude(model, { method: 'magnitude', amount }, ctx()), (e: unknown) => e instanceof TwbError && e.code === 'usage');
  await assert.rejects(pruneMagnitude(model, { method: '2:4', amount: 0.3 }, ctx()), /amount must be 0\.5/);
  await assert.rejects(pruneMagnitude(model, { method: 'l1' as never, amount: 0.3 }, ctx()), /expected one of: magnitude, 2:4/);
});

for (const rel of [
  'optimum/tiny-distilbert-classification/model.onnx',
  'onnxruntime/transformers_test_data/gpt2_past.onnx',
  'onnxruntime/testdata/bert_toy_optimized.onnx',
  'onnxruntime-genai/tiny-random-gpt2-fp32/past.onnx',
]) {
  test(`magnitude and 2:4 on ${rel}`, realdata, async (t) => {
    const model = realdataModel(rel);
    const before = bytesOf(model);
    const valid = checkable(model);
    for (const method of ['magnitude', '2:4'] as const) {
      const r = await pruneMagnitude(model, { method, amount: 0.5 }, ctx());
      assert.deepEqual(bytesOf(model), before, 'the input model is not modified');
      assert.ok(r.changed.length > 0);
      if (rel.includes('tiny-random-gpt2')) assert.ok(r.changed.some((c) => c.opType === 'Attention'), 'fused QKV weights are pruned too');
      if (valid) assertValidOnnx(r.model, t);
      const out = await runModel(r.model, feedsFor(r.model, 2, 4));
      for (const v of Object.values(out)) assert.ok(v.data.every(Number.isFinite));
    }
  });
}

test('magnitude reports a weight fed as a graph input as skipped', realdata, async () => {
  const r = await pruneMagnitude(realdataModel('onnxruntime/testdata/attention_mask1d_fp32.onnx'), { method: 'magnitude', amount: 0.5 }, ctx());
  assert.ok(r.skipped.some((s) => /"weight" is a graph input/.test(s.reason)), JSON.stringify(r.skipped));
});

// ---------------------------------------------------------------- heads

for (const name of ['tiny-bert', 'tiny-gpt'] as const) {
  test(`heads on builtin:${name}: zeroed heads removed give the same output, every projection is halved`, async (t) => {
    const zeroed = builtinZeroed(name, [1, 2]);
    const before = bytesOf(zeroed);
    const r = await pruneHeads(zeroed, { amount: 0.5 }, ctx());
    assert.deepEqual(bytesOf(zeroed), before, 'the input model is not modified');
    assert.equal(r.changed.length, 4);
    for (const c of r.changed) {
      assert.equal(c.opType, 'MatMul');
      assert.match(c.node, /qk_matmul$/);
      assert.equal(c.detail, '2 of 4 heads removed (kept 0, 3)');
      assert.match(c.output, /out_proj$/);
      assert.ok(r.model.graph.node.some((n) => n.output.includes(c.output)), 'the block output keeps its name');
    }
    for (const n of r.model.graph.node.filter((x) => /attn\/(q|k|v|out)_proj$/.test(x.name))) {
      assert.deepEqual(weightOf(r.model, n).dims, n.name.endsWith('out_proj') ? [128, 256] : [256, 128], n.name);
    }
    assert.deepEqual(r.skipped, []);
    assertValidOnnx(r.model, t);
    const feeds = feedsFor(zeroed, 2, 16);
    const diff = maxAbsDiff(await firstOutput(zeroed, feeds), await firstOutput(r.model, feeds));
    t.diagnostic(`max abs diff ${diff}`);
    assert.ok(diff <= 1e-4, `max abs diff ${diff}`);
  });
}

test('heads: amount 0 changes nothing; a pruned real model differs; exclusions and bad amounts', async () => {
  const model = builtinModel('tiny-bert');
  const feeds = feedsFor(model);
  const none = await pruneHeads(model, { amount: 0 }, ctx());
  assert.equal(none.changed.length, 0);
  assert.deepEqual(bytesOf(none.model), bytesOf(model));
  const some = await pruneHeads(model, { amount: 0.25 }, ctx(['layer1/attn/softmax']));
  assert.equal(some.changed.length, 3);
  assert.ok(some.skipped.some((s) => s.node === 'layer1/attn/qk_matmul' && /excluded/.test(s.reason)));
  assert.ok(maxAbsDiff(await firstOutput(model, feeds), await firstOutput(some.model, feeds)) > 0);
  for (const amount of [1, -1, NaN]) await assert.rejects(pruneHeads(model, { amount }, ctx()), (e: unknown) => e instanceof TwbError && e.code === 'usage');
});

test('heads: the pruned tiny-bert at batch 8, seq 128 does fewer FLOPs', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'twb-prune-'));
  try {
    const model = builtinModel('tiny-bert');
    const pruned = (await pruneHeads(model, { amount: 0.5 }, ctx())).model;
    const flops = async (m: ModelProto, file: string) => {
      writeFileSync(path.join(dir, file), encodeModel(m));
      const run = await profileInference({ model: path.join(dir, file), batch: 8, seq: 128, warmup: 0, runs: 1, profiledRuns: 1, optLevel: 'disabled', threads: 2 }, defaultDeps());
      return run.compute.flops;
    };
    const [a, b] = [await flops(model, 'a.onnx'), await flops(pruned, 'b.onnx')];
    // Per layer, Q/K/V/O lose half their columns (4·2·1024·256·128) and Q·Kᵀ, ·V half their heads (2·2·8·2·128·128·64).
    const saved = 4 * (4 * 2 * 1024 * 256 * 128 + 2 * 2 * 8 * 2 * 128 * 128 * 64);
    t.diagnostic(`FLOPs per run: ${a} → ${b}`);
    assert.ok(b < a, `${b} < ${a}`);
    assert.ok(Math.abs(a - b - saved) / saved < 0.01, `saved ${a - b}, expected ${saved}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('heads on fused Attention (attention_opt.onnx): matches pruned_attention_opt.onnx shapes and the zeroed-head output', realdata, async (t) => {
  const model = realdataModel('onnxruntime/transformers_test_data/attention_opt.onnx');
  assert.equal(Number(nodeNamed(model, 'Attention_0').attribute.find((a) => a.name === 'num_heads')!.i), 2, 'this file has 2 heads of 8');
  const zeroed = zeroHeads(model, [{ name: 'Attention_0_qkv_weight', offsets: [0, 16, 32], headDim: 8 }], [{ name: 'matmul_qkv_weight', headDim: 8 }], [1]);
  const r = await pruneHeads(zeroed, { amount: 0.5 }, ctx());
  assert.equal(r.changed.length, 1);
  assert.equal(r.changed[0]!.detail, '1 of 2 heads removed (kept 0)');
  assert.equal(r.changed[0]!.output, 'matmul_qkv_2_out');
  const reference = realdataModel('onnxruntime/transformers_test_data/pruned_attention_opt.onnx');
  for (const node of ['Attention_0', 'matmul_qkv_2']) assert.deepEqual(weightOf(r.model, nodeNamed(r.model, node)).dims, weightOf(reference, nodeNamed(reference, node)).dims);
  assert.deepEqual(weightOf(r.model, nodeNamed(r.model, 'Attention_0')).dims, [16, 24]);
  assert.deepEqual(weightOf(r.model, nodeNamed(r.model, 'Attention_0'), 2).dims, [24]);
  assert.deepEqual(weightOf(r.model, nodeNamed(r.model, 'matmul_qkv_2')).dims, [8, 16]);
  const feeds = feedsFor(model);
  const diff = maxAbsDiff(await firstOutput(zeroed, feeds), await firstOutput(r.model, feeds));
  t.diagnostic(`max abs diff ${diff}`);
  assert.ok(diff <= 1e-4, `max abs diff ${diff}`);
});

test('heads on MultiHeadAttention with separate projections (attention_mha.onnx)', realdata, async (t) => {
  const model = realdataModel('onnxruntime/transformers_test_data/attention_mha.onnx');
  const cols = ['q', 'k', 'v'].map((p) => ({ name: `matmul_${p}_weight`, offsets: [0], headDim: 8 }));
  const zeroed = zeroHeads(model, cols, [{ name: 'matmul_qkv_weight', headDim: 8 }], [0]);
  const r = await pruneHeads(zeroed, { amount: 0.5 }, ctx());
  assert.equal(r.changed[0]?.detail, '1 of 2 heads removed (kept 1)');
  for (const p of ['q', 'k', 'v']) assert.deepEqual(weightOf(r.model, nodeNamed(r.model, `matmul_${p}`)).dims, [16, 8]);
  assert.deepEqual(weightOf(r.model, nodeNamed(r.model, 'Attention_0'), 3).dims, [24]);
  assert.deepEqual(weightOf(r.model, nodeNamed(r.model, 'matmul_qkv_2')).dims, [8, 16]);
  const feeds = feedsFor(model);
  const diff = maxAbsDiff(await firstOutput(zeroed, feeds), await firstOutput(r.model, feeds));
  t.diagnostic(`max abs diff ${diff}`);
  assert.ok(diff <= 1e-4, `max abs diff ${diff}`);
});

test('heads on the whisper encoder self-attention (fused Attention, out projection with bias)', realdata, async (t) => {
  const model = realdataModel('onnxruntime/transformers_test_data/whisper/hf_fp32_encoder_self_attention.onnx');
  const zeroed = zeroHeads(model, [{ name: 'Attention_0_qkv_weight', offsets: [0, 10, 20], headDim: 5 }], [{ name: 'onnx::MatMul_122', headDim: 5 }], [0]);
  const r = await pruneHeads(zeroed, { amount: 0.5 }, ctx());
  assert.equal(r.changed[0]?.output, '/self_attn/out_proj/MatMul_output_0');
  assert.deepEqual(weightOf(r.model, nodeNamed(r.model, 'Attention_0')).dims, [10, 15]);
  assertValidOnnx(r.model, t);
  const feeds = feedsFor(model);
  const diff = maxAbsDiff(await firstOutput(zeroed, feeds), await firstOutput(r.model, feeds));
  t.diagnostic(`max abs diff ${diff}`);
  assert.ok(diff <= 1e-4, `max abs diff ${diff}`);
});

test('heads on unfused BERT with constant shapes (bert_toy_optimized.onnx)', realdata, async (t) => {
  const model = realdataModel('onnxruntime/testdata/bert_toy_optimized.onnx');
  const layers = [0, 1, 2, 3, 4];
  const p = (l: number) => `bert.encoder.layer.${l}.attention`;
  const cols = layers.flatMap((l) => ['query', 'key', 'value'].map((q) => ({ name: `${p(l)}.self.${q}.weight_transposed`, offsets: [0], headDim: 8 })));
  const zeroed = zeroHeads(model, cols, layers.map((l) => ({ name: `${p(l)}.output.dense.weight_transposed`, headDim: 8 })), [0, 2]);
  const r = await pruneHeads(zeroed, { amount: 0.5 }, ctx());
  assert.equal(r.changed.length, 5);
  assert.ok(r.changed.every((c) => c.detail === '2 of 4 heads removed (kept 1, 3)'));
  if (checkable(model)) assertValidOnnx(r.model, t);
  else t.diagnostic('onnx.checker rejects the original file already (nodes not topologically sorted)');
  const feeds = feedsFor(model, 2, 8);
  for (const out of ['prediction_scores', 'seq_relationship_score']) {
    const diff = maxAbsDiff(await firstOutput(zeroed, feeds, out), await firstOutput(r.model, feeds, out));
    t.diagnostic(`${out}: max abs diff ${diff}`);
    assert.ok(diff <= 1e-4, `${out}: max abs diff ${diff}`);
  }
});

for (const [rel, blocks] of [
  ['optimum/tiny-distilbert-classification/model.onnx', 2],
  ['onnxruntime/transformers_test_data/gpt2_past.onnx', 12],
] as const) {
  test(`heads on ${rel}: computed head shapes are reported, not ignored`, realdata, async () => {
    const model = realdataModel(rel);
    const r = await pruneHeads(model, { amount: 0.5 }, ctx());
    assert.equal(r.changed.length, 0);
    assert.equal(r.skipped.length, blocks, JSON.stringify(r.skipped));
    for (const s of r.skipped) assert.match(s.reason, /head count of Reshape ".+" is computed at run time/);
    assert.ok(r.notes.some((n) => /not pruned; the skipped list says why/.test(n)));
  });
}

test('heads on tiny-random-gpt2 past.onnx: KV-cache blocks are skipped, or pruned with resizeState', realdata, async (t) => {
  const model = realdataModel('onnxruntime-genai/tiny-random-gpt2-fp32/past.onnx');
  const plain = await pruneHeads(model, { amount: 0.5 }, ctx());
  assert.equal(plain.changed.length, 0);
  assert.equal(plain.skipped.length, 5);
  assert.ok(plain.skipped.every((s) => /KV-cache state \(past_\d, present_\d\)/.test(s.reason)));

  const layers = [0, 1, 2, 3, 4];
  const cols = layers.map((l) => ({ name: `transformer.h.${l}.attn.c_attn.weight`, offsets: [0, 32, 64], headDim: 8 }));
  const zeroed = zeroHeads(model, cols, layers.map((l) => ({ name: `transformer.h.${l}.attn.c_proj.weight`, headDim: 8 })), [1, 2]);
  const r = await pruneHeads(zeroed, { amount: 0.5, resizeState: true }, ctx());
  assert.equal(r.changed.length, 5);
  assert.ok(r.notes.some((n) => /graph input "past_0" keeps its name but its declared shape changes from \[2, batch_size, 4, past_seq_len, 8\] to \[2, batch_size, 2, past_seq_len, 8\]/.test(n)), r.notes.join('\n'));
  // The same cache, with only the kept heads (0 and 3) for the pruned model.
  const feeds = buildFeeds(model, { batch: 2, seq: 3, past: 2, named: {} }, 1).feeds;
  const prunedFeeds = { ...feeds };
  for (const l of layers) prunedFeeds[`past_${l}`] = keepHeads(feeds[`past_${l}`]!, [0, 3]);
  const a = await runModel(zeroed, feeds, 'disabled');
  const b = await runModel(r.model, prunedFeeds, 'disabled');
  const diff = maxAbsDiff(a.logits!.data, b.logits!.data);
  t.diagnostic(`logits: max abs diff ${diff}`);
  assert.ok(diff <= 1e-4, `logits: max abs diff ${diff}`);
  const present = keepHeads({ type: 'float32', data: a.present_0!.data, dims: a.present_0!.dims }, [0, 3]);
  assert.ok(maxAbsDiff(present.data as Float32Array, b.present_0!.data) <= 1e-5, 'present holds the kept heads');
});

/** Axis 2 of a [2, B, H, S, D] cache, only the listed heads. */
function keepHeads(t: FeedTensor, heads: number[]): FeedTensor {
  const [two, b, h, s, d] = t.dims as [number, number, number, number, number];
  const src = t.data as Float32Array;
  const out = new Float32Array(two * b * heads.length * s * d);
  let o = 0;
  for (let i = 0; i < two * b; i++) for (const hh of heads) for (let j = 0; j < s * d; j++) out[o++] = src[(i * h + hh) * s * d + j]!;
  return { type: 'float32', data: out, dims: [two, b, heads.length, s, d] };
}

test('heads: other fused attention ops and attention inside subgraphs are reported', realdata, async () => {
  const dmmha = await pruneHeads(realdataModel('onnxruntime/testdata/dmmha_self_attn.onnx'), { amount: 0.5 }, ctx());
  assert.ok(dmmha.skipped.some((s) => /not DecoderMaskedMultiHeadAttention/.test(s.reason)), JSON.stringify(dmmha.skipped));
  const beam = await pruneHeads(realdataModel('onnxruntime/testdata_transformers/tiny_gpt2_beamsearch.onnx'), { amount: 0.5 }, ctx());
  assert.ok(beam.notes.some((n) => /subgraphs of BeamSearch "BeamSearch_gpt2" is not pruned/.test(n)), beam.notes.join('\n'));
});
