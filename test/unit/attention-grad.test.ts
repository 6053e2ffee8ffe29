/**
 * Each tfjs attention variant against (1) a dense masked reference built from the one mask rule of
 * attention-masks.ts and (2) central finite differences of its own gradients, on a tiny case on the
 * float32 `cpu` backend; then the block-gather gradient on wasm, which lacks tf.gather's gradient.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadTf, Tensor, Tensor2D, Tf, Variable } from '../../engine/src/runtime/tfjs';
import { attention } from '../../engine/src/train/attention-tf';
import { tfOps } from '../../engine/src/train/tf-ops';
import { structuralMask } from '../../engine/src/model/attention-masks';
import { MASK_VALUE } from '../../engine/src/model/transformer';
import { parseAttention } from '../../engine/src/model/variants';
import type { TransformerSpec } from '../../engine/src/model/spec';
import { normalizedError, randoms, readTensor } from './helpers/tf-check';

const B = 1;
const H = 2;
const D = 4;
const MAX_SEQ = 16;

interface Case {
  attention: string;
  kind: 'encoder' | 'decoder';
  seq: number;
}

// Window sizes that do and do not divide the length (the sequence is padded to whole blocks);
// BigBird at a shorter length than maxSeq (random blocks past S drop out) and at maxSeq.
const CASES: Case[] = [
  { attention: 'dense', kind: 'encoder', seq: 8 },
  { attention: 'dense', kind: 'decoder', seq: 8 },
  { attention: 'window:2', kind: 'encoder', seq: 8 },
  { attention: 'window:3', kind: 'encoder', seq: 8 },
  { attention: 'window:2', kind: 'decoder', seq: 8 },
  { attention: 'window:3', kind: 'decoder', seq: 8 },
  { attention: 'bigbird:2,1,1', kind: 'encoder', seq: 8 },
  { attention: 'bigbird:2,1,1', kind: 'decoder', seq: 8 },
  { attention: 'bigbird:2,1,2', kind: 'encoder', seq: 16 },
  { attention: 'bigbird:2,2,1', kind: 'decoder', seq: 16 },
  { attention: 'bigbird:3,0,1', kind: 'encoder', seq: 13 },
  { attention: 'bigbird:2,2,1', kind: 'decoder', seq: 3 }, // every query block global: all rows dense
  { attention: 'linformer:4', kind: 'encoder', seq: 8 },
];

const label = (c: Case) => `${c.attention} ${c.kind} S=${c.seq}`;

function specOf(c: Case): TransformerSpec {
  return { layers: 2, hidden: H * D, heads: H, ffn: 8, vocab: 10, maxSeq: MAX_SEQ, kind: c.kind, attention: parseAttention(c.attention) };
}

/** Encoders get trailing padding (two keys); decoders none. */
function keyMaskValues(c: Case): Float32Array | undefined {
  if (c.kind === 'decoder') return undefined;
  return Float32Array.from({ length: c.seq }, (_, j) => (j < c.seq - 2 ? 1 : 0));
}

interface Inputs {
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
  e: Float32Array;
}

function inputsFor(c: Case, seed: number): Inputs {
  const n = B * H * c.seq * D;
  const k = parseAttention(c.attention).kind === 'linformer' ? (parseAttention(c.attention) as { k: number }).k : 1;
  return { q: randoms(n, seed), k: randoms(n, seed + 1), v: randoms(n, seed + 2), e: randoms(MAX_SEQ * k, seed + 3, 1 / Math.sqrt(k)) };
}

/** The variant's output through attention-tf, from tensors (so tf.grads can differentiate it). */
function run(tf: Tf, c: Case, q: Tensor, k: Tensor, v: Tensor, e: Tensor, layer = 1): Tensor {
  const km = keyMaskValues(c);
  const keyMask = km && (tf.tensor2d(km, [B, c.seq]) as Tensor2D);
  return attention(tf, tfOps(tf), specOf(c), { q, k, v, causal: c.kind === 'decoder', keyMask, layer, param: () => e as Variable });
}

