/**
 * The pure parts of the imported-trace views (issue #8): the TraceDiff-style comparison, the Ops
 * view's rows, filter, sort and cross references, the Overview's figures, the Timeline's rows,
 * layout and level of detail, the Memory charts' geometry and the labels of frames and devices.
 *
 * Fixtures (test/fixtures/traces/*.run.json) are `importTrace` output for realdata traces
 * (PROVENANCE.md, "Profiler traces"), with `now` fixed at 2026-11-29T12:00:00Z and the folder of
 * `source.file` rewritten to /home/user/traces; they are not trimmed. Regenerate with
 * `importTrace(file, { now: () => new Date('2026-11-29T12:00:00Z') })` after the importer changes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { TraceKernel, TraceOpType, TraceRun, TraceTimeline } from '../../engine/src/schema/trace';
import { validateTraceRun } from '../../engine/src/schema/validate-trace';
import { PALETTE_SLOTS } from '../../webview/src/charts/palette';
import { counterChart, traceMemoryChart } from '../../webview/src/charts/trace-memory';
import { buildTraceRows, nameColors, rowAt, rowLayout, stepMarks } from '../../webview/src/charts/trace-timeline-rows';
import { markList, timelineMarks } from '../../webview/src/charts/timeline-marks';
import { canCompareSteps, diffHeadline, diffKernels, diffOps } from '../../webview/src/model/trace-diff';
import { deviceLabel, distributedLabel, frameLabel, frameTitle, shortPath } from '../../webview/src/model/trace-labels';
import { gpuActivityUs, gpuTotals, hostSelfUs, kernelCategoryTotals, stepStats, topHostOps, topKernels } from '../../webview/src/model/trace-summary';
import { filterByName, firstClickDescending, kernelRows, kernelsLaunchedBy, opRows, opSources, sortRows } from '../../webview/src/model/trace-tables';
import { fitLabel } from '../../webview/src/views/trace-timeline-paint';

const fixture = (name: string) => JSON.parse(readFileSync(path.join(__dirname, '../fixtures/traces', name), 'utf8')) as TraceRun;
const resnet = fixture('resnet50-v100.run.json');
const nccl = fixture('nccl-a100-rank0.run.json');
const tfDemo = fixture('tf-viewer-demo.run.json');
const cpuOnly = fixture('cpu-only-rank34.run.json');
const close = (a: number, b: number, eps = 1e-6) => Math.abs(a - b) <= eps * Math.max(1, Math.abs(a), Math.abs(b));

const emptyTimeline = (): TraceTimeline => ({ lanes: [], names: [], lane: [], startUs: [], durUs: [], name: [], depth: [], frame: [], dropped: 0 });
const op = (opType: string, calls: number, selfUs: number, totalUs = selfUs): TraceOpType => ({ opType, calls, selfUs, totalUs, selfShare: 0 });
const kernel = (name: string, calls: number, totalUs: number, launchers: TraceKernel['launchers'] = []): TraceKernel => ({ name, calls, totalUs, meanUs: totalUs / calls, maxUs: totalUs / calls, category: 'compute', launchers });

/** A small document with the given ops, kernels and steps; everything else empty. */
function trace(id: string, opTypes: TraceOpType[], kernels: TraceKernel[] = [], steps = 0, over: Partial<TraceRun> = {}): TraceRun {
  return {
    schemaVersion: 1,
    kind: 'trace',
    id,
    createdAt: '2026-11-29T12:00:00Z',
    source: { file: `/tmp/${id}.json`, name: `${id}.json`, format: 'kineto', fileBytes: 10, jsonBytes: 10, gzip: false, events: 1 },
    meta: { devices: [] },
    spanUs: 1000,
    opTypes,
    kernels,
    gpu: null,
    communication: null,
    steps: Array.from({ length: steps }, (_, i) => ({ name: `ProfilerStep#${i}`, step: i, startUs: i * 100, durUs: 100 })),
    timeline: emptyTimeline(),
    frames: [],
    warnings: [],
    ...over,
  };
}

test('fixtures are valid trace documents', () => {
  for (const t of [resnet, nccl, tfDemo, cpuOnly]) assert.doesNotThrow(() => validateTraceRun(JSON.parse(JSON.stringify(t))), t.id);
  assert.ok(resnet.frames.length > 0 && resnet.memory && resnet.gpu, 'resnet50 has frames, memory and GPU activity');
  assert.ok(nccl.communication && nccl.distributed, 'nccl rank 0 has communication and distributed info');
  assert.ok(tfDemo.counters?.length, 'the tf demo has counters');
});

