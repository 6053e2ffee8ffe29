import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadTf } from '../../engine/src/runtime/tfjs';
import { transformerFlops } from '../../engine/src/analysis/transformer-flops';
import { validateVariantsReport } from '../../engine/src/schema/validate-training';
import { DEFAULT_VARIANTS, growthExponent, parseVariantLabel, sweepVariants } from '../../engine/src/train/sweep';
import type { SweepRequest } from '../../engine/src/train/request';
import { attentionWeights, parseAttention } from '../../engine/src/model/variants';
import { splitVariants } from '../../engine/src/cli/train-command';
import { formatTrainingRun, formatVariantsReport } from '../../engine/src/cli/train-report';
import type { TrainingRun } from '../../engine/src/schema/training';
import { readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runTwb } from './helpers/cli';

// Many heads on a narrow model: attention scores [B, H, S, S] outweigh the [B, S, hidden] activations.
const spec = { layers: 2, hidden: 16, heads: 8, ffn: 32, vocab: 16 };

test('variant labels and growth exponents', () => {
  assert.deepEqual(parseVariantLabel('dense'), { attention: 'dense', shareLayers: 'none' });
  assert.deepEqual(parseVariantLabel('window:32+share:all'), { attention: 'window:32', shareLayers: 'all' });
  assert.throws(() => parseVariantLabel('dense+shared:2'), /\+share:N/);
  assert.throws(() => parseVariantLabel('sparse:3'), /dense\|window:W/);
  assert.ok(Math.abs(growthExponent([{ x: 2, y: 12 }, { x: 4, y: 48 }, { x: 8, y: 192 }])! - 2) < 1e-12);
  assert.ok(Math.abs(growthExponent([{ x: 10, y: 5 }, { x: 100, y: 50 }])! - 1) < 1e-12);
  assert.equal(growthExponent([{ x: 10, y: 5 }]), null);
  assert.deepEqual(parseVariantLabel('adaptive-span:64,8+share:all'), { attention: 'adaptive-span:64,8', shareLayers: 'all' });
  assert.deepEqual(parseVariantLabel('mixer'), { attention: 'mixer', shareLayers: 'none' });
  assert.throws(() => parseVariantLabel('mixer:3'), /mixer\|dynamic-conv:K\|adaptive-span:MAX/);
  assert.deepEqual(splitVariants(['dense,adaptive-span:64,8,bigbird:16,1,1', 'dynamic-conv:31,mixer']), ['dense', 'adaptive-span:64,8', 'bigbird:16,1,1', 'dynamic-conv:31', 'mixer']);
  for (const label of DEFAULT_VARIANTS) parseVariantLabel(label);
  assert.ok(DEFAULT_VARIANTS.some((l) => l.startsWith('dynamic-conv:')), 'the default sweep has the linear variant that also pays off in ONNX Runtime');
});

test('sweep: dense memory and FLOPs grow faster than windowed; linformer on a decoder is an error entry', async () => {
  const { tf } = await loadTf('wasm');
  const before = tf.memory().numTensors;
  const req: SweepRequest = { model: 'builtin:tiny-gpt', specOverrides: spec, variants: ['dense', 'window:8', 'linformer:8', 'dense+share:all'], seqs: [16, 32, 64], seq: 32, batch: 2, backend: 'wasm', task: 'sort', trainSteps: 3 };
  const progress: string[] = [];
  const report = await sweepVariants(req, { onProgress: (p) => progress.push(`${p.index}/${p.count} ${p.variant} ${p.seq ?? ''}`) });
  assert.equal(tf.memory().numTensors, before, 'every variant is freed');
  validateVariantsReport(JSON.parse(JSON.stringify(report)));
  assert.equal(report.kind, 'variants');
  assert.equal(report.spec.maxSeq, 64, 'every variant gets the longest length as maxSeq');
  assert.deepEqual(report.config, { batch: 2, seq: 32, seqs: [16, 32, 64], task: 'sort', trainSteps: 3, seed: 0 });
  const [dense, window, linformer, shared] = report.variants;
  assert.deepEqual(report.variants.map((v) => v.label), req.variants);

  for (const v of [dense, window, shared]) {
    assert.equal(v.error, undefined);
    assert.deepEqual(v.sweep.map((p) => p.seq), [16, 32, 64]);
    for (const p of v.sweep) assert.ok(p.error === undefined && p.stepMs! > 0 && p.peakBytes! > 0);
    assert.ok(v.stepMs > 0 && v.tokensPerSecond > 0);
    assert.equal(v.peakBytes, v.sweep[1].peakBytes, 'the table shows the base length');
    assert.ok(v.accuracy !== null && v.accuracy >= 0 && v.accuracy <= 1);
  }
  assert.ok(dense.growth.memory! > window.growth.memory!, `memory: dense ${dense.growth.memory} vs window ${window.growth.memory}`);
  assert.ok(dense.growth.memory! > 1.3, `dense memory grows faster than linearly (${dense.growth.memory})`);
  assert.ok(window.growth.memory! < 1.1, `windowed memory grows about linearly (${window.growth.memory})`);
  assert.equal(dense.params, window.params, 'the window adds no weights');
  assert.ok(shared.params < dense.params, 'sharing all layers saves a layer of weights');

  const flopsAt = (attention: string, seq: number) => transformerFlops({ ...report.spec, attention: attention === 'dense' ? { kind: 'dense' } : { kind: 'window', window: 8 } }, 2, seq).trainingStep;
  assert.deepEqual(dense.sweep.map((p) => p.flops), [16, 32, 64].map((s) => flopsAt('dense', s)));
  assert.deepEqual(window.sweep.map((p) => p.flops), [16, 32, 64].map((s) => flopsAt('window', s)));
  const flopGrowth = (v: typeof dense) => growthExponent(v.sweep.map((p) => ({ x: p.seq, y: p.flops })))!;
  assert.ok(flopGrowth(dense) > flopGrowth(window), 'dense FLOPs grow faster');
  assert.ok(Math.abs(flopGrowth(window) - 1) < 0.05, `windowed FLOPs grow linearly (${flopGrowth(window)})`);

  assert.match(linformer.error!, /encoders only/);
  assert.ok(linformer.sweep.every((p) => p.error === linformer.error));
  assert.equal(linformer.accuracy, null);
  assert.ok(progress.includes('0/4 dense 16') && progress.some((p) => p.startsWith('2/4 linformer:8')));

  const again = await sweepVariants({ ...req, variants: ['dense'], task: undefined });
  assert.deepEqual(again.variants[0].sweep.map((p) => p.peakBytes), dense.sweep.map((p) => p.peakBytes), 'memory is deterministic');
  assert.equal(again.variants[0].accuracy, null);
});

