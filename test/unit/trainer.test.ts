import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadTf } from '../../engine/src/runtime/tfjs';
import { transformerFlops } from '../../engine/src/analysis/transformer-flops';
import { decodeModel } from '../../engine/src/onnx/codec';
import { validateTrainingRun } from '../../engine/src/schema/validate-training';
import { weightShapes } from '../../engine/src/train/tf-model';
import { profiledRange, trainDefaults, trainModel } from '../../engine/src/train/trainer';
import type { TrainProgress, TrainRequest } from '../../engine/src/train/request';
import { PRESETS } from '../../engine/src/model/spec';
import { assertValidOnnx } from './helpers/models';

const small = { layers: 2, hidden: 64, heads: 4, ffn: 128, vocab: 32 };
const tiny = { layers: 2, hidden: 32, heads: 4, ffn: 64, vocab: 32, maxSeq: 16 };

test('profiled steps sit in the middle, after the warm-up steps', () => {
  assert.deepEqual(profiledRange(100, 2), [49, 51]);
  assert.deepEqual(profiledRange(5, 2), [2, 4]);
  assert.deepEqual(profiledRange(3, 2), [2, 3]);
  assert.deepEqual(profiledRange(10, 0), [5, 5]);
});

test('defaults: the task settings, the sequence within the position table', () => {
  const d = trainDefaults(PRESETS['tiny-bert'], 'count-compare');
  assert.ok(d.seq <= PRESETS['tiny-bert'].maxSeq && d.steps > 0 && d.profiledSteps > 0);
  assert.equal(trainDefaults({ ...PRESETS['tiny-gpt'], maxSeq: 8 }, 'sort').seq, 8);
});

test('a run fills every field, is reproducible for a seed and frees its tensors', async () => {
  const { tf } = await loadTf('wasm');
  const before = tf.memory().numTensors;
  const req: TrainRequest = { model: 'builtin:tiny-gpt', specOverrides: tiny, task: 'sort', steps: 7, batch: 4, seq: 12, seed: 5, backend: 'wasm', evalEvery: 3, evalExamples: 16, profiledSteps: 2, attention: 'window:4', shareLayers: 'all' };
  const seen: TrainProgress[] = [];
  const run = await trainModel(req, { onProgress: (p) => seen.push(p) });
  assert.equal(tf.memory().numTensors, before, 'model, optimizer and batches are freed');
  validateTrainingRun(JSON.parse(JSON.stringify(run)));
  assert.equal(run.kind, 'training');
  assert.equal(run.backend, 'wasm');
  assert.ok(run.backendAttempts.some((a) => a.name === 'wasm' && a.ok));
  assert.match(run.id, /^\d{8}T\d{6}Z-tiny-gpt-train-sort$/);
  assert.deepEqual(run.variant, { attention: 'window:4', shareLayers: 'all' });
  assert.equal(run.spec.shareLayers, 2);
  const shapes = [...weightShapes(run.spec).values()];
  assert.equal(run.params, shapes.reduce((a, d) => a + d.reduce((x, y) => x * y, 1), 0), 'shared layers count once');
  assert.equal(run.flopsPerStep, transformerFlops(run.spec, 4, 12).trainingStep);
  assert.deepEqual(run.loss.map((l) => l.step), [1, 2, 3, 4, 5, 6, 7]);
  assert.deepEqual(run.accuracy.map((a) => a.step), [3, 6, 7]);
  // 7 steps − 2 warm-up − 2 profiled.
  assert.equal(run.stepMs.samples.length, 3);
  assert.ok(Math.abs(run.tokensPerSecond - (4 * 12 * 1000) / run.stepMs.p50) < 1e-6);
  assert.ok(run.ops.length > 0 && run.phases.every((p) => p.totalUs > 0));
  assert.equal(run.memory.weightsBytes, 4 * run.params);
  assert.equal(run.memory.optimizerBytes, 8 * run.params);
  assert.equal(run.mixedPrecision.ran, 'fp32');
  assert.equal(run.accuracyBar, 0.9);
  assert.equal(run.config.backendRequested, 'wasm');
  assert.equal(run.config.evalExamples, 16);
  assert.ok(seen.some((p) => p.phase === 'profile') && seen.some((p) => p.phase === 'eval') && seen.at(-1)!.step === 7);

  const again = await trainModel(req);
  assert.deepEqual(again.loss, run.loss, 'same seed, same loss curve');
  assert.deepEqual(again.accuracy, run.accuracy);
  const other = await trainModel({ ...req, seed: 6 });
  assert.notDeepEqual(other.loss, run.loss);
});

