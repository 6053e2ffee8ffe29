import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { InferenceRun, KernelTrace } from '../../engine/src/schema/run';
import { createRng } from '../../engine/src/util/rng';
import { buildLanes, firstEndingAfter, hitTest, lanesDurationUs } from '../../webview/src/charts/timeline-lanes';
import { markList, timelineMarks } from '../../webview/src/charts/timeline-marks';

/** `runs` lanes of `perRun` kernels with random gaps and durations (µs), optionally shuffled. */
function syntheticTrace(seed: number, runs: number, perRun: number, shuffle = false): KernelTrace {
  const rng = createRng(seed);
  const t: KernelTrace = { op: [], run: [], startUs: [], durUs: [], runUs: [] };
  for (let r = 0; r < runs; r++) {
    let now = rng.int(0, 20);
    for (let k = 0; k < perRun; k++) {
      // Mostly tiny kernels with the odd long one, like a real transformer.
      const dur = rng.next() < 0.05 ? rng.int(200, 2000) : rng.int(0, 15);
      t.op.push(rng.int(0, 50));
      t.run.push(r);
      t.startUs.push(now);
      t.durUs.push(dur);
      now += dur + rng.int(0, 4);
    }
    t.runUs.push(now + 5);
  }
  if (shuffle) {
    const idx = t.op.map((_, i) => i);
    for (let i = idx.length - 1; i > 0; i--) {
      const j = rng.int(0, i + 1);
      [idx[i], idx[j]] = [idx[j], idx[i]];
    }
    return { op: idx.map((i) => t.op[i]), run: idx.map((i) => t.run[i]), startUs: idx.map((i) => t.startUs[i]), durUs: idx.map((i) => t.durUs[i]), runUs: t.runUs };
  }
  return t;
}

test('lanes split the trace by run and sort each lane by start', () => {
  const trace = syntheticTrace(1, 3, 500, true);
  const lanes = buildLanes(trace);
  assert.equal(lanes.length, 3);
  assert.equal(lanes.reduce((s, l) => s + l.starts.length, 0), trace.op.length);
  for (const lane of lanes) {
    for (let j = 1; j < lane.starts.length; j++) {
      assert.ok(lane.starts[j] >= lane.starts[j - 1], 'sorted by start');
      assert.ok(lane.maxEnd[j] >= lane.maxEnd[j - 1], 'running max of ends');
    }
    for (let j = 0; j < lane.starts.length; j++) {
      const i = lane.traceIndex[j];
      assert.equal(trace.run[i], lane.run);
      assert.equal(lane.starts[j], trace.startUs[i]);
      assert.equal(lane.ends[j], trace.startUs[i] + trace.durUs[i]);
      assert.equal(lane.op[j], trace.op[i]);
    }
    assert.ok(lane.durationUs >= lane.maxEnd[lane.maxEnd.length - 1]);
  }
  assert.equal(lanesDurationUs(lanes), Math.max(...lanes.map((l) => l.durationUs)));
});

test('firstEndingAfter finds the first kernel still running at a time', () => {
  const [lane] = buildLanes({ op: [0, 0, 0], run: [0, 0, 0], startUs: [0, 10, 20], durUs: [5, 5, 5], runUs: [30] });
  assert.equal(firstEndingAfter(lane, 0), 0);
  assert.equal(firstEndingAfter(lane, 6), 1);
  assert.equal(firstEndingAfter(lane, 15), 1, 'a kernel ending exactly then still counts');
  assert.equal(firstEndingAfter(lane, 26), 3);
});

test('LOD: never more marks than pixels per lane, and every visible kernel lies inside a mark', () => {
  const lanes = buildLanes(syntheticTrace(7, 4, 5000));
  const total = lanesDurationUs(lanes);
  const windows: Array<[number, number]> = [
    [0, total],
    [total * 0.25, total * 0.5],
    [total * 0.4, total * 0.4 + 300],
    [total * 0.1, total * 0.1 + 20],
    [-500, total + 500],
  ];
  for (const width of [50, 333, 1200]) {
    for (const [t0, t1] of windows) {
      const marks = markList(timelineMarks(lanes, [t0, t1], width, (op) => op % 10));
      const k = width / (t1 - t0);
      lanes.forEach((lane, li) => {
        const mine = marks.filter((m) => m.lane === li);
        assert.ok(mine.length <= width, `${mine.length} marks in ${width} px`);
        for (let i = 1; i < mine.length; i++) assert.ok(Math.floor(mine[i].x) > Math.floor(mine[i - 1].x), 'marks start in increasing pixel columns');
        let covered = 0;
        let m = 0;
        for (let j = 0; j < lane.starts.length; j++) {
          if (lane.ends[j] < t0 || lane.starts[j] >= t1) continue;
          const a = Math.max(0, (lane.starts[j] - t0) * k);
          const b = Math.min(width, (lane.ends[j] - t0) * k);
          while (m < mine.length && mine[m].x + mine[m].w < b - 1e-9 && !(mine[m].x <= a + 1e-9 && mine[m].x + mine[m].w >= b - 1e-9)) m++;
          const mark = mine[m];
          assert.ok(mark && mark.x <= a + 1e-9 && mark.x + mark.w >= b - 1e-9, `kernel ${j} [${a}, ${b}] px is inside a mark`);
          covered++;
        }
        assert.equal(mine.reduce((s, x) => s + x.count, 0), covered, 'each visible kernel counted in exactly one mark');
      });
    }
  }
});

