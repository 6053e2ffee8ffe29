/**
 * Issue #9's attention blocks in tfjs (mixer, dynamic convolution, adaptive span), on a tiny case
 * on the float32 `cpu` backend: each against a plain-loop reference of the design's formulas,
 * its gradients against central finite differences, and the causal versions against any leak
 * from later positions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadTf, Tensor, Tensor2D, Tf, Variable } from '../../engine/src/runtime/tfjs';
import { attention } from '../../engine/src/train/attention-tf';
import { dynamicConvBlock, mixerBlock } from '../../engine/src/train/mixing-tf';
import { SPAN_PENALTY, spanPenalty } from '../../engine/src/train/adaptive-span-tf';
import { tfOps } from '../../engine/src/train/tf-ops';
import { attentionWeights, parseAttention } from '../../engine/src/model/variants';
import type { TransformerSpec } from '../../engine/src/model/spec';
import { normalizedError, randoms, readTensor } from './helpers/tf-check';
import { ADAPTIVE_SPANS, blockReference, Values } from './helpers/attention-reference';

const [B, HEADS, D, MAX_SEQ] = [2, 2, 4, 8];
const HID = HEADS * D;

interface Case {
  attention: string;
  kind: 'encoder' | 'decoder';
  seq: number;
}

// S < maxSeq uses the mixer's top-left block; an even kernel is asymmetric around an encoder's
// position; adaptive-span:4,2 with p = 0.6, 0.9 puts distances 3, 4 and 4, 5 on the heads' ramps.
const CASES: Case[] = [
  { attention: 'mixer', kind: 'encoder', seq: 6 },
  { attention: 'mixer', kind: 'decoder', seq: 6 },
  { attention: 'mixer', kind: 'decoder', seq: 8 },
  { attention: 'dynamic-conv:3', kind: 'encoder', seq: 6 },
  { attention: 'dynamic-conv:4', kind: 'encoder', seq: 6 },
  { attention: 'dynamic-conv:3', kind: 'decoder', seq: 6 },
  { attention: 'adaptive-span:4,2', kind: 'encoder', seq: 6 },
  { attention: 'adaptive-span:4,2', kind: 'decoder', seq: 6 },
];
const label = (c: Case) => `${c.attention} ${c.kind} S=${c.seq}`;
const isSpan = (c: Case) => c.attention.startsWith('adaptive-span');

function specOf(c: Case): TransformerSpec {
  return { layers: 1, hidden: HID, heads: HEADS, ffn: 8, vocab: 10, maxSeq: MAX_SEQ, kind: c.kind, attention: parseAttention(c.attention) };
}

/** Encoders: the first sequence has two padded positions at the end, the second one. */
function keyMaskOf(c: Case): Float32Array | undefined {
  if (c.kind === 'decoder') return undefined;
  return Float32Array.from({ length: B * c.seq }, (_, i) => (i % c.seq < c.seq - 2 + Math.floor(i / c.seq) ? 1 : 0));
}

/** The block's inputs: h [B, S, H] and its weights, or (adaptive span) q, k, v [B, heads, S, D] and the span. */
function inputsOf(c: Case, seed: number): Values {
  const x: Values = new Map();
  if (isSpan(c)) {
    for (const [i, n] of ['q', 'k', 'v'].entries()) x.set(n, { dims: [B, HEADS, c.seq, D], data: randoms(B * HEADS * c.seq * D, seed + i, 1) });
    x.set('attn/span', { dims: [HEADS], data: Float32Array.from(ADAPTIVE_SPANS) });
    return x;
  }
  x.set('h', { dims: [B, c.seq, HID], data: randoms(B * c.seq * HID, seed, 1) });
  attentionWeights(specOf(c)).forEach((w, i) => x.set(w.name, { dims: w.dims, data: randoms(w.dims.reduce((a, b) => a * b, 1), seed + 10 + i, w.name.endsWith('bias') ? 0.1 : 0.5) }));
  return x;
}

/** The block's output through the tfjs code: [B, S, H] (mixer, dynamic-conv) or [B, heads, S, D] (adaptive span). */
function blockOf(tf: Tf, c: Case, t: ReadonlyMap<string, Tensor>): Tensor {
  const km = keyMaskOf(c);
  const keyMask = km && (tf.tensor2d(km, [B, c.seq]) as Tensor2D);
  const param = (n: string) => t.get(n) as Variable;
  const ops = tfOps(tf);
  const causal = c.kind === 'decoder';
  if (isSpan(c)) return attention(tf, ops, specOf(c), { q: t.get('q')!, k: t.get('k')!, v: t.get('v')!, causal, keyMask, layer: 0, param });
  const a = { h: t.get('h')!, causal, keyMask, param };
  return c.attention === 'mixer' ? mixerBlock(tf, ops, a) : dynamicConvBlock(tf, ops, specOf(c), a);
}

