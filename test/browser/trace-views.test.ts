/**
 * Imported traces in the app (the wiring around the trace renderers of trace.test.ts): the trace
 * editor offers Overview, Ops, Timeline, Memory and Suggestions of the trace; the run picker lists traces beside
 * runs and switches what those views show; a source frame asks the host to open the file at its
 * line; `traceCompare/show` brings the Compare tab with the deltas; the offline report of a trace;
 * a malformed trace is refused with ui/error.
 *
 * Fixtures: `importTrace` of the realdata resnet50 (2021 Kineto, with_stack, profile_memory) and
 * nccl rank-0 traces (see webview-trace.test.ts), and a `twb profile builtin:tiny-gpt` run.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import type { TraceRun } from '../../engine/src/schema/trace';
import { assertClean, count, initParams, launchBrowser, loadFixture, openTab, openWorkbench, REPO_ROOT, requestsOf, type Workbench } from './harness';

const trace = (name: string) => JSON.parse(readFileSync(path.join(REPO_ROOT, 'test/fixtures/traces', name), 'utf8')) as TraceRun;
const resnet = trace('resnet50-v100.run.json');
const nccl = trace('nccl-a100-rank0.run.json');

let browser: Browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

const tabs = (wb: Workbench) => wb.page.locator('vscode-tab-header').evaluateAll((els) => els.map((e) => e.getAttribute('data-view')));

describe('traces in the app', () => {
  test('the trace editor shows the trace in Overview, Ops, Timeline and Memory; a frame opens its source', async () => {
    const wb = await openWorkbench(browser);
    try {
      await wb.event('session/init', { ...initParams([]), mode: 'trace', traces: [resnet] });
      await wb.page.locator(`.twb-trace-overview[data-trace="${resnet.id}"]`).waitFor();
      assert.deepEqual(await tabs(wb), ['overview', 'ops', 'timeline', 'memory', 'suggestions'], 'what a trace has, and the advisor on it');
      assert.match(await wb.page.locator('.twb-trace-overview').innerText(), /Tesla V100/);
      await openTab(wb, 'ops');
      await wb.page.locator('.twb-trace-ops tr[data-op="aten::add_"] button.twb-trace-select').click();
      await wb.page.locator('.twb-trace-sources button.twb-trace-frame[data-line="51"]').click();
      const [req] = await requestsOf(wb, 'source/open');
      assert.deepEqual(req?.params, { file: 'resnet50_profiler_api.py', line: 51 });
      await openTab(wb, 'timeline');
      await wb.page.locator(`.twb-trace-timeline[data-trace="${resnet.id}"] canvas`).waitFor();
      await openTab(wb, 'memory');
      await wb.page.locator(`.twb-trace-memory[data-trace="${resnet.id}"] svg`).first().waitFor();
      await openTab(wb, 'suggestions');
      await wb.page.locator('#twb-suggest', { hasText: 'Suggest for this trace' }).click();
      const [suggest] = await requestsOf(wb, 'advice/suggest');
      assert.deepEqual(suggest?.params, { runId: resnet.id }, 'the advisor is asked about the trace shown');
      await assertClean(wb);
    } finally {
      await wb.close();
    }
  });

  test('in the profiler panel the picker switches the views between a run and a trace', async () => {
    const run = loadFixture('tiny-gpt.run.json');
    const wb = await openWorkbench(browser);
    try {
      await wb.event('session/init', initParams([run]));
      await wb.page.locator('.twb-overview').first().waitFor();
      assert.equal(await count(wb, '.twb-trace-overview'), 0, 'a run first');
      await wb.event('trace/added', { trace: nccl });
      await wb.page.locator(`.twb-trace-overview[data-trace="${nccl.id}"]`).waitFor();
      const options = await wb.page.locator('#twb-run-picker vscode-option').evaluateAll((els) => els.map((e) => e.getAttribute('value')));
      assert.deepEqual(options, [run.id, `trace:${nccl.id}`]);
      await wb.page.locator('#twb-run-picker').evaluate((el, v) => {
        (el as unknown as { value: string }).value = v;
        el.dispatchEvent(new Event('change'));
      }, run.id);
      await wb.page.waitForFunction(() => !document.querySelector('.twb-trace-overview'));
      assert.match(await wb.page.locator('.twb-overview').first().innerText(), /p50/);
      await assertClean(wb);
    } finally {
      await wb.close();
    }
  });

  test('two traces compare in the Compare tab; a malformed trace is refused', async () => {
    const wb = await openWorkbench(browser);
    try {
      await wb.event('session/init', { ...initParams([]), mode: 'trace', traces: [resnet] });
      await wb.page.locator('.twb-trace-overview').waitFor();
      await wb.event('trace/added', { trace: nccl });
      await wb.event('traceCompare/show', { baseId: resnet.id, otherId: nccl.id });
      await wb.page.locator('.twb-trace-compare').waitFor();
      assert.ok((await tabs(wb)).includes('compare'));
      assert.match(await wb.page.locator('.twb-trace-compare').innerText(), /aten::/);
      await wb.send({ kind: 'event', event: 'trace/added', params: { trace: { ...nccl, opTypes: 'none' } } });
      const err = await wb.waitForPosted((m) => m.kind === 'event' && m.event === 'ui/error', 'ui/error');
      assert.match((err.params as { message: string }).message, /trace\/added: .*opTypes/);
      await assertClean(wb);
    } finally {
      await wb.close();
    }
  });

  test('the offline report of a trace renders its views, frames as text', async () => {
    const init = { ...initParams([]), mode: 'report' as const, trusted: false, traces: [resnet], view: 'ops' as const };
    const wb = await openWorkbench(browser, { host: 'report', reportInit: init });
    try {
      await wb.page.locator(`.twb-trace-ops[data-trace="${resnet.id}"]`).waitFor();
      await wb.page.locator('.twb-trace-ops tr[data-op="aten::add_"] button.twb-trace-select').click();
      await wb.page.locator('.twb-trace-sources span.twb-trace-frame').first().waitFor();
      assert.equal(await count(wb, '.twb-trace-sources button.twb-trace-frame'), 0, 'nothing to open in a report');
      await assertClean(wb);
    } finally {
      await wb.close();
    }
  });
});