test('a point over the time budget is an error and the longer lengths are skipped', async () => {
  const report = await sweepVariants({ model: 'builtin:tiny-bert', specOverrides: spec, variants: ['dense'], seqs: [16, 32], seq: 16, batch: 1, backend: 'wasm', pointBudgetMs: 0.001 });
  const [v] = report.variants;
  assert.match(v.sweep[0].error!, /over the budget/);
  assert.match(v.sweep[1].error!, /not run: length 16 already failed/);
  assert.match(v.error!, /at the base length 16/);
  assert.deepEqual(v.growth, { time: null, memory: null });
});

test('cancelling a sweep returns what was measured', async () => {
  const ctl = new AbortController();
  const report = await sweepVariants(
    { model: 'builtin:tiny-bert', specOverrides: spec, variants: ['dense', 'window:8'], seqs: [16, 32], seq: 16, batch: 1, backend: 'wasm' },
    { signal: ctl.signal, onProgress: (p) => p.seq === 32 && ctl.abort() },
  );
  assert.equal(report.cancelled, true);
  assert.equal(report.variants.length, 1);
  assert.deepEqual(report.variants[0].sweep.map((p) => p.seq), [16], 'the point measured before the cancel');
});

test('sweep of the new variants: dynamic convolution\'s measured memory grows linearly, dense\'s faster; mixer warns of its fixed length; adaptive span reports the spans it learned', async (t) => {
  const { tf } = await loadTf('wasm');
  const before = tf.memory().numTensors;
  const seqs = [32, 64, 128, 256];
  const req: SweepRequest = { model: 'builtin:tiny-bert', specOverrides: spec, variants: ['dense', 'dynamic-conv:8', 'mixer', 'adaptive-span:16'], seqs, seq: 32, batch: 2, backend: 'wasm', task: 'count-compare', trainSteps: 3 };
  const report = await sweepVariants(req);
  assert.equal(tf.memory().numTensors, before, 'every variant is freed');
  validateVariantsReport(JSON.parse(JSON.stringify(report)));
  const [dense, conv, mixer, span] = report.variants;
  assert.deepEqual(report.variants.map((v) => v.label), req.variants);
  for (const v of report.variants) {
    assert.equal(v.error, undefined, `${v.label}: ${v.error}`);
    assert.deepEqual(v.sweep.map((p) => p.seq), seqs, `${v.label} ran at every length, 256 included`);
    for (const p of v.sweep) assert.ok(p.error === undefined && p.stepMs! > 0 && p.peakBytes! > 0, `${v.label} at ${p.seq}`);
    assert.ok(v.accuracy !== null && v.accuracy >= 0 && v.accuracy <= 1);
  }
  t.diagnostic(`time growth (wall clock, not asserted): dense ${dense.growth.time?.toFixed(2)}, dynamic-conv:8 ${conv.growth.time?.toFixed(2)}, mixer ${mixer.growth.time?.toFixed(2)}, adaptive-span:16 ${span.growth.time?.toFixed(2)}`);
  t.diagnostic(`memory growth: dense ${dense.growth.memory?.toFixed(3)}, dynamic-conv:8 ${conv.growth.memory?.toFixed(3)}, mixer ${mixer.growth.memory?.toFixed(3)}, adaptive-span:16 ${span.growth.memory?.toFixed(3)}`);

  // tf.profile's bytes are the engine's accounting: the same shapes give the same bytes, so these hold exactly run to run.
  assert.ok(Math.abs(conv.growth.memory! - 1) < 0.1, `dynamic convolution's peak memory grows linearly with seq (${conv.growth.memory})`);
  assert.ok(dense.growth.memory! > 1.4, `dense attention's grows faster (${dense.growth.memory})`);
  const step = (v: typeof dense) => {
    const b = v.sweep.map((p) => p.peakBytes!);
    return (b[3] - b[2]) / (b[2] - b[1]);
  };
  // What each doubling of seq adds: twice as much again when linear, four times when quadratic.
  assert.ok(Math.abs(step(conv) - 2) < 0.2, `dynamic convolution: each doubling adds twice the memory the last one did (${step(conv)})`);
  assert.ok(step(dense) > 3, `dense: each doubling adds about four times as much (${step(dense)})`);
  const flopGrowth = (v: typeof dense) => growthExponent(v.sweep.map((p) => ({ x: p.seq, y: p.flops })))!;
  // Linear but for the encoder's pooler and classifier, which read one position at every length.
  assert.ok(Math.abs(flopGrowth(conv) - 1) < 0.01, `dynamic convolution's counted FLOPs are linear in seq (${flopGrowth(conv)})`);
  assert.ok(flopGrowth(dense) > 1.2);

  // The mixer is built for the longest length: its token-mixing weights are 256 × 256 per layer.
  const weights = (attention: string) => attentionWeights({ ...report.spec, attention: parseAttention(attention) }).reduce((n, w) => n + w.dims.reduce((a, b) => a * b, 1), 0);
  assert.equal(report.spec.maxSeq, 256);
  assert.equal(mixer.params - dense.params, report.spec.layers * (weights('mixer') - weights('dense')));
  assert.equal(report.warnings.filter((w) => /^mixer: .*256 × 256 .*fixed number of positions/.test(w)).length, 1, report.warnings.join('\n'));

  assert.deepEqual(report.variants.filter((v) => v.spans).map((v) => v.label), ['adaptive-span:16'], 'only adaptive span learns spans');
  const spans = span.spans!;
  assert.deepEqual([spans.maxSpan, spans.ramp], [16, 2]);
  assert.deepEqual(spans.layers.map((l) => [l.layer, l.heads.length]), [[0, 8], [1, 8]]);
  for (const z of spans.layers.flatMap((l) => l.heads)) assert.ok(z >= 0 && z <= 16, `a span within 0…16 positions: ${z}`);
  const printed = formatVariantsReport(report);
  assert.match(printed, /adaptive-span:16: spans learned in 3 steps of count-compare \(learned values, positions; largest 16, fade-out ramp 2\)\n  layer 0: head 0 [\d.]+ · /);
  assert.match(printed, /warning: mixer: /);
});

