/**
 * tf-ops: the matMul and embedding gradients that avoid wasm's slow or missing kernels must equal
 * tfjs's own gradients (computed on the cpu backend, where tf.gather's gradient exists).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { loadTf, Tensor, Tensor2D } from '../../engine/src/runtime/tfjs';
import { tfOps } from '../../engine/src/train/tf-ops';

function maxAbsDiff(a: Float32Array | Int32Array | Uint8Array, b: Float32Array | Int32Array | Uint8Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

/** d/dtable and d/da, d/db of fixed losses through tf-ops on `backend`, as plain arrays. */
async function grads(backend: 'cpu' | 'wasm', native: boolean) {
  const { tf } = await loadTf(backend);
  // tfjs's own MatMul gradient cannot reduce a broadcast operand, so the reference broadcasts first.
  const ops = native ? { matMul: (a: Tensor, b: Tensor) => tf.matMul(a, tf.broadcastTo(b, [a.shape[0]!, ...b.shape])), embed: (t: Tensor, ids: Tensor2D) => tf.gather(t, ids) } : tfOps(tf);
  const table = tf.tensor2d(Array.from({ length: 7 * 3 }, (_, i) => Math.sin(i)), [7, 3]);
  const ids = tf.tensor2d([[0, 3, 3, 6], [1, 0, 6, 6]], [2, 4], 'int32');
  const weight = tf.tensor3d(Array.from({ length: 2 * 4 * 3 }, (_, i) => Math.cos(i)), [2, 4, 3]);
  const embedGrad = tf.grad((t: Tensor) => tf.sum(tf.mul(ops.embed(t, ids), weight)))(table);
  const a = tf.tensor3d(Array.from({ length: 2 * 3 * 4 }, (_, i) => (i % 5) - 2), [2, 3, 4]);
  const b = tf.tensor2d(Array.from({ length: 4 * 5 }, (_, i) => Math.sin(i * 0.7)), [4, 5]);
  const w2 = tf.tensor3d(Array.from({ length: 2 * 3 * 5 }, (_, i) => Math.cos(i * 0.3)), [2, 3, 5]);
  const [ga, gb] = tf.grads((x: Tensor, y: Tensor) => tf.sum(tf.mul(ops.matMul(x, y), w2)))([a, b]);
  return { embed: embedGrad.dataSync().slice(), a: ga.dataSync().slice(), b: gb.dataSync().slice() };
}

test('the embedding gradient (one-hot path) equals tf.gather\'s own, and is not zero, on wasm and cpu', async () => {
  const reference = await grads('cpu', true);
  assert.ok(reference.embed.some((v) => Math.abs(v) > 0.1), 'the reference gradient is not trivially zero');
  for (const backend of ['cpu', 'wasm'] as const) {
    const mine = await grads(backend, false);
    assert.ok(maxAbsDiff(mine.embed, reference.embed) < 1e-5, `${backend}: embedding gradient matches (diff ${maxAbsDiff(mine.embed, reference.embed)})`);
  }
});

test('matMul\'s gradients without transpose flags equal tfjs\'s, including a broadcast right operand', async () => {
  const reference = await grads('cpu', true);
  for (const backend of ['cpu', 'wasm'] as const) {
    const mine = await grads(backend, false);
    assert.ok(maxAbsDiff(mine.a, reference.a) < 1e-5, `${backend}: d/da matches`);
    assert.ok(maxAbsDiff(mine.b, reference.b) < 1e-5, `${backend}: d/db (summed over the broadcast batch) matches`);
  }
});