const tensorsOf = (tf: Tf, x: Values) => new Map([...x].map(([n, v]) => [n, tf.tensor(v.data, v.dims)]));

test('each new block equals its plain-loop reference of the design (max abs diff ≤ 1e-5)', async () => {
  const { tf } = await loadTf('cpu');
  for (const c of CASES) {
    const x = inputsOf(c, 11);
    const got = readTensor(tf, tf.tidy(() => blockOf(tf, c, tensorsOf(tf, x))));
    const want = blockReference(specOf(c), x, keyMaskOf(c), B, c.seq);
    assert.equal(got.length, want.length, label(c));
    let diff = 0;
    got.forEach((g, i) => (diff = Math.max(diff, Math.abs(g - want[i]))));
    assert.ok(diff <= 1e-5, `${label(c)}: max abs diff ${diff}`);
    // The comparison can tell a variant's encoder from its decoder (different masks/taps).
    const other = blockReference({ ...specOf(c), kind: c.kind === 'encoder' ? 'decoder' : 'encoder' }, x, keyMaskOf(c), B, c.seq);
    assert.ok(got.some((g, i) => Math.abs(g - other[i]) > 1e-3), `${label(c)}: indistinguishable from the other kind`);
  }
});

/** tf.grads of Σ block ⊙ R against central differences, per input: normalized errors and both gradients. */
function gradientCheck(tf: Tf, c: Case): Map<string, { err: number; g: Float32Array; fd: Float32Array }> {
  const x = inputsOf(c, 23);
  const names = [...x.keys()];
  const outSize = isSpan(c) ? B * HEADS * c.seq * D : B * c.seq * HID;
  const r = randoms(outSize, 97, 1);
  const loss = (vals: Values) => tf.tidy(() => tf.sum(tf.mul(tf.reshape(blockOf(tf, c, tensorsOf(tf, vals)), [-1]), tf.tensor1d(r))));
  const grads = tf.tidy(() =>
    tf.grads((...ts: Tensor[]) => tf.sum(tf.mul(tf.reshape(blockOf(tf, c, new Map(names.map((n, i) => [n, ts[i]]))), [-1]), tf.tensor1d(r))))(names.map((n) => tf.tensor(x.get(n)!.data, x.get(n)!.dims))),
  ).map((g) => readTensor(tf, g));
  const eps = 1e-2;
  const out = new Map<string, { err: number; g: Float32Array; fd: Float32Array }>();
  names.forEach((n, gi) => {
    const base = x.get(n)!;
    const fd = new Float32Array(base.data.length);
    for (let i = 0; i < fd.length; i++) {
      const at = (delta: number) => {
        const data = Float32Array.from(base.data);
        data[i] += delta;
        return readTensor(tf, loss(new Map([...x, [n, { dims: base.dims, data }]])))[0];
      };
      fd[i] = (at(eps) - at(-eps)) / (2 * eps);
    }
    const g = grads[gi];
    out.set(n, { err: normalizedError(g, fd), g, fd });
  });
  return out;
}

test('gradients of every input and weight (the span at interior values too) match central finite differences', async () => {
  const { tf } = await loadTf('cpu');
  const before = tf.memory().numTensors;
  for (const c of CASES.filter((x) => x.seq < MAX_SEQ)) {
    for (const [n, { err, g }] of gradientCheck(tf, c)) {
      assert.ok(g.some((v) => Math.abs(v) > 1e-4), `${label(c)}: gradient wrt ${n} is zero`);
      assert.ok(err < 2e-2, `${label(c)} d/d${n}: normalized error ${err}`);
    }
  }
  assert.equal(tf.memory().numTensors, before, 'tensors leaked');
});

test('the span gradient of each head (p = 0.6, 0.9) is its own finite difference', async () => {
  const { tf } = await loadTf('cpu');
  for (const c of CASES.filter(isSpan)) {
    const { g, fd } = gradientCheck(tf, c).get('attn/span')!;
    for (let h = 0; h < HEADS; h++) assert.ok(Math.abs(g[h] - fd[h]) <= 2e-2 * Math.abs(fd[h]) && Math.abs(fd[h]) > 1e-3, `${label(c)} head ${h}: ${g[h]} vs ${fd[h]}`);
  }
});

