import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { formatEta, formatGrowth, formatTrainingRun, formatVariantsReport, layerTimes, opTypesByPhase, sweepStatusLine, trainStatusLine } from '../../engine/src/cli/train-report';
import { renderDocumentReport, renderTrainingReport, renderVariantsReport } from '../../engine/src/export/html-report';
import { presetSpec } from '../../engine/src/model/spec';
import { buildTransformer } from '../../engine/src/model/transformer';
import { encodeModel } from '../../engine/src/onnx/codec';
import { summarizeModel } from '../../engine/src/onnx/summary';
import { builtinSpec, loadModelSource } from '../../engine/src/profile/model-source';
import { resolveRequest } from '../../engine/src/schema/config';
import { TrainingRun, TrainOpStat, VariantsReport } from '../../engine/src/schema/training';
import { parseDocumentJson } from '../../engine/src/schema/validate-document';
import { validateRun } from '../../engine/src/schema/validate-run';
import { validateTrainingRun, validateVariantsReport } from '../../engine/src/schema/validate-training';
import { REPO_ROOT } from './helpers/paths';

const env = { backend: 'wasm', tfjsVersion: '4.22.0', cpu: 'test cpu', cpuCount: 2, platform: 'linux-x64', nodeVersion: 'v20' };

const op = (opType: string, layer: number | null, phase: TrainOpStat['phase'], totalUs: number): TrainOpStat => ({ opType, layer, phase, calls: 2, totalUs, share: totalUs / 1000 });

/** A small, consistent training run: 1000 µs of kernels over two layers and the head. */
function trainingRun(): TrainingRun {
  return {
    schemaVersion: 1,
    kind: 'training',
    id: '20260101T000000Z-tiny-gpt-train-sort',
    createdAt: '2026-01-01T00:00:00.000Z',
    model: 'builtin:tiny-gpt',
    spec: { ...presetSpec('builtin:tiny-gpt'), layers: 2, attention: { kind: 'window', window: 8 } },
    variant: { attention: 'window:8', shareLayers: 'none' },
    config: { task: 'sort', steps: 20, batch: 4, seq: 16, lr: 0.001, warmupSteps: 2, weightDecay: 0.01, clipNorm: 1, seed: 0, backendRequested: 'auto', evalEvery: 10, evalExamples: 64, profiledSteps: 2 },
    backend: 'wasm',
    backendAttempts: [
      { name: 'tensorflow', ok: false, reason: 'not installed' },
      { name: 'wasm', ok: true, reason: 'WebAssembly with SIMD' },
    ],
    env,
    params: 1_234_567,
    flopsPerStep: 3.2e9,
    stepMs: { p50: 12.5, p90: 15, mean: 13, min: 11, max: 16, samples: [11, 12.5, 16] },
    tokensPerSecond: 5120,
    loss: [
      { step: 1, value: 6.5 },
      { step: 20, value: 0.25 },
    ],
    accuracy: [
      { step: 10, value: 0.5 },
      { step: 20, value: 0.95 },
    ],
    accuracyMetric: 'tokens of the sorted half right',
    accuracyBar: 0.9,
    ops: [op('MatMul', 0, 'forward', 300), op('MatMul', 1, 'forward', 200), op('MatMul', 0, 'backward', 250), op('Softmax', 1, 'backward', 100), op('Adam', null, 'optimizer', 150)],
    phases: [
      { phase: 'forward', totalUs: 500, share: 0.5 },
      { phase: 'backward', totalUs: 350, share: 0.35 },
      { phase: 'optimizer', totalUs: 150, share: 0.15 },
    ],
    memory: { peakBytes: 4 << 20, weightsBytes: 1 << 20, optimizerBytes: 2 << 20, activationsBytes: 1 << 20, timeline: [{ tUs: 0, bytes: 3 << 20, phase: 'forward' }] },
    mixedPrecision: {
      ran: 'fp32',
      reason: 'the wasm backend has no float16 kernels',
      estimates: [{ dtype: 'fp16', weightsBytes: 1.5 * (1 << 20), optimizerBytes: 2 << 20, activationsBytes: 1 << 19, peakBytes: 4 << 20, estimate: true }],
    },
    warnings: [],
  };
}

