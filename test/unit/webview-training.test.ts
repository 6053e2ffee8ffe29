import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { TrainingRun, TrainOpStat, VariantResult, VariantsReport } from '../../engine/src/schema/training';
import { validateTrainingRun, validateVariantsReport } from '../../engine/src/schema/validate-training';
import { curveChart, nearestIndex } from '../../webview/src/charts/curve';
import { binaryTicks, clipSegment, decadeTicks, FAILED_STEP, logLogChart, powerLaw } from '../../webview/src/charts/loglog';
import { memoryParts, phaseRuns, stepMemoryChart } from '../../webview/src/charts/step-memory';
import { parseHostEvent } from '../../webview/src/messages';
import { draftOf, parseDraft } from '../../webview/src/model/form';
import { layerRows, opTypeRows, phaseBar, sortOpTypeRows } from '../../webview/src/model/train-breakdown';
import { accuracyVerdict, backendReason, flopLabel, trainingPickerLabel, variantLabel } from '../../webview/src/model/train-label';
import { bestPerColumn, growthReading, sweepSeries } from '../../webview/src/model/variant-table';
import { formatSpan, spanRows, spanSummary, variantNote } from '../../webview/src/model/learned-spans';
import { seriesClass } from '../../webview/src/views/variants-plot';
import { advanceLive, initialState, reduceHostEvent, viewsFor, viewsOf } from '../../webview/src/state';

const fixture = <T>(name: string) => JSON.parse(readFileSync(path.join(__dirname, '../fixtures', name), 'utf8')) as T;
const run = fixture<TrainingRun>('tiny-bert.training.json');
const variants = fixture<VariantsReport>('tiny-bert.variants.json');
const close = (a: number, b: number, eps = 1e-9) => Math.abs(a - b) <= eps * Math.max(1, Math.abs(b));
const BOX = { width: 400, height: 200, top: 10, right: 10, bottom: 20, left: 40 };

test('fixtures validate against the schema and have the shapes the views are tested with', () => {
  validateTrainingRun(run);
  validateVariantsReport(variants);
  assert.equal(run.spec.layers, 4);
  assert.equal(run.phases.length, 3);
  assert.ok(run.ops.length >= 40, `${run.ops.length} op rows`);
  assert.equal(run.loss.length, 200);
  assert.ok(run.memory.timeline.length >= 200);
  assert.deepEqual(variants.variants.slice(0, 4).map((v) => v.label), ['dense', 'window:32', 'bigbird:16,1,1', 'linformer:32']);
  assert.ok(variants.variants.some((v) => v.sweep.some((p) => p.error)), 'a failed sweep point');
});

test('curve: steps map onto the whole axis, values from 0 up; the nearest point by x', () => {
  const pts = [
    { step: 1, value: 0.7 },
    { step: 50, value: 0.4 },
    { step: 100, value: 0.1 },
  ];
  const c = curveChart(pts, BOX, { steps: 100, formatY: String });
  assert.equal(c.xs[2], BOX.width - BOX.right, 'the last planned step is the right edge');
  assert.ok(close(c.xs[1], 40 + 0.5 * 350), 'linear in steps');
  assert.ok(c.ys[0] < c.ys[1] && c.ys[1] < c.ys[2], 'higher values are higher up');
  assert.match(c.path, /^M[\d.]+,[\d.]+(L[\d.]+,[\d.]+){2}$/);
  assert.equal(c.refY, undefined);
  const live = curveChart(pts.slice(0, 2), BOX, { steps: 200, formatY: String });
  assert.ok(live.xs[1] < BOX.width / 2, 'a live curve grows into a frame sized for all steps');
  const acc = curveChart([{ step: 10, value: 0.95 }], BOX, { steps: 100, yDomain: [0, 1], ref: 0.9, formatY: String });
  assert.ok(close(acc.refY as number, 180 - 0.9 * 170), 'the bar at 90% of the fixed 0–1 range');
  assert.equal(nearestIndex([10, 20, 30], 24), 1);
  assert.equal(nearestIndex([10, 20, 30], 26), 2);
  assert.equal(nearestIndex([10, 20, 30], -5), 0);
  assert.equal(nearestIndex([], 3), -1);
});