test('a head at its largest span (p = 1) still gets gradients that can shrink it', async () => {
  const { tf } = await loadTf('cpu');
  const c: Case = { attention: 'adaptive-span:4,2', kind: 'decoder', seq: 6 };
  const x = inputsOf(c, 5);
  x.set('attn/span', { dims: [HEADS], data: new Float32Array(HEADS).fill(1) });
  const spanGrad = (f: (t: Map<string, Tensor>) => Tensor) =>
    readTensor(tf, tf.tidy(() => tf.grad((span: Tensor) => f(new Map([...tensorsOf(tf, x), ['attn/span', span]])))(tf.tensor1d(x.get('attn/span')!.data))));
  // Distances 4 and 5 sit on the ramp of z = 4: the attention itself passes a gradient at p = 1.
  const viaAttention = spanGrad((t) => tf.sum(tf.square(blockOf(tf, c, t))));
  assert.ok(viaAttention.every((v) => Math.abs(v) > 1e-6), `attention's span gradient at p = 1: ${viaAttention}`);
  const viaPenalty = spanGrad((t) => spanPenalty(tf, [t.get('attn/span') as Variable]));
  viaPenalty.forEach((v) => assert.ok(Math.abs(v - SPAN_PENALTY / HEADS) < 1e-7, `penalty gradient at p = 1: ${v}`));
});

test('causal blocks leak no later position: outputs ≤ t ignore inputs > t, and their gradients there are exactly 0', async () => {
  const { tf } = await loadTf('cpu');
  for (const c of CASES.filter((x) => x.kind === 'decoder')) {
    const x = inputsOf(c, 31);
    // Position axis: [B, S, H] for blocks, [B, heads, S, D] for q, k, v and the attention output.
    const inputs = isSpan(c) ? ['q', 'k', 'v'] : ['h'];
    const posAxis = isSpan(c) ? 2 : 1;
    const positionOf = (dims: number[], i: number) => Math.floor(i / dims.slice(posAxis + 1).reduce((a, b) => a * b, 1)) % c.seq;
    const outDims = isSpan(c) ? [B, HEADS, c.seq, D] : [B, c.seq, HID];
    const base = readTensor(tf, tf.tidy(() => blockOf(tf, c, tensorsOf(tf, x))));
    for (let t = 0; t < c.seq - 1; t++) {
      const perturbed: Values = new Map(x);
      for (const n of inputs) {
        const v = x.get(n)!;
        perturbed.set(n, { dims: v.dims, data: v.data.map((val, i) => (positionOf(v.dims, i) > t ? val + 3 + i : val)) });
      }
      const got = readTensor(tf, tf.tidy(() => blockOf(tf, c, tensorsOf(tf, perturbed))));
      for (let i = 0; i < got.length; i++) {
        if (positionOf(outDims, i) <= t) assert.equal(got[i], base[i], `${label(c)}: output ${i} (position ≤ ${t}) moved`);
      }
      assert.ok(got.some((g, i) => g !== base[i]), `${label(c)}: the perturbation changed nothing`);
      const pick = tf.tensor(Float32Array.from({ length: base.length }, (_, i) => (positionOf(outDims, i) === t ? 1 + (i % 3) : 0)), outDims);
      const grads = tf.tidy(() => tf.grads((...ts: Tensor[]) => tf.sum(tf.mul(blockOf(tf, c, new Map([...tensorsOf(tf, x), ...inputs.map((n, i) => [n, ts[i]] as const)])), pick)))(inputs.map((n) => tf.tensor(x.get(n)!.data, x.get(n)!.dims))));
      inputs.forEach((n, gi) => {
        const g = readTensor(tf, grads[gi]);
        const dims = x.get(n)!.dims;
        g.forEach((v, i) => positionOf(dims, i) > t && assert.equal(v, 0, `${label(c)}: d out[${t}] / d ${n} at position ${positionOf(dims, i)} = ${v}`));
        // Output 0 of causal attention sees key 0 alone: its softmax is constant in q and k.
        if (t > 0 || n === 'h' || n === 'v') assert.ok(g.some((v) => v !== 0), `${label(c)}: d out[${t}] / d ${n} is all zero`);
      });
      pick.dispose();
    }
  }
});
