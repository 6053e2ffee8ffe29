/**
 * The Quantization view in the real bundle under the real CSP: the report's figures, one row per
 * layer, histograms of a selected layer, the sort toggle, keep-in-fp32 + Re-run (what it sends, its
 * progress, the new report selected), pruning reports, untrusted workspaces and the offline report.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import type { CompressionReport } from '../../engine/src/schema/compression';
import { formatBytes, formatPercent } from '../../engine/src/util/format';
import { orderLayers } from '../../webview/src/charts/error-bars';
import { assertClean, count, initParams, launchBrowser, openTab, openWorkbench, REPO_ROOT, requestsOf, Workbench } from './harness';

const quant = JSON.parse(readFileSync(path.join(REPO_ROOT, 'test/fixtures/tiny-bert.int8.quant.json'), 'utf8')) as CompressionReport;

let browser: Browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

const rowText = (wb: Workbench, figure: string) => wb.page.locator(`tr[data-figure="${figure}"]`).innerText();
const firstRowNode = (wb: Workbench) => wb.page.locator('tr.twb-layer-row').first().getAttribute('data-node');

describe('quantization view', () => {
  test('renders the report: before/after figures, one row per layer, histograms of the selected layer', async () => {
    const wb = await openWorkbench(browser);
    try {
      await wb.event('session/init', initParams([], { compressions: [quant], view: 'quantization' }));
      await wb.page.locator('.twb-quant').waitFor();
      assert.match(await wb.page.locator('.twb-quant h1').innerText(), /^Quantization: int8-dynamic per-channel · tiny-bert$/);
      assert.match(await rowText(wb, 'size'), new RegExp(`${formatBytes(quant.sizeBytes.before)}\\s+${formatBytes(quant.sizeBytes.after)}\\s+\\d+\\.\\d\\d× smaller`));
      assert.match(await rowText(wb, 'latency'), new RegExp(`${quant.latencyMs.before.toFixed(2)} ms\\s+${quant.latencyMs.after.toFixed(2)} ms`));
      assert.match(await rowText(wb, 'speedup'), new RegExp(`${quant.speedup.toFixed(2)}×\\s+${quant.speedup >= 1 ? 'faster' : 'slower'}`));
      assert.match(await rowText(wb, 'sqnr'), new RegExp(`reference\\s+${(quant.output.sqnrDb as number).toFixed(1)} dB`));
      assert.match(await rowText(wb, 'cosine'), new RegExp(quant.output.cosine.toFixed(5)));
      assert.match(await rowText(wb, 'top1'), new RegExp(formatPercent(quant.output.top1Agreement).replace('.', '\\.')));
      assert.equal(await count(wb, 'tr[data-figure="accuracy"]'), 0, 'no accuracy row without an eval file');
      const how = await wb.page.locator('.twb-quant-how').allInnerTexts();
      assert.equal(how.length, 6);
      for (const t of how) assert.match(t, /^measured/, 'every figure says it was measured');

      assert.equal(await count(wb, 'tr.twb-layer-row'), quant.layers.length, 'one row per rewritten node');
      assert.deepEqual(await wb.page.locator('tr.twb-layer-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-node'))), quant.layers.map((l) => l.node), 'graph order');
      const widths = await wb.page.locator('tr.twb-layer-row .twb-db-local .twb-db-fill').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().width));
      assert.ok(widths.every((w) => w > 10), 'every local SQNR bar has a length');
      assert.equal(await count(wb, 'tr.twb-layer-row .twb-share-fill'), quant.layers.length, 'a time-share bar beside each layer');

      assert.equal(await count(wb, 'svg.twb-hist'), 0, 'no histogram before a layer is chosen');
      const pick = quant.layers[4];
      await wb.page.click(`tr.twb-layer-row[data-node="${pick.node}"] td.twb-layer-node`);
      await wb.page.locator('svg.twb-hist').nth(1).waitFor();
      assert.equal(await wb.page.locator('.twb-hist-pair').getAttribute('data-node'), pick.node);
      assert.equal(await count(wb, 'svg.twb-hist'), 2, 'weights and activations');
      assert.equal(await wb.page.locator('svg.twb-hist').first().locator('.twb-hist-before rect').count(), pick.weightHistogram?.before.length);
      assert.match((await wb.page.locator('svg.twb-hist path.twb-hist-after').first().getAttribute('d')) ?? '', /^M[\d.]+,[\d.]+(V[\d.]+H[\d.]+)+V[\d.]+$/);
      const tallest = await wb.page.locator('svg.twb-hist').first().locator('.twb-hist-before rect').evaluateAll((els) => Math.max(...els.map((e) => Number(e.getAttribute('height')))));
      assert.ok(tallest > 100, `bars are drawn to scale (tallest ${tallest} px)`);
      assert.equal(await wb.page.locator(`tr.twb-layer-row[data-node="${pick.node}"]`).getAttribute('aria-selected'), 'true');
      await wb.screenshot('quantization');

      await wb.page.click('#twb-layer-sort-error');
      const worst = quant.layers[orderLayers(quant.layers, 'error')[0]].node;
      await wb.page.waitForFunction((n) => document.querySelector('tr.twb-layer-row')?.getAttribute('data-node') === n, worst);
      assert.equal(await firstRowNode(wb), worst, 'worst error first');
      assert.equal(await count(wb, 'svg.twb-hist'), 2, 'the selection survives a re-sort');
      await wb.page.click('#twb-layer-sort-graph');
      await wb.page.waitForFunction((n) => document.querySelector('tr.twb-layer-row')?.getAttribute('data-node') === n, quant.layers[0].node);
      assert.match(await wb.page.locator('.twb-quant').innerText(), /Every node the pass looks for was rewritten\.[^]*No warnings\./);
      await assertClean(wb);
    } finally {
      await wb.close();
    }
  });

  test('keep in fp32 + Re-run sends compress/start with the exclude list, shows progress, then selects the new report', async () => {
    const wb = await openWorkbench(browser);
    try {
      await wb.event('session/init', initParams([], { compressions: [quant], view: 'quantization' }));
      await wb.page.locator('#twb-quant-rerun').waitFor();
      assert.equal((await wb.page.locator('#twb-quant-rerun').innerText()).trim(), 'Re-run keeping 0 layers in fp32');
      const keep = [quant.layers[7].node, quant.layers[2].node];
      for (const n of keep) await wb.page.click(`vscode-checkbox[data-node="${n}"]`);
      await wb.page.getByText('Re-run keeping 2 layers in fp32').waitFor();
      assert.equal(await count(wb, 'svg.twb-hist'), 0, 'ticking a box does not select its row');
      await wb.page.click('#twb-quant-rerun');
      const start = await wb.waitForPosted((m) => m.kind === 'request' && m.method === 'compress/start', 'compress/start');
      const form = (start.params as { form: Record<string, unknown> }).form;
      assert.deepEqual(form.exclude, [quant.layers[2].node, quant.layers[7].node], 'the ticked layers, in graph order');
      assert.deepEqual(
        { model: form.model, mode: form.mode, perChannel: form.perChannel, batch: form.batch, seq: form.seq, threads: form.threads, runs: form.runs },
        { model: quant.model.source, mode: quant.config.mode, perChannel: quant.config.perChannel, batch: quant.config.batch, seq: quant.config.seq, threads: quant.config.threads, runs: quant.config.runs },
        'the report\'s own configuration',
      );

      await wb.event('run/progress', { requestId: start.id as number, phase: 'latency', done: 2, total: 5, message: 'timing the original and the new model' });
      await wb.page.getByText('timing the original and the new model (2/5)').waitFor();
      assert.equal(await wb.page.locator('#twb-quant-rerun').evaluate((b) => (b as HTMLElement & { disabled: boolean }).disabled), true, 'no second run while one is going');
      await wb.page.click('#twb-quant-rerun', { force: true });
      assert.equal((await requestsOf(wb, 'compress/start')).length, 1);

      const kept = new Set(keep);
      const rerun: CompressionReport = { ...quant, id: 'rerun-keep-2', createdAt: new Date(Date.parse(quant.createdAt) + 60_000).toISOString(), speedup: 1.11, config: { ...quant.config, exclude: form.exclude as string[] }, layers: quant.layers.filter((l) => !kept.has(l.node)) };
      await wb.event('compress/added', { report: rerun });
      await wb.send({ kind: 'response', id: start.id as number, ok: { reportId: rerun.id } });
      await wb.page.locator('.twb-quant[data-report="rerun-keep-2"]').waitFor();
      assert.equal(await count(wb, 'tr.twb-layer-row'), quant.layers.length - 2);
      assert.match(await wb.page.locator('.twb-quant-header').innerText(), /2 nodes kept in fp32/);
      assert.equal(await count(wb, '#twb-report-picker'), 1, 'a report picker once there are two');
      assert.equal(await wb.page.locator('#twb-report-picker').evaluate((s) => (s as HTMLElement & { value: string }).value), 'rerun-keep-2');
      assert.equal((await wb.page.locator('#twb-quant-rerun').innerText()).trim(), 'Re-run keeping 2 layers in fp32', 'the new report\'s exclusions stay ticked');
      assert.equal(await wb.page.locator('.twb-kept-list vscode-checkbox').count(), 2);
      assert.equal(await wb.page.locator('#twb-quant-rerun').evaluate((b) => (b as HTMLElement & { disabled: boolean }).disabled), false);
      await wb.screenshot('quantization-rerun');

      await wb.page.locator('#twb-report-picker').evaluate((el) => {
        const s = el as HTMLElement & { value: string };
        s.value = s.querySelector('vscode-option')?.getAttribute('value') ?? '';
        s.dispatchEvent(new Event('change'));
      });
      await wb.page.locator(`.twb-quant[data-report="${quant.id}"]`).waitFor();
      assert.equal(await count(wb, 'tr.twb-layer-row'), quant.layers.length);
      await assertClean(wb);
    } finally {
      await wb.close();
    }
  });

  test('a pruning report renders in the same view with its own heading and the keep toggle', async () => {
    const wb = await openWorkbench(browser);
    try {
      const pruned: CompressionReport = {
        ...quant,
        id: 'pruned',
        kind: 'pruning',
        config: { ...quant.config, mode: 'magnitude', perChannel: false, amount: 0.5 },
        skipped: [{ node: 'head/classifier', opType: 'Gemm', reason: 'the output projection is kept dense' }],
        notes: ['zeros are stored densely: the file does not shrink without a sparse format'],
        warnings: ['accuracy was not measured: pass --eval FILE'],
        eval: { file: 'sst2-dev.json', examples: 64, labels: 64, accuracyBefore: 0.875, accuracyAfter: 0.8125 },
      };
      await wb.event('session/init', initParams([], { compressions: [pruned], view: 'quantization' }));
      await wb.page.locator('.twb-quant').waitFor();
      assert.match(await wb.page.locator('.twb-quant h1').innerText(), /^Pruning: magnitude 50% · tiny-bert$/);
      assert.match(await rowText(wb, 'accuracy'), /87\.5%\s+81\.3%\s+−6\.25 points/);
      const text = await wb.page.locator('.twb-quant').innerText();
      assert.match(text, /Per-layer error \(26 pruned nodes\)/i);
      assert.match(text, /head\/classifier\s+Gemm\s+the output projection is kept dense/);
      assert.match(text, /zeros are stored densely/);
      assert.match(text, /accuracy was not measured/);
      await wb.page.click(`vscode-checkbox[data-node="${quant.layers[0].node}"]`);
      await wb.page.getByText('Re-run keeping 1 layer in fp32').waitFor();
      await wb.page.click(`tr.twb-layer-row[data-node="${quant.layers[0].node}"] td.twb-layer-node`);
      await wb.page.locator('svg.twb-hist').first().waitFor();
      assert.match(await wb.page.locator('.twb-hist-pair').innerText(), /square-root axis/, 'pruning histograms use a sqrt count axis');
      await wb.page.click('#twb-quant-rerun');
      const start = await wb.waitForPosted((m) => m.kind === 'request' && m.method === 'compress/start', 'compress/start');
      assert.deepEqual((start.params as { form: { mode: string; amount: number; exclude: string[] } }).form, { ...(start.params as { form: object }).form, mode: 'magnitude', amount: 0.5, exclude: [quant.layers[0].node] });
      await assertClean(wb);
    } finally {
      await wb.close();
    }
  });

  test('untrusted workspace and offline report: the view renders, Re-run is disabled and sends nothing', async () => {
    const wb = await openWorkbench(browser);
    try {
      await wb.event('session/init', initParams([], { compressions: [quant], view: 'quantization', trusted: false }));
      await wb.page.getByText('Running models is disabled in untrusted workspaces.').waitFor();
      await wb.page.click(`vscode-checkbox[data-node="${quant.layers[0].node}"]`);
      assert.equal(await wb.page.locator('#twb-quant-rerun').evaluate((b) => (b as HTMLElement & { disabled: boolean }).disabled), true);
      await wb.page.click('#twb-quant-rerun', { force: true });
      assert.equal((await requestsOf(wb, 'compress/start')).length, 0);
      await assertClean(wb);
    } finally {
      await wb.close();
    }
    const init = { ...initParams([]), compressions: [quant], mode: 'report' as const, trusted: false, providers: [] };
    const report = await openWorkbench(browser, { host: 'report', reportInit: init });
    try {
      await report.page.locator('vscode-tab-header[data-view="quantization"]').waitFor();
      assert.deepEqual(await report.page.locator('vscode-tab-header').allInnerTexts(), ['Overview', 'Ops', 'Timeline', 'Memory', 'Compare', 'Quantization']);
      await openTab(report, 'quantization');
      await report.page.getByText('Re-running is not available in an offline report.').waitFor();
      assert.equal(await count(report, 'tr.twb-layer-row'), quant.layers.length);
      assert.equal(await report.page.locator('#twb-quant-rerun').evaluate((b) => (b as HTMLElement & { disabled: boolean }).disabled), true);
      await assertClean(report);
    } finally {
      await report.close();
    }
  });

  test('without reports the view says how to make one', async () => {
    const wb = await openWorkbench(browser);
    try {
      await wb.event('session/init', initParams([], { view: 'quantization' }));
      await wb.page.getByText('No quantization or pruning reports yet.').waitFor();
      assert.match(await wb.page.locator('#twb-view').innerText(), /Quantize Model…/);
      await assertClean(wb);
    } finally {
      await wb.close();
    }
  });
});