test('log–log: power laws are straight lines with their slope; references clip to the plot', () => {
  const series = [
    { key: 'quad', points: [64, 128, 256, 512].map((x) => ({ x, y: (x / 64) ** 2 * 10 })) },
    { key: 'lin', points: [...[64, 128, 256].map((x) => ({ x, y: (x / 64) * 10 })), { x: 512, error: 'over budget' }] },
  ];
  const c = logLogChart(series, { ...BOX, width: 500, height: 300 }, { ticks: decadeTicks, format: String });
  const pixelSlope = (m: (typeof c.series)[number]) => -(m.points[m.points.length - 1].py - m.points[0].py) / (m.points[m.points.length - 1].px - m.points[0].px);
  const [quad, lin] = c.series;
  assert.ok(close(pixelSlope(quad) / pixelSlope(lin), 2, 1e-6), 'the quadratic line is twice as steep');
  assert.equal(lin.points.length, 3);
  assert.deepEqual(lin.failed.map((f) => [f.x, f.error, f.py]), [[512, 'over budget', BOX.top]], 'a failed point sits on the top edge');
  assert.deepEqual(c.refs.map((r) => r.slope), [1, 2]);
  const [one, two] = c.refs;
  // Both series start at the anchor (geometric mean of 10 and 10), so the guides lie on them.
  assert.ok(close(-(one.y2 - one.y1) / (one.x2 - one.x1), pixelSlope(lin), 1e-6));
  assert.ok(close(-(two.y2 - two.y1) / (two.x2 - two.x1), pixelSlope(quad), 1e-6));
  assert.deepEqual(c.xTicks.map((t) => t.label), ['64', '128', '256', '512']);
  for (const r of c.refs) for (const y of [r.y1, r.y2]) assert.ok(y >= BOX.top - 1e-9 && y <= 300 - BOX.bottom + 1e-9, 'inside the plot');
  assert.equal(powerLaw({ x: 2, y: 3 }, 2, 8), 48);
  const both = logLogChart([series[1], { ...series[1], key: 'lin2' }], { ...BOX, width: 500, height: 300 }, { ticks: decadeTicks, format: String });
  assert.deepEqual(both.series.map((m) => m.failed[0].py), [BOX.top, BOX.top + FAILED_STEP], 'failures at one x stack instead of hiding each other');
});

test('log–log helpers: clipping, decade and binary ticks', () => {
  const rect = { x0: 0, y0: 0, x1: 10, y1: 10 };
  assert.deepEqual(clipSegment([-5, 5], [15, 5], rect), [[0, 5], [10, 5]]);
  assert.deepEqual(clipSegment([5, 5], [5, 20], rect), [[5, 5], [5, 10]]);
  assert.equal(clipSegment([11, 0], [20, 5], rect), null);
  assert.deepEqual(decadeTicks(30, 1800), [50, 100, 200, 500, 1000]);
  assert.deepEqual(decadeTicks(0.5, 20000), [1, 10, 100, 1000, 10000], 'only powers of ten when 1-2-5 would crowd');
  assert.deepEqual(binaryTicks(40e6, 1.2e9), [2 ** 26, 2 ** 27, 2 ** 28, 2 ** 29, 2 ** 30]);
  assert.equal(binaryTicks(1, 2 ** 20).at(-1), 2 ** 20, 'thinned, the largest stays');
  assert.deepEqual(binaryTicks(9 * 2 ** 20, 40 * 2 ** 20).map((v) => v / 2 ** 20), [12, 16, 24, 32], 'a narrow range gets the 1.5× steps');
  assert.deepEqual(decadeTicks(0, 10), []);
});

test('step memory: phase runs are contiguous stretches; the peak is the highest point', () => {
  const tl = [
    { tUs: 10, bytes: 100, phase: 'forward' as const },
    { tUs: 20, bytes: 150, phase: 'forward' as const },
    { tUs: 30, bytes: 300, phase: 'backward' as const },
    { tUs: 45, bytes: 200, phase: 'backward' as const },
    { tUs: 50, bytes: 120, phase: 'optimizer' as const },
  ];
  assert.deepEqual(phaseRuns(tl), [
    { phase: 'forward', t0: 0, t1: 20 },
    { phase: 'backward', t0: 20, t1: 45 },
    { phase: 'optimizer', t0: 45, t1: 50 },
  ]);
  const c = stepMemoryChart({ peakBytes: 300, weightsBytes: 50, optimizerBytes: 100, activationsBytes: 150, timeline: tl }, BOX);
  assert.equal(c.peak.tUs, 30);
  assert.equal(c.peak.phase, 'backward');
  assert.match(c.peak.label, /^peak 300 B in backward$/);
  assert.equal(c.bands[0].x0, BOX.left);
  assert.equal(c.bands[2].x1, BOX.width - BOX.right);
  const fromFixture = stepMemoryChart(run.memory, BOX);
  assert.equal(fromFixture.bands.length, 3, 'the fixture step runs forward, backward, optimizer once each');
  assert.equal(fromFixture.peak.bytes, run.memory.peakBytes);
  const parts = memoryParts(run.memory);
  assert.deepEqual(parts.map((p) => p.key), ['weights', 'optimizer', 'activations']);
  assert.ok(close(parts.reduce((s, p) => s + p.fraction, 0), 1));
  assert.ok(close(parts[1].fraction / parts[0].fraction, 2), 'AdamW keeps two moments per weight');
});