/** Dense masked attention under structuralMask (plus padding) — the definition, not the algorithm. */
function reference(tf: Tf, c: Case, q: Tensor, k: Tensor, v: Tensor, layer = 1): Tensor {
  const allowed = structuralMask(specOf(c), layer, c.seq);
  const additive = tf.tensor2d(Float32Array.from(allowed, (a) => (a ? 0 : MASK_VALUE)), [c.seq, c.seq]);
  let scores = tf.add(tf.div(tf.matMul(q, k, false, true), Math.sqrt(D)), additive);
  const km = keyMaskValues(c);
  if (km) scores = tf.add(scores, tf.reshape(tf.mul(tf.sub(1, tf.tensor1d(km)), MASK_VALUE), [1, 1, 1, c.seq]));
  return tf.matMul(tf.softmax(scores, -1), v);
}

/** Linformer by its definition: zero padded keys/values, project with E[:S]ᵀ, attend over K. */
function linformerReference(tf: Tf, c: Case, q: Tensor, k: Tensor, v: Tensor, e: Tensor): Tensor {
  const kk = e.shape[1]!;
  const keep = tf.reshape(tf.tensor1d(keyMaskValues(c)!), [1, 1, c.seq, 1]);
  const eT = tf.transpose(tf.slice(e, [0, 0], [c.seq, kk]));
  const kp = tf.matMul(tf.broadcastTo(eT, [B, H, kk, c.seq]), tf.mul(k, keep));
  const vp = tf.matMul(tf.broadcastTo(eT, [B, H, kk, c.seq]), tf.mul(v, keep));
  return tf.matMul(tf.softmax(tf.div(tf.matMul(q, kp, false, true), Math.sqrt(D)), -1), vp);
}

/** Rows of real tokens: padded query rows whose keys are all masked are unspecified. */
function realRows(c: Case): number {
  return keyMaskValues(c) ? c.seq - 2 : c.seq;
}

function maxRowDiff(a: Float32Array, b: Float32Array, c: Case): number {
  let m = 0;
  for (let h = 0; h < B * H; h++) {
    for (let i = 0; i < realRows(c); i++) {
      for (let d = 0; d < D; d++) {
        const at = (h * c.seq + i) * D + d;
        m = Math.max(m, Math.abs(a[at] - b[at]));
      }
    }
  }
  return m;
}

test('each efficient tfjs attention equals the dense masked reference (max abs diff ≤ 1e-5)', async () => {
  const { tf } = await loadTf('cpu');
  for (const c of CASES) {
    const x = inputsFor(c, 11);
    const shape = [B, H, c.seq, D];
    const kk = x.e.length / MAX_SEQ;
    const [q, k, v, e] = [tf.tensor(x.q, shape), tf.tensor(x.k, shape), tf.tensor(x.v, shape), tf.tensor(x.e, [MAX_SEQ, kk])];
    const got = run(tf, c, q, k, v, e);
    const want = c.attention.startsWith('linformer') ? linformerReference(tf, c, q, k, v, e) : reference(tf, c, q, k, v);
    assert.deepEqual(got.shape, shape, label(c));
    const diff = maxRowDiff(got.dataSync() as Float32Array, want.dataSync() as Float32Array, c);
    assert.ok(diff <= 1e-5, `${label(c)}: max abs diff ${diff}`);
    tf.dispose([q, k, v, e, got, want]);
  }
});

test('the comparison catches a wrong mask: layer 0 against layer 1\'s random blocks', async () => {
  const { tf } = await loadTf('cpu');
  const c: Case = { attention: 'bigbird:2,1,2', kind: 'encoder', seq: 16 };
  assert.notDeepEqual(structuralMask(specOf(c), 0, c.seq), structuralMask(specOf(c), 1, c.seq));
  const x = inputsFor(c, 11);
  const shape = [B, H, c.seq, D];
  const [q, k, v] = [tf.tensor(x.q, shape), tf.tensor(x.k, shape), tf.tensor(x.v, shape)];
  // Layers draw different random blocks: layer 0's pattern is not layer 1's.
  const diff = maxRowDiff(run(tf, c, q, k, v, tf.zeros([1, 1]), 0).dataSync() as Float32Array, reference(tf, c, q, k, v, 1).dataSync() as Float32Array, c);
  assert.ok(diff > 1e-3, `diff ${diff}`);
});

