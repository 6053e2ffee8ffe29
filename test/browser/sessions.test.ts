/**
 * Other ways the webview is shown: untrusted workspaces, the custom editor (model summary, unreadable
 * file), the offline HTML report (no host at all), high-density displays, runs without memory figures.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import type { ModelSummaryView } from '../../engine/src/protocol/webview';
import { formatUs } from '../../engine/src/util/format';
import { assertClean, count, initParams, launchBrowser, loadFixture, openTab, openWorkbench, requestsOf } from './harness';

const tiny = loadFixture('tiny-gpt.run.json');
const noopt = loadFixture('tiny-gpt-noopt.run.json');
const genai = loadFixture('genai-gpt2.run.json');

let browser: Browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

describe('other sessions', () => {
  test('untrusted workspace: Re-run is disabled and says why', async () => {
    const wb = await openWorkbench(browser);
    try {
      await wb.event('session/init', initParams([tiny], { trusted: false, view: 'toggles' }));
      await wb.page.getByText('Running models is disabled in untrusted workspaces.').waitFor();
      assert.equal(await wb.page.locator('#twb-rerun').evaluate((b) => (b as HTMLElement & { disabled: boolean }).disabled), true);
      await wb.page.click('#twb-rerun', { force: true });
      assert.equal((await requestsOf(wb, 'run/start')).length, 0);
      await assertClean(wb);
    } finally {
      await wb.close();
    }
  });

  test('editor with an unreadable file shows the error, not a spinner', async () => {
    const wb = await openWorkbench(browser);
    try {
      await wb.event('session/init', initParams([], { mode: 'editor', error: { code: 'invalid-model', message: 'broken.onnx is not an ONNX model: truncated protobuf at byte 12', hint: 'Re-export the model.' } }));
      await wb.page.getByText('truncated protobuf at byte 12').waitFor();
      await wb.page.getByText('Re-export the model.').waitFor();
      assert.equal(await count(wb, 'vscode-progress-ring'), 0);
      assert.equal(await count(wb, '[data-action="profile"]'), 0);
      await wb.screenshot('editor-error');
      await assertClean(wb);
    } finally {
      await wb.close();
    }
  });

  test('editor before any run: model summary and a Profile button that starts a run', async () => {
    const wb = await openWorkbench(browser);
    try {
      const opCounts: Record<string, number> = {};
      for (const o of noopt.ops) {
        const key = o.domain ? `${o.domain}::${o.opType}` : o.opType;
        opCounts[key] = (opCounts[key] ?? 0) + 1;
      }
      const m = noopt.model;
      const summary: ModelSummaryView = { name: 'tiny-gpt.onnx', source: '/work/models/tiny-gpt.onnx', sizeBytes: m.sizeBytes, params: m.params, weightsBytes: noopt.memory.weightsBytes, opset: m.opset, opsets: m.opsets, irVersion: m.irVersion, producer: m.producer, nodeCount: m.nodeCount, opCounts, inputs: m.inputs.map((i) => ({ name: i.name, type: i.type, dims: i.declared })), outputs: [{ name: 'logits', type: 'float32', dims: ['batch', 'sequence', 1024] }] };
      await wb.event('session/init', initParams([], { mode: 'editor', summary, form: { ...initParams([]).form, model: summary.source } }));
      await wb.page.getByText('not profiled yet').waitFor();
      assert.match(await wb.page.locator('#twb-view').innerText(), /batch × sequence × 1024/);
      await wb.screenshot('editor-summary');
      await wb.page.click('[data-action="profile"]');
      const start = await wb.waitForPosted((msg) => msg.kind === 'request' && msg.method === 'run/start', 'run/start');
      assert.equal((start.params as { form: { model: string } }).form.model, summary.source);
      await wb.event('run/progress', { requestId: start.id as number, phase: 'load', done: 0, total: 0, message: 'Loading the model' });
      await wb.page.getByText('Loading the model').waitFor();
      await wb.event('run/added', { run: noopt });
      await wb.send({ kind: 'response', id: start.id as number, ok: { runId: noopt.id } });
      await wb.page.locator('.twb-stat-p50').getByText(formatUs(noopt.latencyMs.p50 * 1000)).waitFor();
      await assertClean(wb);
    } finally {
      await wb.close();
    }
  });

  test('offline report renders from its boot data without a host', async () => {
    const init = { ...initParams([genai]), mode: 'report' as const, trusted: false, providers: [] };
    const wb = await openWorkbench(browser, { host: 'report', reportInit: init });
    try {
      await wb.page.locator('.twb-stat-p50').getByText(formatUs(genai.latencyMs.p50 * 1000)).waitFor();
      const tabs = await wb.page.locator('vscode-tab-header').allInnerTexts();
      assert.deepEqual(tabs, ['Overview', 'Ops', 'Timeline', 'Memory', 'Compare']);
      assert.equal(await count(wb, '#twb-rerun, [data-action="profile"]'), 0, 'nothing can run offline');
      assert.equal(await count(wb, 'text=Export report'), 0);
      await wb.screenshot('report');
      await openTab(wb, 'ops');
      await wb.page.locator('table.twb-ops-table tbody tr').first().waitFor();
      assert.equal(await count(wb, 'table.twb-ops-table tbody tr'), genai.ops.length);
      await openTab(wb, 'timeline');
      await wb.page.waitForFunction(() => window.__timelineStats?.firstDrawMs !== undefined);
      await assertClean(wb);
    } finally {
      await wb.close();
    }
  });

  test('the timeline canvas scales for a high-density display', async () => {
    const wb = await openWorkbench(browser, { context: { deviceScaleFactor: 2, viewport: { width: 900, height: 700 } } });
    try {
      await wb.event('session/init', initParams([genai], { view: 'timeline' }));
      await wb.page.waitForFunction(() => window.__timelineStats?.firstDrawMs !== undefined);
      const ratio = await wb.page.locator('canvas.twb-timeline-canvas').evaluate((c: HTMLCanvasElement) => c.width / c.getBoundingClientRect().width);
      assert.equal(ratio, 2);
      await assertClean(wb);
    } finally {
      await wb.close();
    }
  });

  test('a run without memory figures says so instead of drawing zeros', async () => {
    const wb = await openWorkbench(browser);
    try {
      const gpu = { ...genai, id: 'gpu-run', memory: { ...genai.memory, peakBytes: 0, arenaHeldBytes: 0, timeline: [], peakAt: undefined, unavailable: 'the webgpu provider reports no memory fields' } };
      await wb.event('session/init', initParams([gpu], { view: 'memory' }));
      await wb.page.getByText('Memory was not measured for this run: the webgpu provider reports no memory fields').waitFor();
      assert.equal(await count(wb, '.twb-memory-chart'), 0);
      await openTab(wb, 'overview');
      assert.match(await wb.page.locator('.twb-stats').innerText(), /peak memory\s+n\/a/i);
      await assertClean(wb);
    } finally {
      await wb.close();
    }
  });
});