test('breakdown: op types with one column per phase, sortable; layers in order then the rest', () => {
  const op = (opType: string, layer: number | null, phase: TrainOpStat['phase'], totalUs: number): TrainOpStat => ({ opType, layer, phase, calls: 2, totalUs, share: 0 });
  const ops = [op('MatMul', 0, 'forward', 30), op('MatMul', 0, 'backward', 60), op('Add', 1, 'forward', 5), op('MatMul', null, 'forward', 5), op('Mul', null, 'optimizer', 20)];
  const rows = opTypeRows(ops);
  assert.deepEqual(rows.map((r) => r.opType), ['MatMul', 'Mul', 'Add']);
  assert.deepEqual(rows[0].byPhase, { forward: 35, backward: 60, optimizer: 0 });
  assert.equal(rows[0].calls, 6);
  assert.ok(close(rows[0].share, 95 / 120));
  assert.deepEqual(sortOpTypeRows(rows, 'optimizer', true).map((r) => r.opType), ['Mul', 'Add', 'MatMul'], 'ties by name');
  assert.deepEqual(sortOpTypeRows(rows, 'opType', false).map((r) => r.opType), ['Add', 'MatMul', 'Mul']);
  const layers = layerRows(ops, 3);
  assert.deepEqual(layers.map((l) => l.label), ['layer 0', 'layer 1', 'layer 2', 'outside blocks'], 'every block, even an idle one');
  assert.equal(layers[0].segments.reduce((s, g) => s + g.length, 0), 1, 'the busiest row is full length');
  assert.deepEqual(layers[0].segments.map((g) => [g.phase, g.start]), [['forward', 0], ['backward', 1 / 3]]);
  assert.deepEqual(layers[2].segments, []);
  const fx = opTypeRows(run.ops);
  assert.ok(close(fx.reduce((s, r) => s + r.share, 0), 1));
  assert.equal(fx.reduce((s, r) => s + r.totalUs, 0), run.ops.reduce((s, o) => s + o.totalUs, 0));
  assert.equal(layerRows(run.ops, run.spec.layers).length, run.spec.layers + 1);
  const bar = phaseBar(run.phases);
  assert.deepEqual(bar.map((b) => b.phase), ['forward', 'backward', 'optimizer']);
  assert.ok(close(bar[2].start + bar[2].length, 1));
});

test('variants: best per column by direction, ties all win, failures and nulls left out', () => {
  const base = variants.variants[0];
  const v = (label: string, over: Partial<VariantResult>): VariantResult => ({ ...base, label, ...over });
  const list = [
    v('a', { params: 10, stepMs: 5, accuracy: 0.9, growth: { time: 2, memory: 1.1 } }),
    v('b', { params: 10, stepMs: 3, accuracy: null, growth: { time: 1, memory: null } }),
    v('c', { params: 1, stepMs: 1, accuracy: 0.99, growth: { time: 0.5, memory: 0.2 }, error: 'out of memory' }),
    v('d', { params: 12, stepMs: 4, accuracy: 0.95, growth: { time: null, memory: 1.1 } }),
  ];
  const best = bestPerColumn(list);
  assert.deepEqual([...best.params], [0, 1], 'fewest parameters; a tie highlights both');
  assert.deepEqual([...best.stepMs], [1], 'the failed variant does not win');
  assert.deepEqual([...best.accuracy], [3], 'higher is better');
  assert.deepEqual([...best.growthTime], [1]);
  assert.deepEqual([...best.growthMemory], [], 'all equal: nothing to choose');
  assert.deepEqual([...bestPerColumn([list[0]]).stepMs], [], 'one variant has no best');
  const fx = bestPerColumn(variants.variants);
  assert.deepEqual([...fx.params].map((i) => variants.variants[i].label), ['dense+share:all']);
  assert.deepEqual([...fx.accuracy].map((i) => variants.variants[i].label), ['dense']);
  assert.equal(growthReading(1.98), '≈quadratic');
  assert.equal(growthReading(1.03), '≈linear');
  assert.equal(growthReading(1.5), 'between');
  assert.equal(growthReading(0.4), 'sub-linear');
  assert.equal(growthReading(null), 'not enough points');
  const time = sweepSeries(variants, 'time');
  assert.equal(time.length, variants.variants.length);
  const dense = time[0];
  assert.deepEqual(dense.points.map((p) => p.x), variants.config.seqs);
  assert.ok(dense.points.some((p) => p.y === undefined && p.error), 'the failed point keeps its reason');
});