function variantsReport(): VariantsReport {
  const point = (seq: number, stepMs: number) => ({ seq, stepMs, peakBytes: seq * 1024, flops: seq * 1e6 });
  return {
    schemaVersion: 1,
    kind: 'variants',
    id: '20260101T000000Z-tiny-bert-variants',
    createdAt: '2026-01-01T00:00:00.000Z',
    model: 'builtin:tiny-bert',
    spec: presetSpec('builtin:tiny-bert'),
    backend: 'wasm',
    env,
    config: { batch: 2, seq: 16, seqs: [16, 32], task: null, trainSteps: 0, seed: 0 },
    variants: [
      { label: 'dense', variant: { attention: 'dense', shareLayers: 'none' }, params: 3_300_000, flopsPerStep: 2e9, stepMs: 20, peakBytes: 8 << 20, tokensPerSecond: 1600, accuracy: null, growth: { time: 1.98, memory: 1.02 }, sweep: [point(16, 20), { seq: 32, flops: 4e7, error: 'over the time budget' }] },
      { label: 'window:8+share:all', variant: { attention: 'window:8', shareLayers: 'all' }, params: 1_000_000, flopsPerStep: 1e9, stepMs: 10, peakBytes: 4 << 20, tokensPerSecond: 3200, accuracy: 0.875, growth: { time: 1.5, memory: null }, sweep: [point(16, 10), point(32, 19)] },
    ],
    warnings: ['one warning'],
  };
}

const roundTrip = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

const REMOVE = Symbol('remove');

/** A JSON copy of `doc` with the field at a dotted path (`ops.1.phase`) set, or removed. */
function edited(doc: unknown, at: string, value: unknown): unknown {
  const copy = roundTrip(doc);
  const keys = at.split('.');
  let o = copy as Record<string, unknown>;
  for (const k of keys.slice(0, -1)) o = o[k] as Record<string, unknown>;
  if (value === REMOVE) delete o[keys.at(-1)!];
  else o[keys.at(-1)!] = value;
  return copy;
}

test('training runs: a well-formed run passes; a broken one is rejected naming the path', () => {
  const run = trainingRun();
  assert.equal(validateTrainingRun(roundTrip(run)).id, run.id);
  assert.equal(parseDocumentJson(JSON.stringify(run)).kind, 'training');
  const broken: Array<[string, unknown, RegExp]> = [
    ['ops.1.phase', 'sideways', /training\.ops\[1\]\.phase: expected one of: forward, backward, optimizer, got "sideways"$/],
    ['memory.peakBytes', '4 MiB', /training\.memory\.peakBytes: expected a number, got string$/],
    ['mixedPrecision.estimates.0.estimate', false, /training\.mixedPrecision\.estimates\[0\]\.estimate: expected true, got false$/],
    ['spec.attention', { kind: 'sparse' }, /training\.spec\.attention\.kind: expected one of: dense, window, bigbird, linformer, mixer, dynamic-conv, adaptive-span, got "sparse"$/],
    ['config.task', 'translate', /training\.config\.task: expected one of: count-compare, sort, char-lm/],
    ['variant', REMOVE, /training\.variant: expected an object, got undefined$/],
    ['loss.1', { step: 2 }, /training\.loss\[1\]\.value: expected a number, got undefined$/],
    ['schemaVersion', 2, /training document has schemaVersion 2; this version of the workbench reads 1/],
  ];
  for (const [at, value, message] of broken) assert.throws(() => validateTrainingRun(edited(run, at, value)), message, at);
});

test('variants reports: a well-formed report passes; a broken one is rejected naming the path', () => {
  const report = variantsReport();
  assert.equal(validateVariantsReport(roundTrip(report)).variants.length, 2);
  assert.equal(parseDocumentJson(JSON.stringify(report)).kind, 'variants');
  const broken: Array<[string, unknown, RegExp]> = [
    ['variants.0.growth.time', 'fast', /variants\.variants\[0\]\.growth\.time: expected a number, got string$/],
    ['variants.1.sweep.1.seq', REMOVE, /variants\.variants\[1\]\.sweep\[1\]\.seq: expected a number, got undefined$/],
    ['variants.1.accuracy', REMOVE, /variants\.variants\[1\]\.accuracy: expected a number, got undefined$/],
    ['config.task', 'sort-of', /variants\.config\.task: expected one of: count-compare, sort, char-lm/],
  ];
  for (const [at, value, message] of broken) assert.throws(() => validateVariantsReport(edited(report, at, value)), message, at);
});

test('inference runs record an optional variant in their config', () => {
  const run = JSON.parse(readFileSync(path.join(REPO_ROOT, 'test/fixtures/tiny-gpt.run.json'), 'utf8'));
  assert.equal(validateRun(run).config.attention, undefined, 'runs without a variant still load');
  assert.equal(validateRun({ ...run, config: { ...run.config, attention: 'window:16', shareLayers: 'all' } }).config.shareLayers, 'all');
  assert.throws(() => validateRun({ ...run, config: { ...run.config, attention: 16 } }), /run\.config\.attention: expected a string, got number$/);
});