test('diff: per-op deltas, added and removed ops, sorted by |Δ self|', () => {
  const a = trace('a', [op('aten::mm', 10, 500, 600), op('aten::add', 4, 40), op('aten::gone', 2, 300)]);
  const b = trace('b', [op('aten::mm', 10, 1000, 1100), op('aten::add', 4, 41), op('aten::new', 1, 20)]);
  const rows = diffOps(a, b);
  assert.deepEqual(
    rows.map((r) => [r.opType, r.status, r.deltaSelfUs]),
    [
      ['aten::mm', 'both', 500],
      ['aten::gone', 'removed', -300],
      ['aten::new', 'added', 20],
      ['aten::add', 'both', 1],
    ],
  );
  const mm = rows[0];
  assert.equal(mm.selfRatio, 2);
  assert.equal(mm.deltaTotalUs, 500);
  assert.equal(mm.flag, 'regression');
  assert.equal(rows[1].flag, 'improvement');
  assert.equal(rows[1].selfRatio, 0);
  assert.equal(rows[1].otherCalls, 0);
  assert.equal(rows[2].selfRatio, Infinity);
  assert.equal(rows[3].flag, null, '1 µs and 2.5% is noise');
  const same = diffOps(resnet, resnet);
  assert.ok(same.every((r) => r.status === 'both' && r.deltaSelfUs === 0 && r.flag === null), 'a trace against itself has no change');
});

test('diff: every op of both real traces appears once and the sides add up', () => {
  const rows = diffOps(resnet, nccl);
  const names = new Set([...resnet.opTypes, ...nccl.opTypes].map((o) => o.opType));
  assert.equal(rows.length, names.size);
  assert.equal(new Set(rows.map((r) => r.opType)).size, rows.length);
  assert.ok(close(rows.reduce((s, r) => s + r.baseSelfUs, 0), hostSelfUs(resnet)));
  assert.ok(close(rows.reduce((s, r) => s + r.otherSelfUs, 0), hostSelfUs(nccl)));
  for (let i = 1; i < rows.length; i++) assert.ok(Math.abs(rows[i - 1].deltaSelfUs) >= Math.abs(rows[i].deltaSelfUs));
  const shared = rows.filter((r) => r.status === 'both').map((r) => r.opType);
  assert.ok(shared.includes('aten::add_'), 'common aten ops are matched by name');
  const k = diffKernels(resnet, nccl);
  assert.equal(k.length, new Set([...resnet.kernels, ...nccl.kernels].map((x) => x.name)).size);
  assert.ok(close(k.reduce((s, r) => s + r.otherUs, 0), gpuActivityUs(nccl)));
});

test('diff: per step divides by each trace’s step count; headline figures and their direction', () => {
  const a = trace('a', [op('aten::mm', 20, 2000)], [kernel('gemm', 20, 4000)], 2, { gpu: { devices: [{ device: 0, kernelUs: 4000, busyUs: 500, idleUs: 500, utilization: 0.5, spanUs: 1000 }], spanUs: 1000 } });
  const b = trace('b', [op('aten::mm', 40, 4000)], [kernel('gemm', 40, 8000)], 4, { gpu: { devices: [{ device: 0, kernelUs: 8000, busyUs: 800, idleUs: 200, utilization: 0.8, spanUs: 1000 }], spanUs: 1000 } });
  assert.equal(canCompareSteps(a, b), true);
  assert.equal(diffOps(a, b)[0].deltaSelfUs, 2000, 'whole trace: twice the work');
  const perStep = diffOps(a, b, { perStep: true })[0];
  assert.deepEqual([perStep.baseCalls, perStep.otherCalls, perStep.deltaSelfUs, perStep.flag], [10, 10, 0, null], 'per step: the same');
  assert.equal(diffKernels(a, b, { perStep: true })[0].deltaUs, 0);
  const head = new Map(diffHeadline(a, b).map((r) => [r.label, r]));
  assert.equal(head.get('GPU utilization')?.flag, 'improvement', 'higher utilization is better');
  assert.ok(close(head.get('GPU utilization')?.delta ?? 0, 0.3));
  assert.equal(head.get('memory peak')?.base, null, 'a figure neither trace has is null');
  assert.equal(head.get('memory peak')?.delta, null);
  assert.equal(head.get('steps')?.flag, null, 'counts are not judged');
  assert.ok(diffHeadline(a, b, { perStep: true }).some((r) => r.label === 'host self time per step' && r.delta === 0));
  assert.equal(canCompareSteps(a, trace('c', [])), false);
  assert.equal(diffOps(a, trace('c', []), { perStep: true })[0].baseCalls, 20, 'per step is ignored unless both have steps');
});

