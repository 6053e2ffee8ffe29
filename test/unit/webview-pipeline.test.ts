import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { PipelinePlan, TimelineBlock } from '../../engine/src/schema/parallel';
import { uniformCosts } from '../../engine/src/analysis/pipeline/costs';
import { planPipeline, simulatePlan } from '../../engine/src/analysis/pipeline/plan';
import { planMemory } from '../../engine/src/analysis/zero-memory';
import { validateWebviewRequest } from '../../engine/src/protocol/webview';
import { renderDocumentReport } from '../../engine/src/export/html-report';
import { blockAt, chunkAlpha, DEFAULT_GANTT_BOX, ganttChart, idleAt, idleGaps, idlePerStage, timeTick } from '../../webview/src/charts/gantt';
import { memoryLines, memorySeries, stackedBars, stagesThatFit } from '../../webview/src/charts/memory-lines';
import { parseHostEvent } from '../../webview/src/messages';
import { GIB, parseMemoryDraft, replan } from '../../webview/src/model/memory-plan-form';
import { activationsEstimated, draftOf, figuresFor, measurable, measureParams, parseShape, PipelineFigures, shapeOf, unitNames } from '../../webview/src/model/pipeline-shape';
import { initialState, reduceHostEvent, viewsFor, viewsOf } from '../../webview/src/state';

const plan = JSON.parse(readFileSync(path.join(__dirname, '../fixtures/tiny-gpt.pipeline.json'), 'utf8')) as PipelinePlan;
const close = (a: number, b: number, eps = 1e-9) => Math.abs(a - b) <= eps * Math.max(1, Math.abs(b));
const BOX = { ...DEFAULT_GANTT_BOX, width: 664 };
const NOW = new Date('2026-11-29T12:00:00Z');
const UNITS = ['embed', ...Array.from({ length: 8 }, (_, i) => `layer ${i}`), 'head'];
const uniformPlan = (over: Partial<Parameters<typeof planPipeline>[0]> = {}) => planPipeline({ model: 'builtin:tiny-gpt', costs: uniformCosts(UNITS, 'test'), schedule: '1f1b', stages: 2, microbatches: 4, chunks: 1, commUs: 0, batch: 1, seq: 128, now: NOW, ...over });
const figures = (r: ReturnType<typeof figuresFor>): PipelineFigures => {
  if ('error' in r) throw new Error(r.error);
  return r;
};
const memoryPlan = () => planMemory({ params: 7_000_000_000, gpus: 8, zeroStage: 2, microBatch: 1, seq: 2048, hidden: 4096, layers: 32, heads: 32, checkpointing: true }, '--params 7e9', NOW);

test('gantt: one mark per block, x from startUs on a linear scale, labels only where they fit', () => {
  const c = ganttChart(plan.timeline, plan.stages, plan.makespanUs, BOX);
  assert.equal(c.blocks.length, plan.timeline.length);
  const k = (BOX.width - BOX.right - BOX.left) / plan.makespanUs;
  c.blocks.forEach((m, i) => {
    const b = plan.timeline[i];
    assert.equal(m.index, i);
    assert.ok(close(m.x, BOX.left + b.startUs * k, 1e-9), `block ${i} x`);
    assert.ok(close(m.w, (b.endUs - b.startUs) * k, 1e-9), `block ${i} width`);
    assert.equal(m.y, BOX.top + b.stage * (BOX.rowHeight + BOX.rowGap));
    assert.deepEqual([m.stage, m.kind, m.microbatch, m.chunk], [b.stage, b.kind, b.microbatch, b.chunk]);
  });
  assert.ok(c.blocks.every((m) => m.label === null || m.label === String(m.microbatch)));
  assert.ok(c.blocks.some((m) => m.label !== null), 'wide blocks carry their micro-batch');
  const narrow = ganttChart(plan.timeline, plan.stages, plan.makespanUs, { ...BOX, width: BOX.left + BOX.right + 40 });
  assert.ok(narrow.blocks.every((m) => m.label === null), 'no label squeezed into a sliver');
  assert.equal(c.rows.length, 2);
  assert.equal(c.xTicks[0].label, '0');
  assert.ok(c.xTicks.every((t, i) => i === 0 || t.at > c.xTicks[i - 1].at));
  assert.deepEqual([timeTick(500), timeTick(2500), timeTick(40000), timeTick(1.2e6)], ['500 µs', '2.5 ms', '40 ms', '1.2 s']);
});

