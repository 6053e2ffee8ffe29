import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { InferenceRun } from '../../engine/src/schema/run';
import { topOpTypeBars } from '../../webview/src/charts/bars';
import { icicleLayout, icicleTree } from '../../webview/src/charts/icicle';
import { byteTicks, liveAtPeak, memoryChart, memorySplit } from '../../webview/src/charts/memory';
import { formatShape, opsRows, runLayers, sortRows } from '../../webview/src/charts/ops-rows';
import { assignOpTypeColors, OTHER_SLOT, PALETTE_SLOTS } from '../../webview/src/charts/palette';

const fixture = (name: string) => JSON.parse(readFileSync(path.join(__dirname, '../fixtures', name), 'utf8')) as InferenceRun;
const tiny = fixture('tiny-gpt.run.json');
const genai = fixture('genai-gpt2.run.json');
const close = (a: number, b: number, eps = 1e-6) => Math.abs(a - b) <= eps;

test('icicle: every level shares out the whole time, children fill their parent', () => {
  for (const run of [tiny, genai]) {
    const width = 1000;
    const rects = icicleLayout(run, width, 20);
    for (const depth of [0, 1, 2, 3]) {
      const level = rects.filter((r) => r.depth === depth);
      assert.ok(close(level.reduce((s, r) => s + r.share, 0), 1), `shares at depth ${depth} add up to 1`);
      assert.ok(close(level.reduce((s, r) => s + r.w, 0), width, 1e-6), `widths at depth ${depth} add up to the width`);
      for (const r of level) assert.equal(r.y, depth * 20);
    }
    const leaves = rects.filter((r) => r.depth === 3);
    assert.equal(leaves.length, run.ops.length, 'one leaf per node');
    for (const parent of rects.filter((r) => r.depth < 3)) {
      const kids = rects.filter((r) => r.depth === parent.depth + 1 && r.key.startsWith(`${parent.depth === 0 ? '' : `${parent.key}/`}`) && r.x >= parent.x - 1e-9 && r.x + r.w <= parent.x + parent.w + 1e-9);
      assert.ok(close(kids.reduce((s, r) => s + r.w, 0), parent.w, 1e-6), `children of ${parent.key} fill it`);
    }
  }
});

test('icicle: layers in index order with "no layer" last; nodes by time within an op type', () => {
  const tree = icicleTree(tiny);
  const layers = tree.children.map((c) => c.layer);
  assert.deepEqual(layers, [0, 1, 2, 3, null]);
  for (const layer of tree.children)
    for (const type of layer.children) for (let i = 1; i < type.children.length; i++) assert.ok(type.children[i - 1].totalUs >= type.children[i].totalUs);
  assert.equal(icicleLayout(tiny, 100, 20, 2).some((r) => r.w < 2), false, 'narrow cells are left out');
});

test('ops rows: groupings keep the total time; filters narrow them; shares are of the whole run', () => {
  const total = tiny.ops.reduce((s, o) => s + o.totalUs, 0);
  for (const grouping of ['node', 'opType', 'layer'] as const) {
    const rows = opsRows(tiny, { grouping, text: '', layer: 'all' });
    assert.equal(rows.reduce((s, r) => s + r.totalUs, 0), total);
    assert.ok(close(rows.reduce((s, r) => s + r.share, 0), 1));
  }
  assert.equal(opsRows(tiny, { grouping: 'opType', text: '', layer: 'all' }).length, tiny.opTypes.length);
  assert.equal(opsRows(tiny, { grouping: 'layer', text: '', layer: 'all' }).length, tiny.layers.length);
  const matmulsOfLayer1 = opsRows(tiny, { grouping: 'node', text: 'MATMUL', layer: 1 });
  assert.ok(matmulsOfLayer1.length > 0);
  for (const r of matmulsOfLayer1) assert.ok(r.layer === 1 && (/matmul/i.test(r.label) || /matmul/i.test(r.opType)));
  const noLayer = opsRows(tiny, { grouping: 'node', text: '', layer: null });
  assert.ok(noLayer.length > 0 && noLayer.every((r) => r.layer === null));
  const partial = opsRows(tiny, { grouping: 'opType', text: '', layer: 2 });
  assert.ok(partial.reduce((s, r) => s + r.share, 0) < 0.5, 'shares stay relative to the whole run');
});