test('tables: filter by words, stable sorts, first-click direction', () => {
  const rows = opRows(resnet);
  assert.equal(rows.length, resnet.opTypes.length);
  const mm = filterByName(rows, 'ATEN  conv', (r) => r.opType);
  assert.ok(mm.length > 0 && mm.every((r) => /aten/i.test(r.opType) && /conv/i.test(r.opType)));
  assert.equal(filterByName(rows, '   ', (r) => r.opType).length, rows.length);
  assert.equal(filterByName(rows, 'no-such-op-anywhere', (r) => r.opType).length, 0);
  const byCalls = sortRows(rows, 'calls', true, (r) => r.opType);
  for (let i = 1; i < byCalls.length; i++) {
    const [p, q] = [byCalls[i - 1], byCalls[i]];
    assert.ok(p.calls > q.calls || (p.calls === q.calls && p.opType.localeCompare(q.opType) <= 0), 'descending, ties by name');
  }
  const byName = sortRows(rows, 'opType', false, (r) => r.opType);
  assert.deepEqual(byName.map((r) => r.opType), [...rows.map((r) => r.opType)].sort((a, b) => a.localeCompare(b)));
  assert.equal(firstClickDescending('selfUs'), true);
  assert.equal(firstClickDescending('name'), false);
});

test('tables: kernels an op launched, GPU time per op, frames of an op', () => {
  // Independently: walk every kernel's launchers.
  const want = new Map<string, number>();
  for (const k of resnet.kernels) for (const l of k.launchers) want.set(l.opType, (want.get(l.opType) ?? 0) + l.totalUs);
  for (const r of opRows(resnet)) assert.ok(close(r.gpuUs, want.get(r.opType) ?? 0), r.opType);
  const [opType, gpuUs] = [...want.entries()].sort((a, b) => b[1] - a[1])[0];
  const launched = kernelsLaunchedBy(resnet, opType);
  assert.ok(launched.length > 0);
  assert.ok(close(launched.reduce((s, k) => s + k.totalUs, 0), gpuUs));
  for (let i = 1; i < launched.length; i++) assert.ok(launched[i - 1].totalUs >= launched[i].totalUs);
  assert.deepEqual(kernelsLaunchedBy(resnet, 'no-such-op'), []);
  for (const k of kernelRows(resnet)) {
    const top = [...(resnet.kernels.find((x) => x.name === k.name)?.launchers ?? [])].sort((a, b) => b.totalUs - a.totalUs)[0];
    assert.equal(k.topLauncher, top?.opType ?? '');
  }
  const withSources = resnet.opTypes.filter((o) => o.sources?.length);
  assert.ok(withSources.length > 0, 'resnet50 was profiled with stacks');
  for (const o of withSources) {
    const s = opSources(resnet, o.opType);
    assert.equal(s.length, o.sources?.length);
    s.forEach((x, i) => assert.equal(x.frame, resnet.frames[o.sources![i].frame]));
  }
  assert.deepEqual(opSources(nccl, nccl.opTypes[0].opType), []);
});

test('summary: steps, GPU totals, kernel categories and top bars from the document', () => {
  const s = stepStats(resnet.steps);
  const d = resnet.steps.map((x) => x.durUs);
  assert.ok(s && s.count === d.length && close(s.meanUs, d.reduce((p, q) => p + q, 0) / d.length) && s.minUs === Math.min(...d) && s.maxUs === Math.max(...d));
  assert.equal(s?.slowest, resnet.steps[d.indexOf(Math.max(...d))].name);
  assert.equal(stepStats([]), null);
  const g = gpuTotals(resnet.gpu);
  assert.ok(g && close(g.utilization, resnet.gpu!.devices[0].utilization), 'one device: its own utilization');
  assert.equal(gpuTotals(cpuOnly.gpu), null);
  const cats = kernelCategoryTotals(nccl);
  assert.ok(cats.some((c) => c.category === 'communication'), 'NCCL kernels are communication');
  assert.ok(close(cats.reduce((p, c) => p + c.totalUs, 0), gpuActivityUs(nccl)));
  const bars = topHostOps(resnet, 10);
  assert.equal(bars.length, 10);
  assert.equal(bars[0].length, 1);
  for (let i = 1; i < bars.length; i++) assert.ok(bars[i - 1].valueUs >= bars[i].valueUs);
  assert.ok(close(bars[0].share, resnet.opTypes[0].selfShare, 1e-9), 'shares agree with the importer’s selfShare');
  assert.equal(topKernels(cpuOnly, 10).length, 0);
  assert.equal(topKernels(resnet, 3)[0].label, resnet.kernels[0].name);
});