/** Normalized error ‖g − fd‖ / max(‖g‖, ‖fd‖) of tf.grads against central differences. */
function gradientError(tf: Tf, c: Case): Record<string, number> {
  const x = inputsFor(c, 23);
  const shape = [B, H, c.seq, D];
  const kk = x.e.length / MAX_SEQ;
  const linformer = c.attention.startsWith('linformer');
  const names = linformer ? ['q', 'k', 'v', 'e'] : ['q', 'k', 'v'];
  const shapes = { q: shape, k: shape, v: shape, e: [MAX_SEQ, kk] } as Record<string, number[]>;
  const values = { ...x } as Record<string, Float32Array>;
  const rows = realRows(c);
  const weights = randoms(B * H * c.seq * D, 97).map((w, i) => (Math.floor(i / D) % c.seq < rows ? w : 0));
  const loss = (...ts: Tensor[]) => {
    const [q, k, v, e] = linformer ? ts : [...ts, tf.zeros([MAX_SEQ, 1])];
    return tf.sum(tf.mul(run(tf, c, q, k, v, e), tf.tensor(weights, shape)));
  };
  const lossAt = (vals: Record<string, Float32Array>) => readTensor(tf, tf.tidy(() => loss(...names.map((n) => tf.tensor(vals[n], shapes[n])))))[0];
  const grads = tf.tidy(() => tf.grads(loss)(names.map((n) => tf.tensor(values[n], shapes[n])))).map((g) => readTensor(tf, g));
  const eps = 1e-2;
  const out: Record<string, number> = {};
  names.forEach((n, gi) => {
    const fd = new Float32Array(values[n].length);
    for (let i = 0; i < fd.length; i++) {
      const plus = { ...values, [n]: Float32Array.from(values[n]) };
      const minus = { ...values, [n]: Float32Array.from(values[n]) };
      plus[n][i] += eps;
      minus[n][i] -= eps;
      fd[i] = (lossAt(plus) - lossAt(minus)) / (2 * eps);
    }
    const g = grads[gi];
    assert.ok(g.reduce((a, x) => a + x * x, 0) > 1e-6, `${label(c)}: gradient wrt ${n} is zero`);
    out[n] = normalizedError(g, fd);
  });
  return out;
}

test('gradients wrt q, k, v (and the Linformer projection) match central finite differences', async () => {
  const { tf } = await loadTf('cpu');
  const before = tf.memory().numTensors;
  for (const c of CASES.filter((x) => x.seq <= 8 || x.attention === 'bigbird:2,2,1')) {
    for (const [n, err] of Object.entries(gradientError(tf, c))) assert.ok(err < 2e-2, `${label(c)} d/d${n}: normalized error ${err}`);
  }
  // Everything above ran inside tidy: nothing the variants create may outlive it.
  assert.equal(tf.memory().numTensors, before, 'tensors leaked');
});

test('the gathered-block gradient runs on wasm (no UnsortedSegmentSum) and equals the cpu one', async () => {
  const c: Case = { attention: 'bigbird:2,1,2', kind: 'encoder', seq: 16 };
  const x = inputsFor(c, 5);
  const shape = [B, H, c.seq, D];
  const gradsOn = async (backend: 'cpu' | 'wasm') => {
    const { tf } = await loadTf(backend);
    const loss = (q: Tensor, k: Tensor, v: Tensor) => tf.sum(tf.square(run(tf, c, q, k, v, tf.zeros([1, 1]))));
    return tf.tidy(() => tf.grads(loss)([tf.tensor(x.q, shape), tf.tensor(x.k, shape), tf.tensor(x.v, shape)])).map((g) => readTensor(tf, g));
  };
  const cpu = await gradsOn('cpu');
  const wasm = await gradsOn('wasm');
  for (let i = 0; i < 3; i++) {
    let m = 0;
    cpu[i].forEach((g, j) => (m = Math.max(m, Math.abs(g - wasm[i][j]))));
    assert.ok(m < 1e-4, `grad ${'qkv'[i]}: cpu vs wasm max diff ${m}`);
  }
});