test('a profile request records its variant in canonical spelling, for built-in models only', () => {
  assert.equal(resolveRequest({ model: 'builtin:tiny-gpt' }).attention, undefined, 'no variant: nothing recorded');
  const r = resolveRequest({ model: 'builtin:tiny-gpt', attention: 'window:016', shareLayers: '4' });
  assert.deepEqual([r.attention, r.shareLayers], ['window:16', 'all']);
  assert.deepEqual([resolveRequest({ model: 'builtin:tiny-bert', shareLayers: '2' }).attention, resolveRequest({ model: 'builtin:tiny-bert', shareLayers: '2' }).shareLayers], ['dense', '2']);
  assert.throws(() => resolveRequest({ model: 'model.onnx', attention: 'window:16' }), /--attention applies to built-in models only; "model\.onnx" is a model file/);
  assert.throws(() => resolveRequest({ model: 'model.onnx', shareLayers: 'all' }), /--share-layers applies to built-in models only/);
  assert.throws(() => resolveRequest({ model: 'builtin:tiny-gpt', attention: 'linformer:32' }), (e: Error & { code?: string }) => e.code === 'usage' && /encoders only/.test(e.message));
  assert.throws(() => resolveRequest({ model: 'builtin:tiny-gpt', shareLayers: '5' }), /--share-layers 5 is more than the model's 4 layers/);
});

test('builtinSpec: dense and no sharing are the preset itself; overrides change the shape', () => {
  assert.deepEqual(builtinSpec('builtin:tiny-bert', { attention: 'dense', shareLayers: 'none' }), presetSpec('builtin:tiny-bert'));
  const s = builtinSpec('builtin:tiny-bert', { attention: 'bigbird:8,1,1', shareLayers: 'all' }, { layers: 2, hidden: 64 });
  assert.deepEqual([s.layers, s.hidden, s.shareLayers, s.attention], [2, 64, 2, { kind: 'bigbird', block: 8, global: 1, random: 1 }]);
  assert.throws(() => builtinSpec('builtin:tiny-bert', {}, { hidden: 30 }), /spec\.hidden \(30\) must be divisible by spec\.heads \(4\)/);
});

test('loadModelSource builds the variant: sharing shrinks the weights, the default model is unchanged', async () => {
  const plain = await loadModelSource('builtin:tiny-bert', 3);
  assert.deepEqual(plain.ortInput, encodeModel(buildTransformer(presetSpec('builtin:tiny-bert'), { seed: 3, name: 'tiny-bert' })));
  assert.equal(plain.name, 'builtin:tiny-bert');
  assert.equal((await loadModelSource('builtin:tiny-bert', 3, { attention: 'window:16', shareLayers: '2' })).name, 'builtin:tiny-bert window:16 share:2');
  const shared = await loadModelSource('builtin:tiny-bert', 3, { shareLayers: 'all' });
  assert.equal(shared.name, 'builtin:tiny-bert share:all');
  assert.equal(shared.source, 'builtin:tiny-bert');
  const layerParams = 4 * 256 * 256 + 2 * 256 * 1024 + 4 * 256 + 1024 + 256 + 4 * 256;
  assert.equal(summarizeModel(plain.model).params - summarizeModel(shared.model).params, 3 * layerParams, 'three of four layers lose their own weights');
  await assert.rejects(loadModelSource('missing.onnx', 0, { attention: 'window:16' }), /--attention applies to built-in models only/);
});

const bootOf = (html: string) => JSON.parse(/<script type="application\/json" id="twb-boot">([\s\S]*?)<\/script>/.exec(html)?.[1] ?? 'null');
const assets = { script: 'void 0', style: '' };

test('the HTML report opens a training run on the Training view and a comparison on the Variants view', () => {
  const run = trainingRun();
  const boot = bootOf(renderTrainingReport(run, assets));
  assert.deepEqual([boot.mode, boot.view, boot.runs.length, boot.trainings[0].id, boot.form.model], ['report', 'training', 0, run.id, 'builtin:tiny-gpt']);
  assert.match(renderTrainingReport(run, assets), /<title>builtin:tiny-gpt trained on sort \(window:8\) — Transformer Workbench<\/title>/);
  const report = variantsReport();
  const vboot = bootOf(renderDocumentReport({ kind: 'variants', report }, assets));
  assert.deepEqual([vboot.view, vboot.variants[0].variants.length, vboot.form.model], ['variants', 2, 'builtin:tiny-bert']);
  assert.equal(bootOf(renderDocumentReport({ kind: 'training', run }, assets)).view, 'training');
  assert.equal(renderVariantsReport(report, assets), renderDocumentReport({ kind: 'variants', report }, assets));
});

test('training tables: op types summed over layers, layers in order, the estimate labelled', () => {
  const run = trainingRun();
  assert.deepEqual(
    opTypesByPhase(run.ops).map((o) => [o.opType, o.phase, o.calls, o.totalUs]),
    [
      ['MatMul', 'forward', 4, 500],
      ['MatMul', 'backward', 2, 250],
      ['Adam', 'optimizer', 2, 150],
      ['Softmax', 'backward', 2, 100],
    ],
  );
  assert.deepEqual(
    layerTimes(run.ops).map((l) => [l.layer, l.byPhase.forward, l.byPhase.backward, l.byPhase.optimizer, l.totalUs]),
    [
      [0, 300, 250, 0, 550],
      [1, 200, 100, 0, 300],
      [null, 0, 0, 150, 150],
    ],
  );
  const text = formatTrainingRun(run);
  assert.match(text, /^Trained builtin:tiny-gpt on sort · attention window:8 · share-layers none$/m);
  assert.match(text, /^backend  wasm: WebAssembly with SIMD · tfjs 4\.22\.0$/m);
  assert.match(text, /not used: tensorflow \(not installed\)/);
  assert.match(text, /^model    1\.23 M params · 3\.20 GFLOP per step/m);
  assert.match(text, /step p50 12\.5 ms .* 5\.1 k tokens\/s/);
  assert.match(text, /^accuracy 95\.0% at step 20: tokens of the sorted half right · bar 90\.0%: reached$/m);
  assert.match(text, /peak 4\.00 MiB = weights 1\.00 MiB \+ optimizer state 2\.00 MiB \+ activations, gradients and temporaries 1\.00 MiB/);
  assert.match(text, /^fp16 \(estimate\)\s+1\.50 MiB\s+2\.00 MiB\s+512 KiB\s+4\.00 MiB$/m);
  assert.match(text, /estimates .*not measurements/);
  assert.doesNotMatch(text, /CANCELLED/);
  const cancelled = formatTrainingRun({ ...run, cancelled: true, accuracy: [], loss: run.loss.slice(0, 1) });
  assert.match(cancelled, /CANCELLED/);
  assert.match(cancelled, /Cancelled after 1 of 20 steps/);
  assert.match(cancelled, /^accuracy no evaluation ran/m);
});

test('variants tables: growth named, failed sweep points footnoted', () => {
  const text = formatVariantsReport(variantsReport());
  assert.match(text, /^dense\s+3\.30 M\s+2\.00 G\s+20\.0 ms\s+8\.00 MiB\s+1\.6 k\s+-\s+1\.98 quadratic\s+1\.02 linear$/m);
  assert.match(text, /^window:8\+share:all\s+1\.00 M .* 87\.5%\s+1\.50 between\s+-$/m);
  assert.match(text, /≈2 quadratic, ≈1 linear/);
  assert.match(text, /^dense\s+20\.0 ms, 16\.0 KiB\s+✗ \(1\)$/m);
  assert.match(text, /^\(1\) dense at seq 32: over the time budget$/m);
  assert.match(text, /^warning: one warning$/m);
  assert.deepEqual([formatGrowth(null), formatGrowth(2.2), formatGrowth(1.5), formatGrowth(0.9), formatGrowth(0.2)], ['-', '2.20 quadratic', '1.50 between', '0.90 linear', '0.20 sub-linear']);
  const unbuildable = { ...variantsReport().variants[0], label: 'linformer:8', params: 0, error: 'works for encoders only', sweep: [{ seq: 16, flops: 0, error: 'works for encoders only' }] };
  const failed = formatVariantsReport({ ...variantsReport(), variants: [unbuildable] });
  assert.match(failed, /^linformer:8\s+-\s+✗ \(1\)$/m);
  assert.match(failed, /^\(1\) linformer:8: works for encoders only$/m);
  assert.match(failed, /^linformer:8\s+✗ \(above\)\s+-$/m, 'the sweep row points at the note above, once');
});

test('status lines: step, loss, accuracy and ETA while training; the message otherwise', () => {
  assert.equal(trainStatusLine({ phase: 'train', step: 120, steps: 400, loss: 0.43125, accuracy: 0.912, message: '' }, 80_000), 'train 120/400 · loss 0.4313 · acc 91.2% · ETA 1m 20s');
  assert.equal(trainStatusLine({ phase: 'profile', step: 3, steps: 400, message: '' }), 'profile 3/400');
  assert.equal(trainStatusLine({ phase: 'load', step: 0, steps: 400, message: 'loading tfjs (auto)' }), 'load · loading tfjs (auto)');
  assert.deepEqual([formatEta(4_400), formatEta(185_000), formatEta(3_720_000)], ['4s', '3m 05s', '1h 02m']);
  assert.equal(sweepStatusLine({ variant: 'window:32', index: 1, count: 5, seq: 256, message: 'seq 256' }), 'sweep 2/5 window:32 · seq 256');
});
