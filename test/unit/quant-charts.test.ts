import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { CompressionReport, LayerError } from '../../engine/src/schema/compression';
import { errorRankDb, layerBars, LOW_SQNR_DB, orderLayers, sqnrBar, sqnrScaleMax } from '../../webview/src/charts/error-bars';
import { histogramChart, valueLabel } from '../../webview/src/charts/histogram';

const report = JSON.parse(readFileSync(path.join(__dirname, '../fixtures/tiny-bert.int8.quant.json'), 'utf8')) as CompressionReport;
const close = (a: number, b: number, eps = 1e-6) => Math.abs(a - b) <= eps;

const layer = (node: string, local: number | null | undefined, cumulative: number | null, share?: number): LayerError => ({
  node,
  opType: 'MatMul',
  tensor: node,
  ...(local !== undefined ? { sqnrDb: local } : {}),
  cumulativeSqnrDb: cumulative,
  mse: 0,
  cosine: 1,
  cumulativeMse: 0,
  cumulativeCosine: 1,
  ...(share !== undefined ? { latencyShare: share } : {}),
});

test('SQNR bars: one scale rounded up to 10 dB; exact is full, unmeasured empty, low flagged', () => {
  const layers = [layer('a', 34.5, 27.9, 0.1), layer('b', 12, 41.2, 0.4), layer('c', null, null), layer('d', undefined, -3)];
  assert.equal(sqnrScaleMax(layers), 50);
  const { maxDb, rows } = layerBars(layers);
  assert.equal(maxDb, 50);
  assert.ok(close(rows[0].local.length, 34.5 / 50));
  assert.ok(close(rows[1].cumulative.length, 41.2 / 50));
  assert.equal(rows[0].local.label, '34.5 dB');
  assert.equal(rows[1].local.flag, 'low', `below ${LOW_SQNR_DB} dB is flagged`);
  assert.equal(rows[0].local.flag, null);
  assert.deepEqual([rows[2].local.length, rows[2].local.label, rows[2].local.flag], [1, 'exact', 'exact']);
  assert.deepEqual([rows[3].local.length, rows[3].local.label], [0, '—'], 'a node that could not be isolated has no local bar');
  assert.equal(rows[3].cumulative.length, 0, 'negative dB has no length');
  assert.equal(rows[3].cumulative.flag, 'low');
  assert.equal(rows[1].share.length, 1, 'the largest time share is the full bar');
  assert.ok(close(rows[0].share.length, 0.25));
  assert.equal(rows[0].share.label, '10.0%');
  assert.deepEqual([rows[2].share.length, rows[2].share.label], [0, '—']);
  assert.equal(sqnrScaleMax([layer('x', 3, 4)]), 10, 'the scale never shrinks below 10 dB');
  assert.equal(sqnrBar(80, 40).length, 1, 'bars never overflow their track');
});

test('layer order: graph order as listed, or worst error first with exact last', () => {
  const layers = [layer('a', 34.5, 27.9), layer('b', 12, 41.2), layer('c', null, null), layer('d', undefined, 20), layer('e', 12, 10)];
  assert.deepEqual(orderLayers(layers, 'graph'), [0, 1, 2, 3, 4]);
  assert.deepEqual(orderLayers(layers, 'error'), [1, 4, 3, 0, 2], 'ties keep graph order; unisolated nodes rank by cumulative SQNR');
  assert.equal(errorRankDb(layers[2]), Infinity);
  const worst = orderLayers(report.layers, 'error')[0];
  for (const l of report.layers) assert.ok(errorRankDb(report.layers[worst]) <= errorRankDb(l));
});

test('histogram: bins tile the plot, both halves share one count scale, the tallest bin reaches the top', () => {
  const box = { width: 400, height: 200, top: 10, right: 10, bottom: 20, left: 40 };
  const pair = { lo: -1, hi: 1, before: [1, 4, 8, 4, 1, 0, 0, 2], after: [0, 5, 10, 3, 0, 0, 0, 2] };
  const c = histogramChart(pair, box);
  assert.equal(c.bins.length, 8);
  assert.equal(c.maxCount, 10);
  assert.ok(close(c.bins[0].x, 40));
  assert.ok(close(c.bins[7].x + c.bins[7].width, 390), 'the last bin ends at the right edge');
  for (let i = 1; i < c.bins.length; i++) assert.ok(close(c.bins[i].x, c.bins[i - 1].x + c.bins[i - 1].width), 'bins touch');
  const plot = 200 - 20 - 10;
  assert.ok(close(c.bins[2].after.height, plot), 'the largest count (after) is the full height');
  assert.ok(close(c.bins[2].before.height, plot * 0.8), 'before is on the same scale as after');
  assert.equal(c.bins[5].before.height, 0);
  assert.ok(close(c.bins[0].lo, -1) && close(c.bins[7].hi, 1));
  assert.equal(c.zeroX, 215, 'zero is marked halfway across');
  assert.match(c.afterPath, /^M40,180V180H83\.75V95H/, 'the outline starts at the bottom left and steps along the tops');
  assert.match(c.afterPath, /H390V180$/, 'and ends at the bottom right');
  assert.ok(c.xTicks.length >= 3 && c.xTicks.every((t) => t.at >= 40 && t.at <= 390));
  assert.ok(c.yTicks.some((t) => t.label === '10'));
});

test('histogram: a square-root count axis lifts small bins; a constant tensor still gets a bin', () => {
  const box = { width: 300, height: 120, top: 0, right: 0, bottom: 20, left: 0 };
  const pair = { lo: -0.5, hi: 0.5, before: [25, 100], after: [100, 0] };
  const lin = histogramChart(pair, box, 'linear');
  const sqrt = histogramChart(pair, box, 'sqrt');
  assert.ok(close(lin.bins[0].before.height, 25));
  assert.ok(close(sqrt.bins[0].before.height, 50), 'sqrt(25/100) of the height');
  const flat = histogramChart({ lo: 2, hi: 2, before: [7], after: [7] }, box);
  assert.ok(flat.bins[0].width > 0);
  assert.equal(flat.zeroX, undefined);
  assert.equal(histogramChart({ lo: 0, hi: 1, before: [], after: [] }, box).afterPath, '');
  assert.deepEqual([valueLabel(-0.08), valueLabel(0.125), valueLabel(0.00015), valueLabel(0)], ['-0.08', '0.125', '1.5e-4', '0']);
});

test('histograms of the fixture: every layer\'s weights and activations draw inside their box', () => {
  const box = { width: 320, height: 190, top: 8, right: 10, bottom: 22, left: 46 };
  for (const l of report.layers) {
    for (const pair of [l.weightHistogram, l.activationHistogram]) {
      assert.ok(pair);
      const c = histogramChart(pair, box);
      assert.equal(c.bins.length, pair.before.length);
      for (const b of c.bins) {
        assert.ok(b.before.y >= 8 - 1e-9 && b.before.y + b.before.height <= 168 + 1e-9);
        assert.ok(b.after.y >= 8 - 1e-9);
      }
    }
  }
});