test('twb sweep --budget gives up on slow points; twb train prints the spans a run learned, labelled as learned', async () => {
  const cwd = os.tmpdir();
  const bad = await runTwb(cwd, ['sweep', 'builtin:tiny-bert', '--budget', '0']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--budget must be a positive number of seconds, got 0/);
  const r = await runTwb(cwd, ['sweep', 'builtin:tiny-bert', '--layers', '1', '--hidden', '16', '--heads', '2', '--ffn', '32', '--variants', 'dense,dynamic-conv:3', '--seqs', '16,32', '--seq', '16', '--budget', '0.000001', '--backend', 'wasm', '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /dense at seq 16: a step took [\d.]+ s, over the budget of 0\.0 s per point/);
  assert.match(r.stdout, /dynamic-conv:3 at seq 32: not run: length 16 already failed/);

  const run = JSON.parse(readFileSync(path.join(__dirname, '../fixtures/tiny-bert.training.json'), 'utf8')) as TrainingRun;
  const printed = formatTrainingRun({ ...run, spans: { maxSpan: 32, ramp: 4, layers: [{ layer: 0, heads: [31.5, 4, 0, 32] }] } });
  assert.match(printed, /\nLearned attention spans at the end of training \(learned values, positions; largest 32, fade-out ramp 4\)\n  layer 0: head 0 31\.5 · head 1 4 · head 2 0 · head 3 32\n/);
  assert.doesNotMatch(formatTrainingRun(run), /Learned attention spans/, 'only a run with spans');
});
