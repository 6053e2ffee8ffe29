import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildTransformer } from '../../engine/src/model/transformer';
import { PRESETS, presetSpec, TransformerSpec } from '../../engine/src/model/spec';
import { encodeModel } from '../../engine/src/onnx/codec';
import { summarizeModel } from '../../engine/src/onnx/summary';
import { ort } from '../../engine/src/runtime/ort';
import { checkerAvailable, checkModel } from './helpers/checker';

const small: TransformerSpec = { layers: 2, hidden: 32, heads: 4, ffn: 64, vocab: 50, maxSeq: 16, kind: 'decoder' };

async function logits(spec: TransformerSpec, ids: number[][], mask?: number[][]): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const o = ort();
  const session = await o.InferenceSession.create(encodeModel(buildTransformer(spec, { seed: 7 })), { graphOptimizationLevel: 'disabled' });
  const [b, s] = [ids.length, ids[0].length];
  const feeds: Record<string, InstanceType<typeof o.Tensor>> = {
    input_ids: new o.Tensor('int64', BigInt64Array.from(ids.flat(), (v) => BigInt(v)), [b, s]),
  };
  if (spec.kind === 'encoder') feeds.attention_mask = new o.Tensor('int64', BigInt64Array.from((mask ?? ids.map((r) => r.map(() => 1))).flat(), (v) => BigInt(v)), [b, s]);
  const out = await session.run(feeds);
  await session.release();
  return { data: out.logits.data as Float32Array, dims: out.logits.dims };
}

test('presets have exactly the specified shape', () => {
  for (const name of ['tiny-bert', 'tiny-gpt']) {
    const s = PRESETS[name];
    assert.deepEqual({ layers: s.layers, hidden: s.hidden, heads: s.heads, ffn: s.ffn, vocab: s.vocab, maxSeq: s.maxSeq }, { layers: 4, hidden: 256, heads: 4, ffn: 1024, vocab: 1024, maxSeq: 128 });
  }
  assert.equal(PRESETS['tiny-bert'].kind, 'encoder');
  assert.equal(PRESETS['tiny-gpt'].kind, 'decoder');
  assert.throws(() => presetSpec('builtin:huge-gpt'), /unknown built-in model "builtin:huge-gpt"; expected one of: builtin:tiny-bert, builtin:tiny-gpt/);
});

test('same spec and seed give byte-identical files; another seed does not', () => {
  const a = encodeModel(buildTransformer(PRESETS['tiny-gpt'], { seed: 1 }));
  const b = encodeModel(buildTransformer(PRESETS['tiny-gpt'], { seed: 1 }));
  const c = encodeModel(buildTransformer(PRESETS['tiny-gpt'], { seed: 2 }));
  assert.ok(Buffer.from(a).equals(Buffer.from(b)));
  assert.ok(!Buffer.from(a).equals(Buffer.from(c)));
});

test('node names show the structure, standard ops only, opset 17', () => {
  const m = buildTransformer(PRESETS['tiny-gpt']);
  const names = new Set(m.graph.node.map((n) => n.name));
  for (const n of ['layer2/attn/qk_matmul', 'layer2/attn/softmax', 'layer2/ffn/up', 'layer2/ffn/down', 'layer3/ln1', 'embed/token', 'head/lm_matmul', 'mask/causal']) assert.ok(names.has(n), n);
  assert.ok(m.graph.node.every((n) => n.domain === ''));
  assert.deepEqual(m.opsetImport, [{ domain: '', version: 17 }]);
  // 4 layers × (4 attention + 2 FFN projections) + embeddings + head ≈ 3.7 M parameters.
  const s = summarizeModel(m);
  const expected = 1024 * 256 + 128 * 256 + 4 * (4 * (256 * 256 + 256) + 256 * 1024 + 1024 + 1024 * 256 + 256 + 4 * 256) + 2 * 256 + 256 * 1024;
  assert.equal(s.params, expected + 4 /* scalar constants: attention scale, √2, 1, ½ */);
});

test('decoder logits are [batch, sequence, vocab] and causal', async () => {
  const a = await logits(small, [[1, 2, 3, 4, 5, 6]]);
  const b = await logits(small, [[1, 2, 3, 4, 5, 49]]);
  assert.deepEqual(a.dims, [1, 6, 50]);
  const v = small.vocab;
  // Positions 0..4 cannot see the last token, so their logits must not change…
  for (let i = 0; i < 5 * v; i++) assert.equal(a.data[i], b.data[i]);
  // …while the last position's must.
  assert.ok(a.data.slice(5 * v).some((x, i) => x !== b.data[5 * v + i]));
});

test('encoder logits are [batch, classes], see every token, and honour the padding mask', async () => {
  const enc: TransformerSpec = { ...small, kind: 'encoder', numClasses: 3 };
  const a = await logits(enc, [[1, 2, 3, 4], [5, 6, 7, 8]], [[1, 1, 1, 1], [1, 1, 0, 0]]);
  assert.deepEqual(a.dims, [2, 3]);
  const changedLast = await logits(enc, [[1, 2, 3, 9], [5, 6, 7, 8]], [[1, 1, 1, 1], [1, 1, 0, 0]]);
  assert.ok(a.data.slice(0, 3).some((x, i) => x !== changedLast.data[i]), 'first token must see the last one');
  const changedPadded = await logits(enc, [[1, 2, 3, 4], [5, 6, 40, 41]], [[1, 1, 1, 1], [1, 1, 0, 0]]);
  for (let i = 3; i < 6; i++) assert.ok(Math.abs(a.data[i] - changedPadded.data[i]) < 1e-6, 'padded tokens must not matter');
});

test('built-in models pass onnx.checker (full check)', { skip: !checkerAvailable() && !process.env.CI ? 'python3-onnx is not installed (CI installs it)' : false }, async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'twb-checker-'));
  try {
    for (const name of Object.keys(PRESETS)) {
      const file = path.join(dir, `${name}.onnx`);
      await fs.writeFile(file, encodeModel(buildTransformer(PRESETS[name])));
      assert.equal(checkModel(file), '', `${name} fails onnx.checker`);
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