test('gantt: idle gaps are the holes in each stage, and add up to the plan\'s idle time', () => {
  const blocks: TimelineBlock[] = [
    { stage: 0, microbatch: 0, kind: 'F', chunk: 0, startUs: 0, endUs: 10 },
    { stage: 0, microbatch: 0, kind: 'B', chunk: 0, startUs: 15, endUs: 20 },
    { stage: 2, microbatch: 0, kind: 'F', chunk: 0, startUs: 5, endUs: 12 },
    { stage: 2, microbatch: 1, kind: 'F', chunk: 0, startUs: 8, endUs: 14 },
  ];
  assert.deepEqual(idleGaps(blocks, 3, 30), [
    { stage: 0, startUs: 10, endUs: 15 },
    { stage: 0, startUs: 20, endUs: 30 },
    { stage: 1, startUs: 0, endUs: 30 },
    { stage: 2, startUs: 0, endUs: 5 },
    { stage: 2, startUs: 14, endUs: 30 },
  ]);
  const gaps = idleGaps(plan.timeline, plan.stages, plan.makespanUs);
  const idle = idlePerStage(gaps, plan.stages);
  plan.stageStats.forEach((s, p) => assert.ok(close(idle[p], s.idleUs, 1e-9), `stage ${p}: ${idle[p]} vs ${s.idleUs}`));
  const total = idle.reduce((a, b) => a + b, 0);
  assert.ok(close(total / (plan.stages * plan.makespanUs), plan.bubbleFraction, 1e-9), 'gaps ÷ (P × makespan) is the bubble');
  const c = ganttChart(plan.timeline, plan.stages, plan.makespanUs, BOX);
  assert.equal(c.idle.length, gaps.length);
  const first = c.idle.find((g) => g.stage === 1 && g.startUs === 0);
  assert.ok(first && first.w > 0, 'stage 1 waits for its first forward');
});

test('gantt: hover finds the block or the gap under the pointer', () => {
  const c = ganttChart(plan.timeline, plan.stages, plan.makespanUs, BOX);
  const m = c.blocks[5];
  assert.equal(blockAt(c, m.x + m.w / 2, m.y + m.h / 2)?.index, 5);
  assert.equal(blockAt(c, m.x + m.w / 2, m.y - 3), undefined, 'between rows');
  const g = c.idle[0];
  assert.equal(blockAt(c, g.x + g.w / 2, g.y + 1), undefined);
  assert.equal(idleAt(c, g.x + g.w / 2, g.y + 1), g);
  assert.deepEqual([chunkAlpha(0, 1), chunkAlpha(0, 2), chunkAlpha(1, 2), chunkAlpha(2, 3)], [1, 1, 0.5, 0.5]);
});

test('controls: uniform costs without hops re-simulate to the closed-form bubble of each schedule', () => {
  const p = uniformPlan();
  for (const [schedule, stages, microbatches, chunks, expected] of [
    ['gpipe', 5, 8, 1, 4 / 12],
    ['zb-h1', 2, 4, 1, 1 / 13],
    ['1f1b', 2, 8, 1, 1 / 9],
    ['1f1b', 5, 16, 1, 4 / 20],
    ['interleaved', 2, 4, 5, 1 / 21],
  ] as const) {
    const f = figures(figuresFor(p, { schedule, stages, microbatches, chunks, commUs: 0 }));
    assert.equal(f.resimulated, true);
    assert.ok(close(f.bubbleFraction, expected, 1e-9), `${schedule} P=${stages} M=${microbatches}: ${f.bubbleFraction} vs ${expected}`);
    assert.ok(close(f.closedFormBubble, expected, 1e-12));
    assert.equal(f.timeline.length, stages * microbatches * chunks * (schedule === 'zb-h1' ? 3 : 2), 'F and B (and W) for each micro-batch and chunk');
    assert.equal(f.stageStats.length, stages);
  }
  const hop = figures(figuresFor(p, { schedule: 'gpipe', stages: 5, microbatches: 8, chunks: 1, commUs: 500 }));
  assert.ok(hop.bubbleFraction > 4 / 12 + 0.01, 'hops add to the bubble');
});