test('ops rows: sorting by numbers, text and layer, both directions', () => {
  const rows = opsRows(tiny, { grouping: 'node', text: '', layer: 'all' });
  const byMean = sortRows(rows, 'meanUs', true);
  for (let i = 1; i < byMean.length; i++) assert.ok(byMean[i - 1].meanUs >= byMean[i].meanUs);
  const byName = sortRows(rows, 'label', false);
  assert.ok(byName[0].label.localeCompare(byName[1].label) <= 0);
  const byLayer = sortRows(rows, 'layer', false);
  assert.equal(byLayer[0].layer, 0);
  assert.equal(byLayer[byLayer.length - 1].layer, null, 'no layer sorts last');
  assert.notStrictEqual(sortRows(rows, 'share', true), rows, 'a new array; the input is left alone');
  assert.deepEqual(runLayers(tiny), [0, 1, 2, 3, null]);
  assert.equal(formatShape([1, 128, 256]), '1×128×256');
  assert.equal(formatShape([]), 'scalar');
});

test('op-type bars: the top n plus "other", shares add to 1, longest bar is full length', () => {
  const bars = topOpTypeBars(tiny, 5);
  assert.equal(bars.length, 6);
  assert.match(bars[5].label, /^other \(\d+ op types\)$/);
  assert.ok(close(bars.reduce((s, b) => s + b.share, 0), 1));
  assert.equal(Math.max(...bars.map((b) => b.length)), 1);
  assert.equal(topOpTypeBars(genai, 50).length, genai.opTypes.length, 'no "other" when all fit');
});

test('palette: busiest op types get distinct slots; the same op type keeps its slot across runs', () => {
  const a = assignOpTypeColors(['MatMul', 'Add', 'Softmax', 'Gelu']);
  const b = assignOpTypeColors(['MatMul', 'Add', 'Softmax', 'Gelu', 'Reshape']);
  assert.equal(new Set(a.values()).size, 4);
  for (const k of a.keys()) assert.equal(a.get(k), b.get(k));
  const many = assignOpTypeColors(Array.from({ length: PALETTE_SLOTS + 3 }, (_, i) => `Op${i}`));
  assert.equal([...many.values()].filter((s) => s === OTHER_SLOT).length, 3);
  assert.equal(new Set([...many.values()].filter((s) => s !== OTHER_SLOT)).size, PALETTE_SLOTS);
});

test('memory chart: the peak sits at peakAt with its label, inside the plot', () => {
  const box = { width: 800, height: 300, top: 20, right: 20, bottom: 30, left: 70 };
  const c = memoryChart(tiny.memory, box);
  assert.equal(c.peak.label, `peak 14.9 MiB after ${tiny.memory.peakAt?.node}`);
  assert.equal(c.peak.tUs, tiny.memory.peakAt?.tUs);
  assert.ok(c.peak.x >= box.left && c.peak.x <= box.width - box.right);
  assert.ok(c.peak.y >= box.top && c.peak.y < box.height - box.bottom);
  assert.match(c.area, /^M/);
  assert.match(c.line, /^M/);
  assert.ok(c.yTicks.length >= 3);
  assert.ok(c.yTicks.every((t) => t.at >= box.top - 1e-9 && t.at <= box.height - box.bottom + 1e-9));
});

test('byte ticks: round multiples of one binary unit covering the maximum', () => {
  const t = byteTicks(15_597_640 * 1.08, 5);
  assert.equal(t[0].label, '0');
  assert.ok(t[t.length - 1].value >= 15_597_640 * 1.08);
  assert.ok(t.every((x) => x.label === '0' || / MiB$/.test(x.label)));
  assert.deepEqual(
    byteTicks(1000, 2).map((x) => x.label),
    ['0', '500 B', '1000 B'],
  );
});

test('memory split and live tensors at the peak (an estimate from outputs produced before it)', () => {
  const s = memorySplit(tiny.memory);
  assert.equal(s.weightsBytes, tiny.memory.weightsBytes);
  assert.equal(s.baselineBytes, tiny.memory.timeline[0].bytes);
  assert.equal(s.activationsBytes, tiny.memory.peakBytes - tiny.memory.timeline[0].bytes);
  const live = liveAtPeak(tiny, 10);
  assert.equal(live.estimate, true);
  assert.equal(live.peakOp?.node, tiny.memory.peakAt?.node);
  assert.equal(live.tensors.length, 10);
  for (let i = 1; i < live.tensors.length; i++) assert.ok(live.tensors[i - 1].bytes >= live.tensors[i].bytes);
  const peakT = tiny.memory.peakAt?.tUs ?? 0;
  assert.ok(live.tensors.every((t) => t.producedUs <= peakT && t.node !== tiny.memory.peakAt?.node));
  const big = live.tensors[0];
  assert.equal(big.bytes, big.shape.reduce((p, d) => p * d, 1) * 4);
  assert.deepEqual(liveAtPeak({ ...tiny, memory: { ...tiny.memory, peakAt: undefined } }).tensors, []);
});
