import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadTf } from '../../engine/src/runtime/tfjs';
import { createAdamW, decays, learningRate } from '../../engine/src/train/optimizer';

const close = (got: number, want: number, tol = 1e-6, what = '') => assert.ok(Math.abs(got - want) <= tol * Math.max(1, Math.abs(want)), `${what}: ${got} vs ${want}`);

test('schedule: linear warm-up to lr, cosine to 10% of lr at the last step', () => {
  const s = { lr: 1e-3, warmupSteps: 4, totalSteps: 14 };
  close(learningRate(0, s), 0.25e-3);
  close(learningRate(1, s), 0.5e-3);
  close(learningRate(3, s), 1e-3);
  // Half-way through the decay (step 4 + 9/2): 0.1 + 0.9·0.5·(1 + cos(π/2)) = 0.55.
  const s2 = { lr: 1e-3, warmupSteps: 4, totalSteps: 15 };
  close(learningRate(9, s2), 0.55e-3);
  close(learningRate(14, s2), 1e-4);
  for (let i = 4; i < 14; i++) assert.ok(learningRate(i + 1, s2) < learningRate(i, s2), 'decays monotonically');
  // No warm-up: the first step runs at the peak.
  close(learningRate(0, { lr: 2, warmupSteps: 0, totalSteps: 5 }), 2);
});

test('weight decay skips biases and LayerNorm scales, by name', () => {
  assert.equal(decays('layer0/attn/q_proj/weight'), true);
  assert.equal(decays('embed/token/weight'), true);
  assert.equal(decays('layer1/attn/linformer_e'), true);
  assert.equal(decays('layer0/attn/q_proj/bias'), false);
  assert.equal(decays('layer0/ln1/scale'), false);
  assert.equal(decays('final_ln/bias'), false);
});

/** AdamW as PyTorch computes it, in float64, for one tensor. */
function reference(w: number[], grads: number[][], coefs: number[], lrs: number[], decay: boolean, wd: number) {
  const [b1, b2, eps] = [0.9, 0.999, 1e-8];
  const m = w.map(() => 0);
  const v = w.map(() => 0);
  const out = [...w];
  grads.forEach((g0, t) => {
    const g = g0.map((x) => x * coefs[t]);
    const lr = lrs[t];
    for (let i = 0; i < out.length; i++) {
      m[i] = b1 * m[i] + (1 - b1) * g[i];
      v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
      const mhat = m[i] / (1 - b1 ** (t + 1));
      const vhat = v[i] / (1 - b2 ** (t + 1));
      if (decay) out[i] *= 1 - lr * wd;
      out[i] -= (lr * mhat) / (Math.sqrt(vhat) + eps);
    }
  });
  return out;
}

test('AdamW: two steps match hand-computed numbers, with decay exclusions and clipping', async () => {
  const { tf } = await loadTf('wasm');
  const w0 = [0.5, -1, 2];
  const b0 = [0.1, 0.2, -0.3];
  const w = tf.variable(tf.tensor1d(w0));
  const b = tf.variable(tf.tensor1d(b0));
  const before = tf.memory().numTensors;
  const cfg = { lr: 0.1, warmupSteps: 1, totalSteps: 3, weightDecay: 0.5, clipNorm: 1 };
  const opt = createAdamW(tf, new Map([['layer0/ffn/up/weight', w], ['layer0/ffn/up/bias', b]]), cfg);
  assert.equal(opt.optimizerStateBytes(), 2 * 6 * 4, 'two fp32 moments per weight');
  // Step 1: global norm 5 → clipped to 1. Step 2: norm 0.5 → not clipped.
  const g1w = [3, 0, 0];
  const g1b = [0, 4, 0];
  const g2w = [0.3, -0.2, 0];
  const g2b = [0, 0, Math.sqrt(0.25 - 0.09 - 0.04)];
  const norms: number[] = [];
  for (const [step, gw, gb] of [[0, g1w, g1b], [1, g2w, g2b]] as const) {
    const norm = tf.tidy(() => opt.apply({ [w.name]: tf.tensor1d([...gw]), [b.name]: tf.tensor1d([...gb]) }, step));
    norms.push(norm.dataSync()[0]);
    norm.dispose();
  }
  close(norms[0], 5, 1e-6, 'pre-clip norm of step 1');
  close(norms[1], 0.5, 1e-6, 'pre-clip norm of step 2');
  const coefs = [1 / (5 + 1e-6), 1];
  const lrs = [learningRate(0, cfg), learningRate(1, cfg)];
  close(lrs[0], 0.1);
  close(lrs[1], 0.1 * (0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * 0))));
  const wantW = reference(w0, [g1w, g2w], coefs, lrs, true, 0.5);
  const wantB = reference(b0, [g1b, g2b], coefs, lrs, false, 0.5);
  const gotW = w.dataSync();
  const gotB = b.dataSync();
  wantW.forEach((x, i) => close(gotW[i], x, 1e-5, `weight[${i}]`));
  wantB.forEach((x, i) => close(gotB[i], x, 1e-5, `bias[${i}]`));
  // The bias's third entry saw no gradient in step 1 and no decay: only step 2 moves it.
  assert.notEqual(gotB[2], b0[2]);
  opt.dispose();
  assert.equal(tf.memory().numTensors, before, 'the optimizer frees its moments and temporaries');
  w.dispose();
  b.dispose();
});

test('AdamW without clipping leaves the gradient as it is', async () => {
  const { tf } = await loadTf('wasm');
  const w = tf.variable(tf.tensor1d([1, 1]));
  const opt = createAdamW(tf, new Map([['x/weight', w]]), { lr: 0.01, warmupSteps: 0, totalSteps: 2, weightDecay: 0, clipNorm: 0 });
  const norm = tf.tidy(() => opt.apply({ [w.name]: tf.tensor1d([30, 40]) }, 0));
  assert.equal(norm.dataSync()[0], 50);
  norm.dispose();
  // First Adam step: lr · g/|g| per element (bias-corrected), whatever the gradient's scale.
  const got = w.dataSync();
  close(got[0], 1 - 0.01, 1e-6);
  close(got[1], 1 - 0.01, 1e-6);
  opt.dispose();
  w.dispose();
});