test('LOD: zoomed in far enough, each kernel is its own mark with its own colour', () => {
  const trace: KernelTrace = { op: [0, 1, 2], run: [0, 0, 0], startUs: [0, 100, 200], durUs: [50, 50, 50], runUs: [260] };
  const marks = markList(timelineMarks(buildLanes(trace), [0, 260], 520, (op) => op + 3));
  assert.deepEqual(
    marks.map((m) => [m.x, m.w, m.colorKey, m.count]),
    [
      [0, 100, 3, 1],
      [200, 100, 4, 1],
      [400, 100, 5, 1],
    ],
  );
});

test('LOD: kernels sharing a pixel merge into one mark coloured by the longest', () => {
  const trace: KernelTrace = { op: [0, 1, 2, 3], run: [0, 0, 0, 0], startUs: [0, 1, 2, 3], durUs: [1, 2, 1, 1], runUs: [1000] };
  const marks = markList(timelineMarks(buildLanes(trace), [0, 1000], 100, (op) => op));
  assert.equal(marks.length, 1);
  assert.equal(marks[0].count, 4);
  assert.equal(marks[0].colorKey, 1);
  assert.equal(marks[0].event, 1);
  assert.ok(Math.abs(marks[0].w - 0.4) < 1e-9);
});

test('LOD: 200,000 kernels over 20 lanes stay within 1,000 marks per lane at full view', () => {
  const lanes = buildLanes(syntheticTrace(3, 20, 10_000));
  const marks = markList(timelineMarks(lanes, [0, lanesDurationUs(lanes)], 1000, (op) => op % 7));
  const perLane = new Map<number, number>();
  for (const m of marks) perLane.set(m.lane, (perLane.get(m.lane) ?? 0) + 1);
  assert.equal(perLane.size, 20);
  for (const n of perLane.values()) assert.ok(n <= 1000);
});

test('LOD: touching marks of one colour become one; another colour starts a new mark', () => {
  const trace: KernelTrace = { op: [0, 0, 0, 1, 0], run: [0, 0, 0, 0, 0], startUs: [0, 10, 20, 30, 40], durUs: [10, 10, 10, 10, 10], runUs: [50] };
  const marks = markList(timelineMarks(buildLanes(trace), [0, 50], 50, (op) => op));
  assert.deepEqual(
    marks.map((m) => [m.x, m.w, m.colorKey, m.count]),
    [
      [0, 30, 0, 3],
      [30, 10, 1, 1],
      [40, 10, 0, 1],
    ],
  );
});

test('hitTest prefers the kernel under the time, then the nearest within tolerance', () => {
  const [lane] = buildLanes({ op: [0, 1, 2], run: [0, 0, 0], startUs: [0, 10, 30], durUs: [10, 5, 10], runUs: [40] });
  assert.equal(hitTest(lane, 12, 1), 1);
  assert.equal(hitTest(lane, 17, 3), 1, 'nearest within tolerance');
  assert.equal(hitTest(lane, 22, 3), -1, 'nothing within tolerance');
  assert.equal(hitTest(lane, 35, 0), 2);
});

test('lanes of a real run: one per profiled run, all kernels kept', () => {
  const run = JSON.parse(readFileSync(path.join(__dirname, '../fixtures/tiny-gpt.run.json'), 'utf8')) as InferenceRun;
  const lanes = buildLanes(run.trace);
  assert.equal(lanes.length, run.trace.runUs.length);
  assert.equal(lanes.reduce((s, l) => s + l.op.length, 0), run.trace.op.length);
  const marks = timelineMarks(lanes, [0, lanesDurationUs(lanes)], 800, () => 0);
  assert.ok(marks.length > 0 && marks.length <= 800 * lanes.length);
  const again = timelineMarks(lanes, [0, 100], 800, () => 0, marks);
  assert.equal(again, marks, 'a large enough buffer is reused');
});
