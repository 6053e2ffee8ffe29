import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadTf } from '../../engine/src/runtime/tfjs';
import { transformerFlops } from '../../engine/src/analysis/transformer-flops';
import { validateVariantsReport } from '../../engine/src/schema/validate-training';
import { growthExponent, parseVariantLabel, sweepVariants } from '../../engine/src/train/sweep';
import type { SweepRequest } from '../../engine/src/train/request';

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