test('controls: the plan\'s own shape gives its saved figures; other shapes match simulatePlan; bad shapes give the reason', () => {
  const saved = figures(figuresFor(plan, shapeOf(plan)));
  assert.equal(saved.resimulated, false);
  assert.equal(saved.bubbleFraction, plan.bubbleFraction);
  assert.equal(saved.timeline, plan.timeline);
  const gpipe = figures(figuresFor(plan, { ...shapeOf(plan), schedule: 'gpipe' }));
  const direct = simulatePlan(plan.layers, { ...shapeOf(plan), schedule: 'gpipe' });
  assert.equal(gpipe.bubbleFraction, direct.simulation.bubbleFraction);
  assert.equal(gpipe.makespanUs, direct.simulation.makespanUs);
  assert.equal(gpipe.peakInFlight, plan.microbatches, 'GPipe holds every micro-batch before its first backward');
  assert.equal(plan.peakInFlight, plan.stages, '1F1B holds at most P');
  const m4 = figures(figuresFor(plan, { ...shapeOf(plan), microbatches: 4 }));
  assert.ok(m4.bubbleFraction > plan.bubbleFraction + 0.05, 'fewer micro-batches, more bubble');

  const bad = figuresFor(plan, { ...shapeOf(plan), schedule: 'interleaved', chunks: 2, microbatches: 7 });
  assert.ok('error' in bad && /multiple of the stages/.test(bad.error), JSON.stringify(bad));
  const tooMany = figuresFor(plan, { ...shapeOf(plan), stages: 7 });
  assert.ok('error' in tooMany && /cannot split 6 units/.test(tooMany.error));

  const d = draftOf(shapeOf(plan));
  assert.deepEqual(parseShape(d), shapeOf(plan));
  assert.deepEqual(parseShape({ ...d, chunks: '9' }), shapeOf(plan), 'V is 1 outside interleaved whatever its field says');
  assert.deepEqual(parseShape({ ...d, schedule: 'interleaved', chunks: '3' }), { ...shapeOf(plan), schedule: 'interleaved', chunks: 3 });
  for (const [over, why] of [
    [{ schedule: 'pipedream' }, /unknown schedule "pipedream"; expected one of: gpipe, 1f1b, interleaved, zb-h1/],
    [{ stages: '0' }, /P \(stages\) must be a whole number from 1/],
    [{ microbatches: '2.5' }, /M \(micro-batches\)/],
    [{ microbatches: '' }, /M \(micro-batches\)/],
    [{ commUs: '-1' }, /hop time/],
    [{ schedule: 'interleaved', chunks: 'x' }, /V \(chunks per stage\)/],
  ] as const) {
    const r = parseShape({ ...d, ...over });
    assert.ok('error' in r && why.test(r.error), `${JSON.stringify(over)}: ${JSON.stringify(r)}`);
  }
});