test('labels: variant, backend reason, accuracy verdict, FLOPs', () => {
  assert.equal(variantLabel({ attention: 'window:32', shareLayers: 'all' }), 'window:32 · share all');
  assert.equal(variantLabel({ attention: 'dense', shareLayers: 'none' }), 'dense');
  assert.match(backendReason(run), /^SIMD on, 1 thread .*; not available: tensorflow, webgpu$/);
  assert.equal(backendReason({ backend: 'cpu', backendAttempts: [] }), 'requested');
  const v = accuracyVerdict(run);
  assert.equal(v.final, run.accuracy.at(-1)?.value);
  assert.equal(v.pass, (v.final as number) >= 0.9);
  assert.deepEqual(accuracyVerdict({ accuracy: [{ step: 1, value: 0.5 }], accuracyBar: 0.9 }), { final: 0.5, bar: 0.9, pass: false });
  assert.equal(accuracyVerdict({ accuracy: [] }).pass, undefined);
  assert.equal(flopLabel(5.338e9), '5.34 GFLOP');
  assert.equal(flopLabel(812e6), '812 MFLOP');
  assert.match(trainingPickerLabel(run, 0), /^#1 tiny-bert · dense · count-compare · 200 steps — \d+\.\d%$/);
});

test('state: training runs, the live job and variant reports; views by mode', () => {
  const form = { model: 'builtin:tiny-bert', executionProvider: 'cpu', threads: 0, optLevel: 'all' as const, batch: 1, seq: 128, past: 0, warmup: 5, runs: 30, profiledRuns: 10 };
  let s = { ...initialState(), ...reduceHostEvent(initialState(), { event: 'session/init', params: { mode: 'profiler', trusted: true, form, providers: [], runs: [], trainings: [run], variants: [variants], view: 'training' } }) };
  assert.equal(s.view, 'training');
  assert.equal(s.selectedTrainingId, run.id);
  assert.equal(s.selectedVariantsId, variants.id);
  const p = { jobId: 'j1', model: 'builtin:tiny-gpt', variant: 'window:16', step: 1, steps: 50, message: 'training' };
  s = { ...s, ...reduceHostEvent(s, { event: 'training/progress', params: { ...p, loss: 2.5 } }) };
  s = { ...s, ...reduceHostEvent(s, { event: 'training/progress', params: { ...p, step: 2, loss: 2.2 } }) };
  s = { ...s, ...reduceHostEvent(s, { event: 'training/progress', params: { ...p, step: 2, loss: 2.1, accuracy: 0.3 } }) };
  assert.deepEqual(s.liveTraining?.loss, [{ step: 1, value: 2.5 }, { step: 2, value: 2.1 }], 'a repeated step replaces its point');
  assert.deepEqual(s.liveTraining?.accuracy, [{ step: 2, value: 0.3 }]);
  assert.deepEqual(advanceLive(s.liveTraining, { ...p, jobId: 'j2', step: 1, loss: 3 }).loss, [{ step: 1, value: 3 }], 'a new job starts new curves');
  const done = { ...run, id: 'finished' };
  s = { ...s, ...reduceHostEvent(s, { event: 'training/added', params: { run: done } }) };
  assert.equal(s.liveTraining, undefined, 'the finished run replaces the live job');
  assert.deepEqual(s.trainings.map((r) => r.id), [run.id, 'finished']);
  assert.equal(s.selectedTrainingId, 'finished');
  s = { ...s, ...reduceHostEvent(s, { event: 'variants/added', params: { report: { ...variants, id: 'v2' } } }) };
  assert.equal(s.selectedVariantsId, 'v2');

  assert.deepEqual(viewsFor('profiler').slice(-2), ['training', 'variants'], 'the panel always offers both (empty states say how to fill them)');
  assert.equal(viewsFor('editor').includes('training'), false, 'an .onnx editor has nothing to train');
  assert.deepEqual(viewsFor('report', { trainings: true }).filter((v) => v === 'training' || v === 'variants'), ['training']);
  assert.equal(viewsOf({ ...initialState(), session: { mode: 'editor', trusted: true, providers: [] }, liveTraining: s.liveTraining ?? advanceLive(undefined, p) }).includes('training'), true, 'a live job shows the tab');
});

test('messages: training documents are schema-checked; progress needs its fields', () => {
  const init = { mode: 'profiler', trusted: true, form: {}, providers: [], runs: [] };
  assert.equal(typeof parseHostEvent('session/init', { ...init, trainings: [run], variants: [variants] }), 'object');
  const bad = parseHostEvent('session/init', { ...init, trainings: [{ ...run, stepMs: { p50: 'fast' } }] });
  assert.equal(typeof bad, 'string');
  assert.match(bad as string, /^session\/init: training\.stepMs\.p50/);
  assert.match(parseHostEvent('session/init', { ...init, variants: {} }) as string, /variants is not an array/);
  assert.match(parseHostEvent('variants/added', { report: { ...variants, kind: 'training' } }) as string, /^variants\/added: /);
  assert.match(parseHostEvent('training/added', { run: { ...run, memory: null } }) as string, /^training\/added: training\.memory/);
  const progress = { jobId: 'j', model: 'm', variant: 'dense', step: 3, steps: 10, message: 'x' };
  assert.deepEqual(parseHostEvent('training/progress', { ...progress, loss: 1.5, extra: true }), { event: 'training/progress', params: { ...progress, loss: 1.5 } });
  assert.match(parseHostEvent('training/progress', { ...progress, step: '3' }) as string, /step/);
  assert.match(parseHostEvent('training/progress', { ...progress, accuracy: Number.NaN }) as string, /finite/);
});

test('form: attention and layer sharing only for built-in models, in the CLI spelling', () => {
  const form = { model: 'builtin:tiny-bert', executionProvider: 'cpu', threads: 0, optLevel: 'all' as const, batch: 1, seq: 128, past: 0, warmup: 5, runs: 30, profiledRuns: 10 };
  const draft = draftOf(form);
  assert.deepEqual([draft.attention, draft.shareLayers], ['', '']);
  const ok = parseDraft({ ...draft, attention: ' bigbird:16,1,1 ', shareLayers: 'all' });
  assert.ok('form' in ok);
  assert.deepEqual([ok.form.attention, ok.form.shareLayers], ['bigbird:16,1,1', 'all']);
  const plain = parseDraft(draft);
  assert.ok('form' in plain && !('attention' in plain.form), 'empty fields are left out (dense, no sharing)');
  const bad = parseDraft({ ...draft, attention: 'window', shareLayers: 'some' });
  assert.ok('errors' in bad);
  assert.match(bad.errors.attention ?? '', /dense, window:W, bigbird:W,G,R, linformer:K, mixer, dynamic-conv:K or adaptive-span:MAX\[,RAMP\]; got "window"/);
  assert.match(bad.errors.shareLayers ?? '', /none, all or a group size N/);
  const onnx = parseDraft({ ...draft, model: 'model.onnx', attention: 'window:8' });
  assert.ok('errors' in onnx);
  assert.match(onnx.errors.attention ?? '', /built-in models \(builtin:NAME\) only/);
});

test('new variants: the form takes their spelling, the CLI\'s; the validators accept their kinds and learned spans', () => {
  const form = { model: 'builtin:tiny-gpt', executionProvider: 'cpu', threads: 0, optLevel: 'all' as const, batch: 1, seq: 128, past: 0, warmup: 5, runs: 30, profiledRuns: 10 };
  const draft = draftOf(form);
  for (const attention of ['mixer', 'dynamic-conv:31', 'adaptive-span:64', 'adaptive-span:64,8']) {
    const ok = parseDraft({ ...draft, attention });
    assert.ok('form' in ok && ok.form.attention === attention, attention);
  }
  for (const attention of ['mixer:4', 'dynamic-conv', 'adaptive-span', 'adaptive-span:64,8,2']) {
    const bad = parseDraft({ ...draft, attention });
    assert.ok('errors' in bad, attention);
    assert.match(bad.errors.attention ?? '', /linformer:K, mixer, dynamic-conv:K or adaptive-span:MAX\[,RAMP\]; got/);
  }

  const spans = { maxSpan: 16, ramp: 2, layers: [{ layer: 0, heads: [3.5, 16] }, { layer: 2, heads: [0, 9] }] };
  const adaptive = { ...run, spec: { ...run.spec, attention: { kind: 'adaptive-span' as const, maxSpan: 16, ramp: 2 } }, variant: { attention: 'adaptive-span:16', shareLayers: 'none' }, spans };
  validateTrainingRun(JSON.parse(JSON.stringify(adaptive)));
  for (const attention of [{ kind: 'mixer' }, { kind: 'dynamic-conv', kernel: 31 }]) validateTrainingRun({ ...run, spec: { ...run.spec, attention } });
  assert.throws(() => validateTrainingRun({ ...run, spec: { ...run.spec, attention: { kind: 'dynamic-conv' } } }), /training\.spec\.attention\.kernel/);
  assert.throws(() => validateTrainingRun({ ...run, spec: { ...run.spec, attention: { kind: 'conv' } } }), /expected one of: dense, window, bigbird, linformer, mixer, dynamic-conv, adaptive-span, got "conv"/);
  assert.throws(() => validateTrainingRun({ ...adaptive, spans: { ...spans, layers: [{ layer: 0, heads: ['far'] }] } }), /training\.spans\.layers\[0\]\.heads\[0\]/);
  assert.throws(() => validateTrainingRun({ ...adaptive, spans: { maxSpan: 16, layers: [] } }), /training\.spans\.ramp/);
  validateVariantsReport({ ...variants, variants: [{ ...variants.variants[0], spans }] });
  assert.throws(() => validateVariantsReport({ ...variants, variants: [{ ...variants.variants[0], spans: { ...spans, maxSpan: '16' } }] }), /variants\.variants\[0\]\.spans\.maxSpan/);
  const init = { mode: 'profiler', trusted: true, form: {}, providers: [], runs: [] };
  assert.equal(typeof parseHostEvent('session/init', { ...init, trainings: [adaptive] }), 'object', 'the webview takes a run with spans');

  // The real sweep of every attention variant the browser test renders.
  const gpt = fixture<VariantsReport>('tiny-gpt.variants.json');
  validateVariantsReport(gpt);
  assert.deepEqual(gpt.variants.map((v) => v.variant.attention), ['dense', 'window:16', 'bigbird:16,1,1', 'linformer:32', 'mixer', 'dynamic-conv:7', 'adaptive-span:32', 'dense']);
  assert.deepEqual(gpt.variants.filter((v) => v.spans).map((v) => v.label), ['adaptive-span:32']);
  assert.ok(gpt.warnings.some((w) => /^mixer: .*fixed number of positions/.test(w)));
  assert.match(gpt.variants[3].error ?? '', /encoders only/);
  assert.deepEqual(spanRows(gpt.variants[6].spans!).map((r) => r.heads.length), [gpt.spec.heads, gpt.spec.heads]);
});

test('learned spans: rows by layer on the scale of the largest span, one summary sentence; mixer\'s fixed-length note; series past six colours dashed', () => {
  const spans = { maxSpan: 16, ramp: 2, layers: [{ layer: 2, heads: [0, 9] }, { layer: 0, heads: [3.25, 16, 17] }] };
  const rows = spanRows(spans);
  assert.deepEqual(rows.map((r) => r.layer), [0, 2]);
  assert.deepEqual(rows[0].heads.map((c) => [c.head, c.span, c.fraction]), [[0, 3.25, 3.25 / 16], [1, 16, 1], [2, 17, 1]], 'a span is a fraction of the largest, clamped');
  assert.equal(formatSpan(3.25), '3.3');
  assert.equal(formatSpan(16), '16');
  assert.equal(spanSummary(spans), '5 heads span 0–17 positions (mean 9.1) of at most 16, fading out over 2 more');
  assert.equal(spanSummary({ ...spans, layers: [] }), 'no spans recorded');
  assert.match(variantNote('mixer', 256) ?? '', /^fixed length: mixes 256 positions \(weights 256 × 256 per layer\)$/);
  for (const a of ['dense', 'dynamic-conv:31', 'adaptive-span:64']) assert.equal(variantNote(a, 256), undefined);
  assert.deepEqual([0, 5, 6, 7, 11, 12].map(seriesClass), ['twb-series-0', 'twb-series-5', 'twb-series-0 twb-series-alt', 'twb-series-1 twb-series-alt', 'twb-series-5 twb-series-alt', 'twb-series-0']);
});