test('a sequence longer than the position table extends it, with a warning', async () => {
  const run = await trainModel({ model: 'builtin:tiny-bert', specOverrides: tiny, task: 'count-compare', steps: 2, batch: 2, seq: 20, backend: 'wasm', evalExamples: 4, profiledSteps: 0 });
  assert.equal(run.spec.maxSeq, 20);
  assert.ok(run.warnings.some((w) => /position table \(16\)/.test(w)));
  assert.ok(run.warnings.some((w) => /stepMs covers all 2 steps/.test(w)));
});

test('cancelling stops at the next step and returns the partial run', async () => {
  const ctl = new AbortController();
  const run = await trainModel(
    { model: 'builtin:tiny-bert', specOverrides: tiny, task: 'count-compare', steps: 20, batch: 2, seq: 12, backend: 'wasm', evalEvery: 4, evalExamples: 8 },
    { signal: ctl.signal, onProgress: (p) => p.step === 10 && p.phase !== 'eval' && ctl.abort() },
  );
  assert.equal(run.cancelled, true);
  assert.equal(run.loss.length, 10);
  assert.deepEqual(run.accuracy.map((a) => a.step), [4, 8], 'no final evaluation');
  assert.ok(run.ops.length > 0, 'the first profiled step (10) ran before the cancel');
});

test('count-compare: an encoder reaches the bar, exports to ONNX and ORT agrees with tfjs', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'twb-train-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'out', 'count.onnx');
  const run = await trainModel({ model: 'builtin:tiny-bert', specOverrides: { ...small, maxSeq: 24 }, task: 'count-compare', steps: 80, batch: 16, seq: 24, lr: 3e-3, warmupSteps: 10, backend: 'wasm', evalEvery: 40, evalExamples: 128, seed: 1, saveOnnx: file });
  const acc = run.accuracy.at(-1)!.value;
  assert.ok(acc >= run.accuracyBar!, `held-out accuracy ${acc} reaches the bar ${run.accuracyBar}`);
  assert.ok(run.loss.at(-1)!.value < run.loss[0].value / 4, 'the loss fell');
  assert.equal(run.onnx!.path, file);
  assert.ok(existsSync(file));
  assert.ok(run.onnx!.maxAbsDiff <= 1e-4, `ORT vs tfjs logits differ by ${run.onnx!.maxAbsDiff}`);
  assertValidOnnx(decodeModel(readFileSync(file)), t);
});

test('sort: a decoder reaches the bar on the sorted half', async () => {
  const run = await trainModel({ model: 'builtin:tiny-gpt', specOverrides: { ...small, maxSeq: 16 }, task: 'sort', steps: 250, batch: 16, seq: 16, lr: 3e-3, warmupSteps: 20, backend: 'wasm', evalEvery: 125, evalExamples: 128, seed: 1 });
  const acc = run.accuracy.at(-1)!.value;
  assert.ok(acc >= run.accuracyBar!, `held-out accuracy ${acc} reaches the bar ${run.accuracyBar}`);
});

test('char-lm: a text file without --task trains the character model', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'twb-text-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'poem.txt');
  writeFileSync(file, 'the quick brown fox jumps over the lazy dog. '.repeat(20));
  const run = await trainModel({ model: 'builtin:tiny-gpt', specOverrides: tiny, textFile: file, steps: 3, batch: 2, seq: 16, backend: 'wasm', evalExamples: 8, profiledSteps: 1 });
  assert.equal(run.config.task, 'char-lm');
  assert.equal(run.config.textFile, 'poem.txt');
  assert.equal(run.accuracyBar, undefined);
  assert.match(run.accuracyMetric, /next characters/);
  assert.equal(run.accuracy.length, 1);
});