test('measure: only plans that name a model to run; the request carries the shape and passes the protocol check', () => {
  assert.equal(measurable(plan).ok, true);
  assert.equal(measurable({ ...plan, modelSource: 'models/gpt2.onnx' }).ok, true);
  const u = measurable(uniformPlan());
  assert.ok(!u.ok && /uniform costs\) names no model to run/.test(u.reason), JSON.stringify(u));
  const { modelSource: _m, ...noSource } = plan;
  assert.equal(measurable(noSource).ok, false);
  const params = measureParams(plan, { ...shapeOf(plan), schedule: 'gpipe', microbatches: 4 });
  assert.deepEqual(params, { planId: plan.id, schedule: 'gpipe', stages: 2, microbatches: 4, chunks: 1, commUs: 50 });
  assert.deepEqual(validateWebviewRequest('pipeline/measure', params).params, params);
  assert.throws(() => validateWebviewRequest('pipeline/measure', { ...params, schedule: 'dualpipe' }), /pipeline\/measure\.schedule: expected one of: gpipe, 1f1b, interleaved, zb-h1/);
  assert.throws(() => validateWebviewRequest('pipeline/measure', { ...params, stages: 1.5 }), /pipeline\/measure\.stages: expected an integer/);
  assert.throws(() => validateWebviewRequest('pipeline/measure', { ...params, commUs: -1 }), /pipeline\/measure\.commUs/);
  assert.throws(() => validateWebviewRequest('pipeline/measure', { ...params, planId: undefined }), /pipeline\/measure\.planId: expected a string/);
  assert.equal(activationsEstimated(plan), true);
  assert.equal(activationsEstimated({ ...plan, costSource: { ...plan.costSource, estimated: [] } }), false);
  assert.equal(unitNames(plan, [0, 1, 2]), 'embed, layer 0, layer 1');
  assert.equal(unitNames(uniformPlan(), [0, 1, 2, 3, 4, 5]), 'embed … layer 4 (6 units)');
});

test('memory lines: four series from the curve, falling with N once states are partitioned; N and the GPU line placed', () => {
  const p = memoryPlan();
  const series = memorySeries(p.curve);
  assert.deepEqual(series.map((s) => s.zeroStage), [0, 1, 2, 3]);
  assert.ok(series.every((s) => s.points.length === p.curve.length));
  const box = { width: 600, height: 300, top: 24, right: 24, bottom: 40, left: 78 };
  const c = memoryLines(p.curve, box, p.input.gpus, 80 * GIB);
  assert.equal(c.lines.length, 4);
  assert.ok(c.lines.every((l) => l.path.startsWith('M') && l.points.length === p.curve.length));
  const [z0, , , z3] = c.lines;
  assert.ok(z0.points.every((pt) => close(pt.py, z0.points[0].py, 1e-9)), 'ZeRO 0 replicates everything: flat');
  assert.ok(z3.points.every((pt, i) => i === 0 || pt.py > z3.points[i - 1].py), 'ZeRO 3 falls with N (y grows downwards)');
  assert.ok(c.lines.every((l) => close(l.points[0].bytes, z0.points[0].bytes, 1e-12)), 'all stages agree at N = 1');
  assert.equal(c.xTicks[0].label, '1');
  assert.equal(c.xTicks[c.xTicks.length - 1].label, '1024');
  assert.ok(close(c.requested.x, box.left + (3 / 10) * (box.width - box.left - box.right), 1e-9), 'N = 8 at 3/10 of the log₂ axis from 1 to 1024');
  assert.ok(c.reference && c.reference.y > box.top && c.reference.y < box.height - box.bottom);
  assert.equal(memoryLines(p.curve, box, 8).reference, undefined);
  const fits = stagesThatFit(p.byStage, 80 * GIB);
  assert.deepEqual(fits, p.byStage.filter((s) => s.bytesPerGpu <= 80 * GIB).map((s) => s.zeroStage));
  assert.ok(fits.length > 0 && fits.length < 4, `a 7B model on 8 × 80 GiB fits at some stages only: ${fits.join(',')}`);
});

