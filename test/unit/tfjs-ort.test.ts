/**
 * The tfjs model and the ONNX export compute the same logits for every attention variant, with
 * and without cross-layer sharing: tfjs (wasm) forward against ORT on buildTransformer with the
 * tfjs model's weights. Window and BigBird run by blocks in tfjs and as masked dense attention in
 * ONNX, so this is also a check of the two implementations against each other; so are the token
 * mixing (Mixer), dynamic convolution and adaptive span, written independently for each runtime.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadTf, Tensor2D, Tf } from '../../engine/src/runtime/tfjs';
import { createTfTransformer } from '../../engine/src/train/tf-model';
import { buildTransformer, initialWeights } from '../../engine/src/model/transformer';
import { presetSpec, TransformerSpec } from '../../engine/src/model/spec';
import { parseAttention } from '../../engine/src/model/variants';
import { openSession } from '../../engine/src/runtime/ort';
import { encodeModel } from '../../engine/src/onnx/codec';
import type { ModelProto } from '../../engine/src/onnx/types';
import { createRng } from '../../engine/src/util/rng';
import { assertValidOnnx } from './helpers/models';

const SMALL = { layers: 2, hidden: 32, heads: 4, ffn: 64, vocab: 50, maxSeq: 32 } as const;
const BATCH = 2;
const TOLERANCE = 1e-4;

interface Inputs {
  ids: Int32Array;
  /** 1 token / 0 padding; the second sequence ends in padding. */
  mask: Int32Array;
  seq: number;
}

function inputs(seq: number, vocab: number, seed: number): Inputs {
  const rng = createRng(seed);
  const ids = Int32Array.from({ length: BATCH * seq }, () => rng.int(0, vocab));
  const mask = Int32Array.from({ length: BATCH * seq }, (_, i) => (i >= seq && i % seq >= seq - 5 ? 0 : 1));
  return { ids, mask, seq };
}

async function ortLogits(model: ModelProto, spec: TransformerSpec, x: Inputs): Promise<Float32Array> {
  const feeds = {
    input_ids: { type: 'int64' as const, data: BigInt64Array.from(x.ids, BigInt), dims: [BATCH, x.seq] },
    ...(spec.kind === 'encoder' ? { attention_mask: { type: 'int64' as const, data: BigInt64Array.from(x.mask, BigInt), dims: [BATCH, x.seq] } } : {}),
  };
  const s = await openSession(encodeModel(model), { executionProvider: 'cpu', threads: 1, optLevel: 'all' }, 'model');
  try {
    return Float32Array.from((await s.fetch(feeds)).logits.data as Float32Array);
  } finally {
    await s.release();
  }
}

