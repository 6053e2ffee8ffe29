/**
 * Issue #9's attention variants in the tfjs model and trainer on wasm (the default backend): the
 * model from the builder's initial weights, causality of whole decoders, short training runs, and
 * adaptive span's penalty, projection and reported spans.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadTf, Tensor2D } from '../../engine/src/runtime/tfjs';
import { initialWeights } from '../../engine/src/model/transformer';
import { parseAttention } from '../../engine/src/model/variants';
import type { TransformerSpec } from '../../engine/src/model/spec';
import { createTfTransformer, weightShapes } from '../../engine/src/train/tf-model';
import { batchInputs, take, trainModel, trainStep } from '../../engine/src/train/trainer';
import { makeTask } from '../../engine/src/train/tasks';
import { clampSpans, learnedSpans, SPAN_LR_SCALE, spanVariables } from '../../engine/src/train/adaptive-span-tf';
import { mixerLengthWarning } from '../../engine/src/model/variants';
import { createAdamW, decays, lrScale } from '../../engine/src/train/optimizer';
import { validateTrainingRun } from '../../engine/src/schema/validate-training';

const tiny = { layers: 2, hidden: 32, heads: 4, ffn: 64, vocab: 32, maxSeq: 16 };
// adaptive-span:16 on sequences of 12: every distance is inside the span, so only the penalty moves
// the spans from p = 1: they move only if the clip at the boundary passes its gradient.
const VARIANTS = ['mixer', 'dynamic-conv:3', 'adaptive-span:16'];
// count-compare pools the first token, which must see the whole sequence to count: a 3-tap
// convolution over two layers sees 3 positions and stays at chance, 11 taps see 11 of the 12.
const RUNS = [
  ...VARIANTS.map((attention) => ({ attention, model: 'builtin:tiny-gpt', task: 'sort' as const, steps: 16, batch: 8 })),
  ...VARIANTS.map((attention) => ({ attention: attention.replace('dynamic-conv:3', 'dynamic-conv:11'), model: 'builtin:tiny-bert', task: 'count-compare' as const, steps: 30, batch: 16 })),
];

const specOf = (attention: string, kind: TransformerSpec['kind']): TransformerSpec => ({ ...tiny, kind, ...(kind === 'encoder' ? { numClasses: 2 } : {}), attention: parseAttention(attention) });
const size = (dims: number[]) => dims.reduce((a, b) => a * b, 1);

test('the model takes the builder\'s initial weights of each new variant, by the same names', async () => {
  const { tf } = await loadTf('wasm');
  for (const attention of VARIANTS) {
    for (const kind of ['encoder', 'decoder'] as const) {
      const spec = specOf(attention, kind);
      const weights = initialWeights(spec, 3);
      const shapes = weightShapes(spec);
      assert.deepEqual([...weights.keys()].sort(), [...shapes.keys()].sort(), `${attention} ${kind}: names`);
      const model = createTfTransformer(tf, spec, weights);
      assert.equal(model.paramCount(), [...shapes.values()].reduce((a, d) => a + size(d), 0));
      const logits = tf.tidy(() => model.forward(tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [2, 5], 'int32') as Tensor2D));
      assert.deepEqual(logits.shape, kind === 'decoder' ? [2, 5, tiny.vocab] : [2, 2]);
      assert.ok((logits.dataSync() as Float32Array).every(Number.isFinite), `${attention} ${kind}: finite logits`);
      logits.dispose();
      model.dispose();
    }
  }
});

test('a whole decoder of each new variant leaks no later token into earlier logits', async () => {
  const { tf } = await loadTf('wasm');
  const seq = 10;
  for (const attention of VARIANTS) {
    const spec = specOf(attention, 'decoder');
    // Random (not zero) biases and spans inside the sequence, so every path carries signal.
    const weights = initialWeights(spec, 4);
    weights.forEach((w, name) => name.endsWith('/bias') && w.forEach((_, i) => (w[i] = 0.05 * Math.sin(i + name.length))));
    for (const [name, w] of weights) if (name.endsWith('attn/span')) w.set([0.2, 0.4, 0.6, 0.3]);
    const model = createTfTransformer(tf, spec, weights);
    const ids = Array.from({ length: seq }, (_, i) => (i * 7) % tiny.vocab);
    const logitsOf = (x: number[]) => tf.tidy(() => model.forward(tf.tensor2d(x, [1, seq], 'int32') as Tensor2D)).dataSync() as Float32Array;
    const base = logitsOf(ids);
    for (let t = 0; t < seq - 1; t++) {
      const got = logitsOf(ids.map((id, i) => (i > t ? (id + 5 + i) % tiny.vocab : id)));
      const upTo = (t + 1) * tiny.vocab;
      assert.deepEqual(got.slice(0, upTo), base.slice(0, upTo), `${attention}: logits ≤ ${t} moved`);
      assert.notDeepEqual(got.slice(upTo), base.slice(upTo), `${attention}: later logits did not move`);
    }
    model.dispose();
  }
});

test('short wasm runs of each new variant train: finite, falling loss, params = Σ weightShapes', async () => {
  const { tf } = await loadTf('wasm');
  const before = tf.memory().numTensors;
  for (const { attention, model, task, steps, batch } of RUNS) {
    const what = `${attention} ${task}`;
    const run = await trainModel({ model, specOverrides: tiny, task, attention, steps, batch, seq: 12, lr: 3e-3, warmupSteps: 2, seed: 1, backend: 'wasm', evalEvery: steps, evalExamples: 16, profiledSteps: 1 });
    validateTrainingRun(JSON.parse(JSON.stringify(run)));
    assert.equal(run.backend, 'wasm');
    const losses = run.loss.map((l) => l.value);
    assert.equal(losses.length, steps, `${what}: every step ran`);
    assert.ok(losses.every(Number.isFinite), `${what}: finite loss`);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    assert.ok(mean(losses.slice(-4)) < mean(losses.slice(0, 4)), `${what}: loss ${losses.map((l) => l.toFixed(3)).join(' ')} did not fall`);
    assert.equal(run.params, [...weightShapes(run.spec).values()].reduce((a, d) => a + size(d), 0), `${what}: params`);
    assert.equal(run.variant.attention, attention);
    if (attention === 'mixer') assert.ok(run.warnings.includes(mixerLengthWarning(run.spec, 12)), `${what}: ${run.warnings.join(' | ')}`);
    else assert.ok(!run.warnings.some((w) => /fixed number of positions/.test(w)), `${what}: mixer warning on another variant`);
    if (attention.startsWith('adaptive-span')) {
      const spans = run.spans!;
      assert.ok(spans, `${what}: no spans`);
      assert.deepEqual([spans.maxSpan, spans.ramp], [16, 2]);
      assert.deepEqual(spans.layers.map((l) => l.layer), [0, 1]);
      for (const l of spans.layers) {
        assert.equal(l.heads.length, tiny.heads);
        // Started at 16 (p = 1); the penalty alone moves them, through the clip's boundary.
        assert.ok(l.heads.every((z) => z >= 0 && z < 16 - 1), `${what}: spans ${l.heads} did not move from 16`);
      }
    } else assert.equal(run.spans, undefined, `${what}: spans on another variant`);
  }
  assert.equal(tf.memory().numTensors, before, 'runs free their tensors');
});

test('an adaptive-span step reports the task loss alone, and every head at p = 1 shrinks (wasm)', async () => {
  const { tf } = await loadTf('wasm');
  const spec = specOf('adaptive-span:16', 'decoder');
  const model = createTfTransformer(tf, spec, initialWeights(spec, 2));
  const opt = createAdamW(tf, model.variables, { lr: 1e-3, warmupSteps: 0, totalSteps: 10, weightDecay: 0.01, clipNorm: 1 });
  const task = makeTask('sort', spec, 12, 2);
  const b = task.batch(0, 4);
  const before = tf.memory().numTensors;
  const expected = take(tf.tidy(() => task.loss(tf, model.forward(batchInputs(tf, b).ids), b)))[0];
  const [loss] = take(trainStep(tf, model, opt, task, b, 0));
  assert.equal(tf.memory().numTensors, before, 'the kept task loss is freed');
  assert.ok(Math.abs(loss - expected) < 1e-6, `reported ${loss}, task loss ${expected} (the penalty is not in it)`);
  // Distances ≤ 11 < 16: only the penalty's gradient reaches p, through clip's closed boundary.
  for (const span of spanVariables(model.variables)) {
    const p = Array.from(span.dataSync());
    assert.ok(p.every((x) => x < 1 - 1e-3 && x >= 0), `spans after one step: ${p}`);
  }
  opt.dispose();
  model.dispose();
});

test('spans are projected into [0, 1] and reported as maxSpan · p; they neither decay nor learn at lr', async () => {
  const { tf } = await loadTf('wasm');
  const span = tf.variable(tf.tensor1d([1.3, -0.2, 0.5, 1]));
  clampSpans(tf, [span]);
  assert.deepEqual(Array.from(span.dataSync()), [1, 0, 0.5, 1]);
  span.dispose();
  const spec = specOf('adaptive-span:8,3', 'decoder');
  const spans = learnedSpans(spec, new Map([['layer0/attn/span', [0.25, 1.5, -1, 1]], ['layer1/attn/span', [0.5, 0.5, 0.5, 0.5]]]));
  assert.deepEqual(spans, { maxSpan: 8, ramp: 3, layers: [{ layer: 0, heads: [2, 8, 0, 8] }, { layer: 1, heads: [4, 4, 4, 4] }] });
  assert.equal(learnedSpans(specOf('mixer', 'decoder'), new Map()), undefined);
  assert.equal(decays('layer0/attn/span'), false);
  assert.equal(lrScale('layer0/attn/span'), SPAN_LR_SCALE);
  assert.equal(lrScale('layer0/attn/q_proj/weight'), 1);
});

test('the mixer warning names the fixed length and the trained one', () => {
  const w = mixerLengthWarning(specOf('mixer', 'encoder'), 12);
  assert.match(w, /fixed number of positions \(maxSeq 16\)/);
  assert.match(w, /trained at \(12\)/);
  assert.match(mixerLengthWarning(specOf('mixer', 'decoder')), /an encoder must be run at the length it was trained at/);
});