test('memory bars and controls: stacked segments add up; N and the stage recompute with planMemory', () => {
  const p = memoryPlan();
  const bars = stackedBars(p.byStage);
  assert.equal(bars.length, 4);
  assert.equal(bars[0].width, 1, 'ZeRO 0 is the widest');
  for (const b of bars) {
    const last = b.segments[b.segments.length - 1];
    assert.ok(close(last.start + last.width, b.width, 1e-12));
    assert.deepEqual(b.segments.map((s) => s.part), ['params', 'grads', 'optimizer', 'activations']);
  }
  assert.deepEqual(parseMemoryDraft({ gpus: '64', zeroStage: '3', gpuGiB: '80' }), { gpus: 64, zeroStage: 3, gpuBytes: 80 * GIB });
  assert.deepEqual(parseMemoryDraft({ gpus: '64', zeroStage: '3', gpuGiB: ' ' }), { gpus: 64, zeroStage: 3 });
  for (const bad of [{ gpus: '0' }, { gpus: '1.5' }, { zeroStage: '4' }, { gpuGiB: '-80' }]) {
    assert.ok('error' in parseMemoryDraft({ gpus: '8', zeroStage: '2', gpuGiB: '', ...bad }), JSON.stringify(bad));
  }
  assert.equal(replan(p, { gpus: 8, zeroStage: 2 }), p, 'unchanged: the saved plan itself');
  const q = replan(p, { gpus: 64, zeroStage: 3 });
  assert.equal(q.id, p.id);
  assert.deepEqual([q.input.gpus, q.input.zeroStage], [64, 3]);
  assert.ok(q.bytesPerGpu < p.bytesPerGpu);
  assert.equal(q.bytesPerGpu, q.curve.find((c) => c.gpus === 64)?.bytesPerGpu[3]);
});

test('state: plans bring their views, new ones are selected, and malformed ones are rejected', () => {
  assert.equal(viewsFor('profiler').includes('pipeline'), false, 'no empty Pipeline tab in the panel');
  assert.deepEqual(viewsFor('report', { pipelines: true, memoryPlans: true }).slice(-2), ['pipeline', 'memory-plan']);
  const mem = memoryPlan();
  const init = parseHostEvent('session/init', { mode: 'profiler', trusted: true, form: initialState().form, providers: [], runs: [], pipelines: [plan], memoryPlans: [mem], view: 'pipeline' });
  assert.ok(typeof init !== 'string', String(init));
  const s = { ...initialState(), ...reduceHostEvent(initialState(), init) };
  assert.equal(s.view, 'pipeline');
  assert.deepEqual(viewsOf(s).slice(-2), ['pipeline', 'memory-plan']);
  assert.equal(s.selectedPipelineId, plan.id);
  const other = { ...plan, id: 'other' };
  const added = parseHostEvent('pipeline/added', { plan: other });
  assert.ok(typeof added !== 'string', String(added));
  const s2 = { ...s, ...reduceHostEvent(s, added) };
  assert.deepEqual(s2.pipelines.map((p) => p.id), [plan.id, 'other']);
  assert.equal(s2.selectedPipelineId, 'other');

  assert.match(String(parseHostEvent('pipeline/added', { plan: { ...plan, bubbleFraction: 'large' } })), /^pipeline\/added: .*bubbleFraction/);
  assert.match(String(parseHostEvent('memoryPlan/added', { plan: { ...mem, curve: 'flat' } })), /^memoryPlan\/added: .*curve/);
  assert.match(String(parseHostEvent('session/init', { mode: 'report', trusted: false, form: initialState().form, providers: [], runs: [], pipelines: [{ kind: 'pipeline' }] })), /^session\/init: /);
});

test('offline report: a pipeline plan opens on the Pipeline view, a memory plan on the Memory-plan view', () => {
  const assets = { script: 'void 0;', style: 'body{}' };
  const boot = (html: string) => JSON.parse(/<script type="application\/json" id="twb-boot">(.*?)<\/script>/s.exec(html)?.[1] ?? 'null') as Record<string, unknown>;
  const p = boot(renderDocumentReport({ kind: 'pipeline', plan }, assets));
  assert.equal(p.view, 'pipeline');
  assert.deepEqual((p.pipelines as PipelinePlan[]).map((x) => x.id), [plan.id]);
  const mem = memoryPlan();
  const m = boot(renderDocumentReport({ kind: 'memory-plan', plan: mem }, assets));
  assert.equal(m.view, 'memory-plan');
  assert.equal((m.memoryPlans as Array<{ id: string }>)[0].id, mem.id);
  assert.equal(m.mode, 'report');
});