function tfLogits(tf: Tf, spec: TransformerSpec, weights: ReadonlyMap<string, Float32Array>, x: Inputs): { logits: Float32Array; trained: Map<string, Float32Array> } {
  const model = createTfTransformer(tf, spec, weights);
  try {
    const out = tf.tidy(() => {
      const ids = tf.tensor2d(x.ids, [BATCH, x.seq], 'int32') as Tensor2D;
      const keyMask = spec.kind === 'encoder' ? (tf.tensor2d(Float32Array.from(x.mask), [BATCH, x.seq]) as Tensor2D) : undefined;
      return model.forward(ids, keyMask);
    });
    const logits = out.dataSync() as Float32Array;
    out.dispose();
    return { logits, trained: model.readWeights() };
  } finally {
    model.dispose();
  }
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/**
 * Initial weights with the attention projections and the classifier enlarged: at the init's 0.02
 * scale every attention is nearly uniform and an encoder's logits are tiny, so a wrong mask would
 * change the logits too little to see.
 */
function sharpWeights(spec: TransformerSpec, seed: number): Map<string, Float32Array> {
  const w = initialWeights(spec, seed);
  // The new variants' own weights likewise: token mixing and predicted kernels far from uniform,
  // and adaptive spans spread over the ramp rather than all at the largest span.
  for (const [name, values] of w) if (/attn\/([qk]_proj|token_up|token_down|dynconv_kernel)\/weight$|^head\/(pooler|classifier)\/weight$/.test(name)) w.set(name, values.map((v) => v * 25));
  for (const [name, values] of w) if (name.endsWith('attn/span')) w.set(name, values.map((_, h) => [0.15, 0.4, 0.7, 0.95][h % 4]));
  return w;
}

const CASES: Array<{ attention: string; kind: 'encoder' | 'decoder'; seq: number }> = [
  { attention: 'dense', kind: 'encoder', seq: 20 },
  { attention: 'dense', kind: 'decoder', seq: 20 },
  { attention: 'window:3', kind: 'encoder', seq: 20 },
  { attention: 'window:4', kind: 'decoder', seq: 20 },
  { attention: 'bigbird:4,1,1', kind: 'encoder', seq: 20 },
  { attention: 'bigbird:4,1,1', kind: 'decoder', seq: 20 },
  { attention: 'dense', kind: 'decoder', seq: 32 },
  { attention: 'bigbird:2,2,2', kind: 'decoder', seq: 32 },
  { attention: 'linformer:8', kind: 'encoder', seq: 20 },
  { attention: 'mixer', kind: 'encoder', seq: 20 },
  { attention: 'mixer', kind: 'decoder', seq: 20 },
  { attention: 'mixer', kind: 'decoder', seq: 32 },
  { attention: 'dynamic-conv:3', kind: 'encoder', seq: 20 },
  { attention: 'dynamic-conv:4', kind: 'encoder', seq: 20 },
  { attention: 'dynamic-conv:5', kind: 'decoder', seq: 20 },
  { attention: 'adaptive-span:8', kind: 'encoder', seq: 20 },
  { attention: 'adaptive-span:12,3', kind: 'decoder', seq: 20 },
];

test('tfjs (wasm) and ORT agree on the logits of every variant, shared or not (≤ 1e-4)', async (t) => {
  const { tf } = await loadTf('wasm');
  const denseLogits = new Map<string, Float32Array>();
  for (const c of CASES) {
    for (const share of [1, 2]) {
      const spec: TransformerSpec = { ...SMALL, kind: c.kind, attention: parseAttention(c.attention), shareLayers: share };
      const label = `${c.attention} ${c.kind} share ${share} S=${c.seq}`;
      const x = inputs(c.seq, spec.vocab, 7);
      const { logits, trained } = tfLogits(tf, spec, sharpWeights(spec, 2), x);
      const model = buildTransformer(spec, { seed: 2, weights: trained });
      assertValidOnnx(model, t);
      const diff = maxAbsDiff(logits, await ortLogits(model, spec, x));
      assert.ok(diff <= TOLERANCE, `${label}: max abs logit difference ${diff}`);
      // The agreement means something only if the variant changes the logits.
      const key = `${c.kind} ${share} ${c.seq}`;
      if (c.attention === 'dense') denseLogits.set(key, logits);
      else {
        const apart = maxAbsDiff(logits, denseLogits.get(key)!);
        assert.ok(apart > 100 * TOLERANCE, `${label}: differs from dense by only ${apart}`);
      }
    }
  }
});

test('tiny-gpt and tiny-bert (dense) agree between tfjs and ORT at seq 16', async (t) => {
  const { tf } = await loadTf('wasm');
  for (const name of ['tiny-gpt', 'tiny-bert']) {
    const spec = presetSpec(`builtin:${name}`);
    const x = inputs(16, spec.vocab, 3);
    const { logits, trained } = tfLogits(tf, spec, initialWeights(spec, 0), x);
    const model = buildTransformer(spec, { seed: 0, weights: trained });
    assertValidOnnx(model, t);
    const diff = maxAbsDiff(logits, await ortLogits(model, spec, x));
    assert.ok(diff <= TOLERANCE, `${name}: max abs logit difference ${diff}`);
  }
});
