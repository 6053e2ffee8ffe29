/**
 * The profiler panel in headless Chromium against a fake VS Code host: the handshake, every view,
 * the messages it sends, and no CSP violations. Screenshots of each view go to test-output/browser/.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { formatUs } from '../../engine/src/util/format';
import { assertClean, count, initParams, launchBrowser, loadFixture, openTab, openWorkbench, requestsOf, Workbench } from './harness';

const tiny = loadFixture('tiny-gpt.run.json');
const noopt = loadFixture('tiny-gpt-noopt.run.json');

let browser: Browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

describe('profiler panel', () => {
  let wb: Workbench;
  before(async () => {
    wb = await openWorkbench(browser);
  });
  after(async () => {
    await wb?.close();
  });

  test('sends ui/ready first and waits for session/init', async () => {
    const posted = await wb.posted();
    assert.deepEqual(posted[0], { kind: 'event', event: 'ui/ready', params: {} });
    assert.match(await wb.page.locator('#app').innerText(), /Waiting for the workbench/);
  });

  test('drops a malformed envelope and reports it with ui/error', async () => {
    await wb.send({ kind: 'gossip', id: 'x' });
    await wb.send({ kind: 'event', event: 'run/added', params: { run: { kind: 'inference' } } });
    const errors = (await wb.posted()).filter((m) => m.kind === 'event' && m.event === 'ui/error');
    assert.equal(errors.length, 2);
    assert.match(JSON.stringify(errors[0]), /malformed message from the host: unknown message kind/);
    assert.match(JSON.stringify(errors[1]), /run\/added: run has no id/);
  });

  test('Overview shows the model, the p50 and the top op types', async () => {
    await wb.event('session/init', initParams([tiny]));
    const p50 = formatUs(tiny.latencyMs.p50 * 1000);
    await wb.page.locator('.twb-stat-p50').getByText(p50).waitFor();
    const text = await wb.page.locator('#twb-view').innerText();
    assert.match(text, /builtin:tiny-gpt/);
    assert.match(text, /3\.72 M/);
    assert.match(text, /input_ids/);
    assert.match(text, /1×128/);
    assert.match(text, /14\.9 MiB/, 'peak memory');
    assert.equal(await count(wb, '.twb-bars .twb-bar-row'), 11, 'top 10 op types and "other"');
    await wb.screenshot('overview');
    await assertClean(wb);
  });

  test('Ops sorts by a column and filters by text and layer', async () => {
    await openTab(wb, 'ops');
    const body = 'table.twb-ops-table tbody tr';
    await wb.page.locator(body).first().waitFor();
    assert.equal(await count(wb, body), tiny.ops.length);
    const firstNode = () => wb.page.locator(`${body} td:first-child`).first().innerText();
    const byTime = [...tiny.ops].sort((a, b) => b.totalUs - a.totalUs || a.node.localeCompare(b.node, undefined, { numeric: true }));
    assert.equal(await firstNode(), byTime[0].node, 'sorted by time, largest first');
    await wb.page.click('th[data-key="label"] button');
    const byName = [...tiny.ops].map((o) => o.node).sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
    assert.equal(await firstNode(), byName[0]);
    await wb.page.click('th[data-key="label"] button');
    assert.equal(await firstNode(), byName[byName.length - 1], 'a second click reverses');

    await wb.page.locator('.twb-filter input').fill('softmax');
    const softmax = tiny.ops.filter((o) => /softmax/i.test(o.node) || /softmax/i.test(o.opType)).length;
    assert.ok(softmax > 0 && softmax < tiny.ops.length);
    assert.equal(await count(wb, body), softmax);
    assert.match(await wb.page.locator('.twb-count').innerText(), new RegExp(`of ${softmax} nodes`));
    await wb.page.locator('.twb-filter input').fill('');

    await wb.page.evaluate(() => {
      const sel = document.querySelector('.twb-layer-select') as HTMLElement & { value: string };
      sel.value = '2';
      sel.dispatchEvent(new Event('change'));
    });
    assert.equal(await count(wb, body), tiny.ops.filter((o) => o.layer === 2).length);

    await wb.page.click('vscode-button[data-grouping="opType"]');
    const types = new Set(tiny.ops.filter((o) => o.layer === 2).map((o) => o.opType)).size;
    assert.equal(await count(wb, body), types, 'op types of layer 2');
    await wb.page.evaluate(() => {
      const sel = document.querySelector('.twb-layer-select') as HTMLElement & { value: string };
      sel.value = 'all';
      sel.dispatchEvent(new Event('change'));
    });
    assert.equal(await count(wb, body), tiny.opTypes.length);
    await wb.page.click('vscode-button[data-grouping="node"]');

    const cells = await count(wb, '.twb-icicle .twb-depth-3');
    assert.ok(cells > 20, `icicle draws node cells (${cells})`);
    await wb.page.locator('.twb-icicle .twb-depth-1').first().hover();
    await wb.page.locator('.twb-tooltip').getByText('share').waitFor();
    await wb.page.mouse.move(5, 5);
    await wb.page.click('th[data-key="totalUs"] button');
    assert.equal(await firstNode(), byTime[0].node, 'numbers sort largest first on the first click');
    await wb.screenshot('ops', { fullPage: false });
    await assertClean(wb);
  });

  test('Timeline draws kernels, zooms and shows a tooltip with the node', async () => {
    await openTab(wb, 'timeline');
    const canvas = wb.page.locator('canvas.twb-timeline-canvas');
    await canvas.waitFor();
    await wb.page.waitForFunction(() => window.__timelineStats?.firstDrawMs !== undefined);
    const painted = await canvas.evaluate((c: HTMLCanvasElement) => {
      const d = (c.getContext('2d') as CanvasRenderingContext2D).getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
      return { n, total: d.length / 4, ratio: c.width / c.getBoundingClientRect().width };
    });
    assert.ok(painted.n > painted.total * 0.3, `canvas is painted (${painted.n} of ${painted.total} pixels)`);
    assert.equal(painted.ratio, 1, 'canvas resolution follows devicePixelRatio');
    const stats = await wb.page.evaluate(() => window.__timelineStats);
    assert.equal(stats?.kernels, tiny.trace.op.length);
    assert.ok((stats?.marks ?? 0) > 0 && (stats?.marks ?? 0) <= tiny.trace.op.length);

    const box = (await canvas.boundingBox()) as { x: number; y: number; width: number; height: number };
    let tip = '';
    for (let x = box.x + 80; x < box.x + box.width - 20 && !tip; x += 7) {
      await wb.page.mouse.move(x, box.y + 24 + 14);
      const visible = await wb.page.locator('.twb-tooltip:not([hidden])').count();
      if (visible) tip = await wb.page.locator('.twb-tooltip').innerText();
    }
    assert.ok(tiny.ops.some((o) => tip.includes(o.node)), `tooltip names a node: ${JSON.stringify(tip)}`);
    assert.match(tip, /op type/);
    assert.match(tip, /duration/);
    assert.match(tip, /into run 1/);

    /** Runs `action`, waits for a frame showing another time window and returns that window. */
    const domainAfter = async (action: () => Promise<void>): Promise<[number, number]> => {
      const prev = (await wb.page.evaluate(() => window.__timelineStats?.domain)) as [number, number];
      await action();
      await wb.page.waitForFunction(([a, b]) => window.__timelineStats?.domain[0] !== a || window.__timelineStats?.domain[1] !== b, prev);
      return (await wb.page.evaluate(() => window.__timelineStats?.domain)) as [number, number];
    };
    const before = (await wb.page.evaluate(() => window.__timelineStats?.domain)) as [number, number];
    await canvas.focus();
    await domainAfter(() => wb.page.keyboard.press('+'));
    const zoomed = await domainAfter(() => wb.page.keyboard.press('+'));
    assert.ok(zoomed[1] - zoomed[0] < (before[1] - before[0]) / 2, `zoomed in with + (${before} → ${zoomed})`);
    const panned = await domainAfter(() => wb.page.keyboard.press('ArrowRight'));
    assert.ok(panned[0] > zoomed[0], 'panned right with the arrow key');
    await wb.page.mouse.move(box.x + box.width / 2, box.y + 60);
    const wheeled = await domainAfter(() => wb.page.mouse.wheel(0, 400));
    assert.ok(wheeled[1] - wheeled[0] > panned[1] - panned[0], 'the wheel zooms out');
    const dragged = await domainAfter(async () => {
      await wb.page.mouse.down();
      await wb.page.mouse.move(box.x + box.width / 2 - 150, box.y + 60, { steps: 2 });
      await wb.page.mouse.up();
    });
    assert.ok(dragged[0] > wheeled[0], 'dragging left pans right');
    await wb.page.keyboard.press('0');
    await wb.page.mouse.move(box.x + 400, box.y + 24 + 28 * 3 + 10);
    await wb.screenshot('timeline', { fullPage: false });
    await wb.page.mouse.move(5, 5);
    await assertClean(wb);
  });

  test('Memory marks and labels the peak and lists what was live there', async () => {
    await openTab(wb, 'memory');
    const label = wb.page.locator('.twb-peak-label');
    await label.waitFor();
    assert.equal(await label.textContent(), `peak 14.9 MiB after ${tiny.memory.peakAt?.node}`);
    const text = await wb.page.locator('#twb-view').innerText();
    assert.match(text, /activations/);
    assert.match(text, /weights\s+14\.2 MiB/);
    assert.match(text, /Estimate/);
    assert.ok((await count(wb, 'table.twb-live tbody tr')) > 0);
    await wb.screenshot('memory');
    await assertClean(wb);
  });

  test('Toggles validates, re-runs with the form, shows progress, cancels and lists the new run', async () => {
    await openTab(wb, 'toggles');
    const batch = wb.page.locator('#field-batch input');
    await batch.waitFor();
    assert.match(await wb.page.locator('#field-executionProvider').innerHTML(), /webgpu \(unavailable\)/);

    await batch.fill('0');
    await wb.page.click('#twb-rerun');
    assert.match(await wb.page.locator('#field-batch-error').innerText(), /positive integer/);
    assert.equal((await requestsOf(wb, 'run/start')).length, 0, 'an invalid form is not sent');

    await batch.fill('4');
    await wb.page.click('#twb-rerun');
    const start = await wb.waitForPosted((m) => m.kind === 'request' && m.method === 'run/start', 'run/start');
    const form = (start.params as { form: Record<string, unknown> }).form;
    assert.equal(form.batch, 4);
    assert.equal(form.model, 'builtin:tiny-gpt');
    assert.equal(typeof start.id, 'number');
    assert.ok((start.id as number) >= 1);
    assert.equal(await wb.page.locator('#twb-rerun').evaluate((b) => (b as HTMLElement & { disabled: boolean }).disabled), true, 'Re-run is disabled while running');

    await wb.event('run/progress', { requestId: start.id as number, phase: 'latency', done: 12, total: 30, message: 'Timing unprofiled runs' });
    await wb.page.getByText('Timing unprofiled runs (12/30)').waitFor();
    await wb.page.locator('.twb-job vscode-progress-bar').waitFor();
    await wb.screenshot('toggles-running');
    await wb.page.click('.twb-cancel');
    const cancel = await wb.waitForPosted((m) => m.kind === 'cancel', 'cancel');
    assert.deepEqual(cancel, { kind: 'cancel', id: start.id });

    await wb.event('run/added', { run: noopt });
    await wb.send({ kind: 'response', id: start.id as number, ok: { runId: noopt.id } });
    await wb.page.locator('.twb-job').waitFor({ state: 'detached' });
    assert.equal(await count(wb, '#twb-run-picker vscode-option'), 2, 'the run picker lists both runs');
    assert.equal(await count(wb, 'table.twb-run-list tbody tr'), 2);
    assert.match(await wb.page.locator('#twb-run-picker vscode-option').nth(1).innerText(), new RegExp(formatUs(noopt.latencyMs.p50 * 1000)));
    assert.equal(await wb.page.locator('#twb-run-picker').evaluate((s) => (s as HTMLElement & { value: string }).value), noopt.id, 'the new run is selected');

    await wb.page.click('#twb-rerun');
    const second = (await requestsOf(wb, 'run/start'))[1];
    await wb.send({ kind: 'response', id: second.id as number, err: { code: 'unsupported-op', message: 'no kernel for GroupQueryAttention on webgpu', hint: 'Use --ep cpu.' } });
    await wb.page.getByText('no kernel for GroupQueryAttention on webgpu').waitFor();
    await wb.page.getByText('Use --ep cpu.').waitFor();
    await wb.screenshot('toggles');
    await assertClean(wb);
  });

  test('choosing a run in the picker switches every view', async () => {
    await wb.page.click('#twb-run-picker');
    await wb.page.locator('#twb-run-picker li[role="option"]').first().click();
    await openTab(wb, 'overview');
    await wb.page.locator('.twb-stat-p50').getByText(formatUs(tiny.latencyMs.p50 * 1000)).waitFor();
    await openTab(wb, 'memory');
    assert.match((await wb.page.locator('.twb-peak-label').textContent()) ?? '', new RegExp(`after ${tiny.memory.peakAt?.node}$`));
    await assertClean(wb);
  });

  test('Compare shows deltas with regressions and improvements highlighted', async () => {
    await openTab(wb, 'compare');
    const body = 'table.twb-compare-ops tbody tr';
    await wb.page.locator(body).first().waitFor();
    const types = new Set([...tiny.opTypes, ...noopt.opTypes].map((t) => `${t.domain}::${t.opType}`)).size;
    assert.equal(await count(wb, body), types);
    const flagged = (await count(wb, `${body}.twb-regression`)) + (await count(wb, `${body}.twb-improvement`));
    assert.ok(flagged >= 1, 'at least one highlighted row');
    const color = await wb.page.locator(`${body}.twb-regression .twb-delta, ${body}.twb-improvement .twb-delta`).first().evaluate((td) => getComputedStyle(td).color);
    assert.notEqual(color, await wb.page.locator(`${body} td`).first().evaluate((td) => getComputedStyle(td.closest('table') as Element).color));
    const headline = await wb.page.locator('table.twb-compare-headline').innerText();
    assert.match(headline, /latency p50/);
    assert.match(headline, /peak memory/);
    assert.match(headline, /kernel time per inference/);
    await wb.screenshot('compare');
    await assertClean(wb);
  });

  test('view/show and compare/show switch views', async () => {
    await wb.event('view/show', { view: 'memory' });
    await wb.page.locator('.twb-peak-label').waitFor();
    await wb.event('compare/show', { baseId: noopt.id, otherId: tiny.id });
    await wb.page.locator('table.twb-compare-ops').waitFor();
    assert.equal(await wb.page.locator('#compare-base').evaluate((s) => (s as HTMLElement & { value: string }).value), noopt.id);
    await assertClean(wb);
  });
});