test('timeline rows: every event in the row of its lane and depth, sorted, with running maximum ends', () => {
  for (const t of [resnet, nccl, tfDemo]) {
    const tl = t.timeline;
    const r = buildTraceRows(tl, t.spanUs);
    assert.equal(r.events, tl.lane.length, `${t.id}: every event has a row`);
    assert.equal(r.rows.length, r.laneRows.reduce((s, l) => s + l.count, 0));
    const seen = new Uint8Array(tl.lane.length);
    for (const row of r.rows) {
      for (let j = 0; j < row.starts.length; j++) {
        const i = row.traceIndex[j];
        seen[i]++;
        assert.equal(tl.lane[i], row.lane);
        assert.equal(tl.depth[i], row.depth);
        assert.equal(row.starts[j], tl.startUs[i]);
        if (j > 0) assert.ok(row.starts[j] >= row.starts[j - 1] && row.maxEnd[j] >= row.maxEnd[j - 1]);
      }
    }
    assert.ok(seen.every((c) => c === 1), 'each event once');
    assert.ok(r.durationUs >= t.spanUs);
  }
  // Columns in any order (the importer happens to write them by start): reversed, the rows are the same.
  const tl = nccl.timeline;
  const rev = <T>(a: T[]) => [...a].reverse();
  const reversed: TraceTimeline = { ...tl, lane: rev(tl.lane), startUs: rev(tl.startUs), durUs: rev(tl.durUs), name: rev(tl.name), depth: rev(tl.depth), frame: rev(tl.frame) };
  const a = buildTraceRows(tl, nccl.spanUs);
  const b = buildTraceRows(reversed, nccl.spanUs);
  assert.equal(a.rows.length, b.rows.length);
  a.rows.forEach((row, i) => {
    assert.deepEqual(b.rows[i].starts, row.starts, `row ${i} sorted by start`);
    assert.deepEqual(b.rows[i].maxEnd, row.maxEnd);
  });
});

test('timeline level of detail: bounded marks that cover every visible event of their row', () => {
  const r = buildTraceRows(nccl.timeline, nccl.spanUs);
  const colors = nameColors(nccl.timeline);
  for (const [domain, width] of [
    [[0, r.durationUs], 1200],
    [[r.durationUs * 0.4, r.durationUs * 0.41], 900],
  ] as Array<[[number, number], number]>) {
    const marks = markList(timelineMarks(r.rows, domain, width, (n) => colors[n]));
    assert.ok(marks.length <= r.rows.length * width);
    const k = width / (domain[1] - domain[0]);
    let visible = 0;
    r.rows.forEach((row, ri) => {
      const mine = marks.filter((m) => m.lane === ri);
      for (let j = 0; j < row.starts.length; j++) {
        if (row.ends[j] < domain[0] || row.starts[j] >= domain[1]) continue;
        visible++;
        const a = Math.max(0, (row.starts[j] - domain[0]) * k);
        assert.ok(
          mine.some((m) => m.x <= a + 1e-6 && a <= m.x + Math.max(1, m.w) + 1e-6),
          `event ${j} of row ${ri} lies in a mark`,
        );
      }
    });
    assert.ok(visible > 0);
    if (width === 1200) assert.ok(marks.length < visible, `the whole trace merges events (${marks.length} marks for ${visible} events)`);
  }
});

test('timeline: name colours, row layout and hit rows, step band', () => {
  const tl = resnet.timeline;
  const c = nameColors(tl);
  assert.equal(c.length, tl.names.length);
  assert.ok(c.every((s) => s >= 0 && s < PALETTE_SLOTS));
  assert.deepEqual(nameColors(tl), c, 'stable');
  const total = new Map<number, number>();
  for (let i = 0; i < tl.name.length; i++) total.set(tl.name[i], (total.get(tl.name[i]) ?? 0) + tl.durUs[i]);
  const busiest = [...total.entries()].sort((a, b) => b[1] - a[1]).slice(0, PALETTE_SLOTS).map(([n]) => c[n]);
  assert.equal(new Set(busiest).size, PALETTE_SLOTS, 'the busiest names never share a colour');

  const r = buildTraceRows(tl, resnet.spanUs);
  const l = rowLayout(r, 40, 12, 6);
  r.rows.forEach((_, i) => {
    assert.equal(rowAt(l, l.rowTop[i] + 1), i);
    assert.equal(rowAt(l, l.rowTop[i] + 11.9), i);
  });
  assert.equal(rowAt(l, 39), -1, 'above the rows');
  assert.equal(rowAt(l, l.bottom + 1), -1, 'below the rows');
  const firstLane = r.laneRows.find((x) => x.count > 0)!;
  assert.equal(rowAt(l, l.rowTop[firstLane.first + firstLane.count - 1] + 12 + 3), -1, 'in the gap between lanes');

  const steps = [
    { name: 'ProfilerStep#1', startUs: 0, durUs: 100 },
    { name: 'ProfilerStep#2', startUs: 100, durUs: 100 },
    { name: 'ProfilerStep#3', startUs: 200, durUs: 100 },
  ];
  const m = stepMarks(steps, [150, 250], 100);
  assert.deepEqual(
    m.map((s) => [s.label, s.x, s.w, s.index]),
    [
      ['ProfilerStep#2', 0, 50, 1],
      ['ProfilerStep#3', 50, 50, 2],
    ],
  );
  assert.deepEqual(stepMarks(steps, [400, 500], 100), []);
});

test('timeline labels are cut to their room', () => {
  assert.equal(fitLabel('aten::mm', 200), 'aten::mm');
  assert.equal(fitLabel('aten::convolution_backward', 64), 'aten::con…');
  assert.equal(fitLabel('aten::mm', 12), '', 'no room for three characters');
});

test('memory chart: the peak on the curve at its time, axis over the whole span', () => {
  const m = resnet.memory!;
  const box = { width: 800, height: 280, top: 28, right: 24, bottom: 28, left: 76 };
  const c = traceMemoryChart(m, box, resnet.spanUs);
  assert.equal(c.peak.bytes, m.peakBytes);
  assert.equal(c.peak.tUs, m.peakAtUs);
  assert.ok(close(c.x(resnet.spanUs), box.width - box.right), 'x reaches the trace span');
  assert.ok(c.peak.y >= box.top && c.peak.y < box.height - box.bottom);
  assert.ok(Math.min(...m.timeline.map((p) => c.y(p.bytes))) >= c.peak.y - 1e-9, 'no point above the peak');
  assert.match(c.peak.label, /^peak 2\.60 GiB on cuda:0 at 122\.07 ms$/);
});

test('counter chart: a step line with its maximum marked', () => {
  const counter = tfDemo.counters![0];
  const box = { width: 400, height: 120, top: 12, right: 16, bottom: 22, left: 56 };
  const c = counterChart(counter, box, tfDemo.spanUs);
  assert.equal(c.max.value, Math.max(...counter.values));
  assert.equal((c.line.match(/[ML]/g) ?? []).length >= counter.values.length, true);
  assert.ok(c.yTicks.length >= 2);
  assert.ok(c.max.y <= Math.min(...c.yTicks.map((t) => t.at)) + 1e-9 || c.yTicks.some((t) => close(t.at, c.max.y)), 'the maximum is within the axis');
});

test('labels: frames, paths, devices and distribution', () => {
  const f = { file: '/home/me/project/models/resnet.py', line: 54, fn: 'forward' };
  assert.equal(frameLabel(f), '…/models/resnet.py:54');
  assert.equal(frameTitle(f), '/home/me/project/models/resnet.py:54 in forward');
  assert.equal(frameLabel({ file: 'train.py', line: 3, fn: '' }), 'train.py:3');
  assert.equal(shortPath('C:\\work\\a\\b.py'), '…/a/b.py');
  assert.equal(distributedLabel({ rank: 1, worldSize: 2, backend: 'nccl' }), 'rank 1 of 2 · nccl');
  assert.equal(distributedLabel({ rank: 0, worldSize: null, backend: null }), 'rank 0');
  assert.equal(deviceLabel({ id: 0, name: 'NVIDIA A100', totalMemoryBytes: 40 * 2 ** 30, computeCapability: '8.0' }), '0 · NVIDIA A100 · 40.0 GiB · sm 8.0');
  assert.equal(deviceLabel({ id: 3, name: 'MI250' }), '3 · MI250');
});
