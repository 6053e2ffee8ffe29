/**
 * The Pipeline and Memory-plan views in the real bundle under the real CSP: a plan's Gantt (one mark
 * per block, bubbles hatched), headline and stage table; the controls re-simulating in the page;
 * an invalid shape's message; Measure's request and progress, and the measured plan it brings back;
 * the memory plan's curve, bars and GPU-memory line; bad messages rejected; the offline report.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import type { MemoryPlan, PipelinePlan } from '../../engine/src/schema/parallel';
import { simulatePlan } from '../../engine/src/analysis/pipeline/plan';
import { planMemory } from '../../engine/src/analysis/zero-memory';
import { formatBytes, formatPercent } from '../../engine/src/util/format';
import { idleGaps } from '../../webview/src/charts/gantt';
import { stagesThatFit } from '../../webview/src/charts/memory-lines';
import { GIB } from '../../webview/src/model/memory-plan-form';
import { shapeOf } from '../../webview/src/model/pipeline-shape';
import { assertClean, count, initParams, launchBrowser, loadFixture, openWorkbench, REPO_ROOT, requestsOf, Workbench } from './harness';

const plan = JSON.parse(readFileSync(path.join(REPO_ROOT, 'test/fixtures/tiny-gpt.pipeline.json'), 'utf8')) as PipelinePlan;
const memory: MemoryPlan = planMemory({ params: 7_000_000_000, gpus: 8, zeroStage: 2, microBatch: 1, seq: 2048, hidden: 4096, layers: 32, heads: 32, checkpointing: true }, '--params 7e9', new Date('2026-11-29T12:00:00Z'));

/** A measured plan as the host sends it: `twb pipeline builtin:tiny-gpt --stages 2 --microbatches 8 --comm-us 50 --measure`. */
function measuredPlan(): PipelinePlan {
  const m = JSON.parse(readFileSync(path.join(REPO_ROOT, 'test/fixtures/tiny-gpt.pipeline-measured.json'), 'utf8')) as PipelinePlan;
  assert.ok(m.measured && m.id !== plan.id);
  return m;
}

let browser: Browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

const uiErrors = async (wb: Workbench) => (await wb.posted()).filter((m) => m.kind === 'event' && m.event === 'ui/error').map((m) => (m.params as { message: string }).message);
const bubbleText = (wb: Workbench) => wb.page.locator('.twb-pipeline-bubble .twb-stat-value').innerText();
const waitBubble = (wb: Workbench, text: string) => wb.page.waitForFunction((t) => document.querySelector('.twb-pipeline-bubble .twb-stat-value')?.textContent === t, text);
const pick = (wb: Workbench, selector: string, value: string) =>
  wb.page.locator(selector).evaluate((el, v) => {
    const s = el as HTMLElement & { value: string };
    s.value = v;
    s.dispatchEvent(new Event('change'));
  }, value);
const simulatedBubble = (over: Partial<ReturnType<typeof shapeOf>>, p: PipelinePlan = plan) => formatPercent(simulatePlan(p.layers, { ...shapeOf(p), ...over }).simulation.bubbleFraction);

describe('pipeline view', () => {
  test('renders the plan, re-simulates from the controls, shows a bad shape\'s reason, and measures', async () => {
    const wb = await openWorkbench(browser);
    try {
      await wb.event('session/init', initParams([loadFixture('tiny-gpt.run.json')], { pipelines: [plan], view: 'pipeline' }));
      await wb.page.locator(`.twb-pipeline[data-plan="${plan.id}"]`).waitFor();
      assert.match(await wb.page.locator('.twb-pipeline h1').innerText(), /^Pipeline: tiny-gpt · 1F1B · P = 2 · M = 8/);
      assert.equal(await wb.page.locator('.twb-run-picker-box').isHidden(), true, 'the inference run picker is hidden here');
      assert.equal(await count(wb, 'svg.twb-gantt-main rect.twb-gantt-block'), plan.timeline.length, 'one mark per timeline block');
      assert.equal(await count(wb, 'svg.twb-gantt-main rect.twb-gantt-idle'), idleGaps(plan.timeline, plan.stages, plan.makespanUs).length, 'one hatched mark per gap');
      assert.equal(await bubbleText(wb), formatPercent(plan.bubbleFraction));
      assert.match(await wb.page.locator('.twb-pipeline-bubble .twb-stat-note').innerText(), new RegExp(`ESTIMATE\\s+closed form ${formatPercent(plan.closedFormBubble).replace('.', '\\.')}`));
      assert.equal(await count(wb, '.twb-pipeline-saved'), 1);
      assert.equal(await count(wb, '.twb-pipeline-stages tbody tr'), plan.stages);
      assert.equal(await wb.page.locator('.twb-pipeline-stages tr[data-stage="0"] td[data-col="bubble"]').innerText(), formatPercent(plan.stageStats[0].bubbleFraction));
      assert.equal(await count(wb, '.twb-pipeline-estimated .twb-badge-estimate'), plan.costSource.estimated.length, 'each estimated cost labelled');
      assert.deepEqual(await wb.page.locator('.twb-gantt-legend [data-kind]').evaluateAll((els) => els.map((e) => e.getAttribute('data-kind'))), ['F', 'B']);
      assert.equal(await wb.page.locator('#twb-pipeline-chunks').evaluate((el) => (el as unknown as { disabled: boolean }).disabled), true, 'V only for interleaved');

      const block = wb.page.locator('svg.twb-gantt-main rect.twb-gantt-block[data-stage="1"][data-kind="B"][data-mb="3"]');
      await block.hover();
      await wb.page.locator('.twb-tooltip:visible').waitFor();
      assert.match(await wb.page.locator('.twb-tooltip').innerText(), /^B: backward\s+stage 1\s+micro-batch 3\s+chunk 0\s+start [\d.]+ ms\s+duration [\d.]+ ms$/);
      await wb.screenshot('pipeline');

      await pick(wb, '#twb-pipeline-schedule', 'gpipe');
      // GPipe's bubble equals 1F1B's; what changes is how many micro-batches it holds.
      await wb.page.waitForFunction(() => document.querySelector('.twb-pipeline-inflight .twb-stat-value')?.textContent === '8 micro-batches');
      assert.equal(await bubbleText(wb), simulatedBubble({ schedule: 'gpipe' }));
      assert.equal(await count(wb, '.twb-pipeline-unsaved'), 1, 'marked as not saved');
      await wb.page.locator('#twb-pipeline-microbatches input').fill('4');
      await waitBubble(wb, simulatedBubble({ schedule: 'gpipe', microbatches: 4 }));
      assert.notEqual(await bubbleText(wb), formatPercent(plan.bubbleFraction));
      assert.equal(await count(wb, 'svg.twb-gantt-main rect.twb-gantt-block'), 2 * 4 * 2);

      await pick(wb, '#twb-pipeline-schedule', 'interleaved');
      await waitBubble(wb, simulatedBubble({ schedule: 'interleaved', chunks: 2, microbatches: 4 }));
      await wb.page.locator('#twb-pipeline-microbatches input').fill('7');
      await wb.page.locator('.twb-pipeline-error-host .twb-error').waitFor();
      assert.match(await wb.page.locator('.twb-pipeline-error-host').innerText(), /interleaved 1F1B needs the micro-batches to be a multiple of the stages[^]*M = 7, P = 2/);
      assert.equal(await wb.page.locator('#twb-pipeline-measure').evaluate((el) => (el as unknown as { disabled: boolean }).disabled), true, 'no measuring a shape that cannot run');
      await wb.page.locator('#twb-pipeline-microbatches input').fill('8');
      await waitBubble(wb, simulatedBubble({ schedule: 'interleaved', chunks: 2 }));
      assert.equal(await count(wb, '.twb-pipeline-error-host .twb-error'), 0);
      assert.equal(await count(wb, 'svg.twb-gantt-main rect.twb-gantt-block[data-chunk="1"]'), 2 * 8 * 2, 'the second chunk drawn');

      await wb.page.click('#twb-pipeline-measure');
      const req = await wb.waitForPosted((m) => m.kind === 'request' && m.method === 'pipeline/measure', 'pipeline/measure');
      assert.deepEqual(req.params, { planId: plan.id, schedule: 'interleaved', stages: 2, microbatches: 8, chunks: 2, commUs: 50 });
      await wb.send({ kind: 'event', event: 'run/progress', params: { requestId: req.id, phase: 'measure', done: 3, total: 8, message: 'Timing stage 1 alone' } });
      await wb.page.getByText('Timing stage 1 alone (3/8)').waitFor();
      assert.equal(await count(wb, '.twb-job vscode-progress-ring[aria-label="Measuring the pipeline"]'), 1, 'the panel says what runs');
      assert.equal(await wb.page.locator('#twb-pipeline-measure').evaluate((el) => (el as unknown as { disabled: boolean }).disabled), true, 'one measurement at a time');

      const m = measuredPlan();
      await wb.event('pipeline/added', { plan: m });
      await wb.send({ kind: 'response', id: req.id, ok: { planId: m.id } });
      await wb.page.locator(`.twb-pipeline[data-plan="${m.id}"] .twb-pipeline-measured`).waitFor();
      assert.equal(await count(wb, 'svg.twb-gantt-measured rect.twb-gantt-block'), m.measured?.timeline.length);
      assert.equal(await count(wb, 'svg.twb-gantt-measured-sim rect.twb-gantt-block'), m.measured?.simulated.timeline.length);
      assert.equal(await wb.page.locator('.twb-pipeline-compare tr[data-row="bubble"] .twb-measured-value').innerText(), formatPercent(m.measured?.bubbleFraction ?? NaN));
      assert.equal(await wb.page.locator('.twb-pipeline-compare tr[data-row="bubble"] .twb-simulated-value').innerText(), formatPercent(m.measured?.simulated.bubbleFraction ?? NaN));
      assert.match(await wb.page.locator('.twb-pipeline-diff').innerText(), new RegExp(`^${m.measured!.maxAbsDiff.toExponential(2).replace('+', '\\+')} — pass`));
      assert.equal(await count(wb, '#twb-pipeline-picker vscode-option'), 2);
      assert.equal(await count(wb, '.twb-job'), 0, 'the job ended with its response');
      await wb.screenshot('pipeline-measured');
      await assertClean(wb);
    } finally {
      await wb.close();
    }
  });

  test('Measure is off in an untrusted workspace and for a plan with no model to run; a failed measurement says why', async () => {
    const wb = await openWorkbench(browser);
    try {
      await wb.event('session/init', initParams([], { trusted: false, pipelines: [plan], view: 'pipeline' }));
      await wb.page.locator('.twb-pipeline').waitFor();
      assert.equal(await wb.page.locator('#twb-pipeline-measure').evaluate((el) => (el as unknown as { disabled: boolean }).disabled), true);
      assert.match(await wb.page.locator('.twb-pipeline-measure-note').innerText(), /untrusted/);
      const { modelSource: _m, ...uniform } = { ...plan, costSource: { kind: 'uniform' as const, from: '6 units', estimated: [] } };
      await wb.event('session/init', initParams([], { pipelines: [uniform], view: 'pipeline' }));
      await wb.page.getByText('names no model to run').waitFor();
      await wb.page.click('#twb-pipeline-measure', { force: true });
      assert.equal((await requestsOf(wb, 'pipeline/measure')).length, 0);
      assert.match(await wb.page.locator('.twb-pipeline-estimated').innerText(), /every figure here is an estimate/);

      await wb.event('session/init', initParams([], { pipelines: [plan], view: 'pipeline' }));
      await wb.page.locator('.twb-pipeline-measure-note', { hasText: 'Runs each stage' }).waitFor();
      await wb.page.click('#twb-pipeline-measure');
      const req = await wb.waitForPosted((m) => m.kind === 'request' && m.method === 'pipeline/measure', 'pipeline/measure');
      await wb.send({ kind: 'response', id: req.id, err: { code: 'run-failed', message: 'stage 1 failed to load: out of memory' } });
      await wb.page.getByText('stage 1 failed to load: out of memory').waitFor();
      assert.equal(await wb.page.locator('#twb-pipeline-measure').evaluate((el) => (el as unknown as { disabled: boolean }).disabled), false, 'free to try again');
      await assertClean(wb);
    } finally {
      await wb.close();
    }
  });

  test('bad messages are reported with ui/error and change nothing', async () => {
    const wb = await openWorkbench(browser);
    try {
      await wb.event('session/init', initParams([]));
      await wb.page.locator('vscode-tab-header[data-view="overview"]').waitFor();
      await wb.event('pipeline/added', { plan: { ...plan, timeline: [{ stage: 0, kind: 'X' }] } as unknown as PipelinePlan });
      await wb.event('memoryPlan/added', { plan: { ...memory, byStage: null } as unknown as MemoryPlan });
      await wb.page.waitForFunction(() => (window as unknown as { __posted: Array<{ event?: string }> }).__posted.filter((m) => m.event === 'ui/error').length >= 2);
      const errors = await uiErrors(wb);
      assert.match(errors[0], /pipeline\/added: .*timeline/);
      assert.match(errors[1], /memoryPlan\/added: .*byStage/);
      assert.equal(await count(wb, 'vscode-tab-header[data-view="pipeline"], vscode-tab-header[data-view="memory-plan"]'), 0, 'no tabs from rejected plans');
      await assertClean(wb);
    } finally {
      await wb.close();
    }
  });
});

describe('memory-plan view', () => {
  test('renders the curve with four lines, the stacked bars, and recomputes for N, the stage and a GPU size', async () => {
    const wb = await openWorkbench(browser);
    try {
      await wb.event('session/init', initParams([], { memoryPlans: [memory], view: 'memory-plan' }));
      await wb.page.locator(`.twb-memory-plan[data-plan="${memory.id}"]`).waitFor();
      assert.equal(await count(wb, 'svg.twb-memory-lines .twb-memory-line'), 4, 'one line per ZeRO stage');
      assert.equal(await count(wb, 'svg.twb-memory-lines .twb-memory-line[data-zero="3"] .twb-memory-point'), memory.curve.length);
      assert.equal(await wb.page.locator('svg.twb-memory-lines .twb-memory-requested').getAttribute('data-gpus'), '8');
      assert.equal(await count(wb, 'svg.twb-memory-lines .twb-memory-reference'), 0);
      assert.equal(await count(wb, '.twb-zero-bar'), 4);
      assert.equal(await count(wb, '.twb-zero-bar[data-zero="0"] .twb-stack-seg'), 4, 'params, grads, optimizer, activations');
      assert.equal(await count(wb, '.twb-zero-bar.twb-current[data-zero="2"]'), 1);
      assert.equal(await wb.page.locator('.twb-memory-plan-total .twb-stat-value').innerText(), formatBytes(memory.bytesPerGpu));
      assert.equal(await count(wb, '.twb-memory-formulas li'), memory.formulas.length);

      await wb.page.locator('#twb-memory-gpu-gib input').fill('80');
      await wb.page.locator('svg.twb-memory-lines .twb-memory-reference').waitFor({ state: 'attached' });
      assert.equal(await count(wb, '.twb-zero-bar[data-fits="fits"]'), stagesThatFit(memory.byStage, 80 * GIB).length);
      await wb.screenshot('memory-plan');

      await wb.page.locator('#twb-memory-gpus input').fill('64');
      await pick(wb, '#twb-memory-zero', '3');
      const next = planMemory({ ...memory.input, gpus: 64, zeroStage: 3 }, memory.model, new Date(memory.createdAt));
      await wb.page.waitForFunction((t) => document.querySelector('.twb-memory-plan-total .twb-stat-value')?.textContent === t, formatBytes(next.bytesPerGpu));
      assert.equal(await wb.page.locator('svg.twb-memory-lines .twb-memory-requested').getAttribute('data-gpus'), '64');
      assert.equal(await count(wb, '.twb-memory-plan-unsaved'), 1);
      assert.equal(await count(wb, '.twb-zero-bar.twb-current[data-zero="3"]'), 1);
      assert.equal(await count(wb, 'svg.twb-memory-lines .twb-memory-reference'), 1, 'the GPU line stays');
      await wb.page.locator('#twb-memory-gpus input').fill('0');
      await wb.page.getByText('N (GPUs) must be a whole number').waitFor();
      await assertClean(wb);
    } finally {
      await wb.close();
    }
  });
});

describe('offline report', () => {
  test('a measured pipeline plan renders both Gantts and still re-simulates; a memory plan renders', async () => {
    const m = measuredPlan();
    const init = { ...initParams([]), mode: 'report' as const, trusted: false, providers: [], pipelines: [m], memoryPlans: [memory], view: 'pipeline' as const };
    const report = await openWorkbench(browser, { host: 'report', reportInit: init });
    try {
      await report.page.locator(`.twb-pipeline[data-plan="${m.id}"] .twb-pipeline-measured`).waitFor();
      const tabs = await report.page.locator('vscode-tab-header').allInnerTexts();
      assert.ok(tabs.includes('Pipeline') && tabs.includes('Memory plan') && !tabs.includes('Training'), `tabs: ${tabs.join(', ')}`);
      assert.equal(await count(report, 'svg.twb-gantt-measured rect.twb-gantt-block'), m.measured?.timeline.length);
      assert.equal(await count(report, 'svg.twb-gantt-measured-sim rect.twb-gantt-block'), m.measured?.simulated.timeline.length);
      assert.match(await report.page.locator('.twb-pipeline-measure-note').innerText(), /offline report/);
      await pick(report, '#twb-pipeline-schedule', 'zb-h1');
      await waitBubble(report, simulatedBubble({ schedule: 'zb-h1' }, m));
      assert.equal(await count(report, 'svg.twb-gantt-main rect.twb-gantt-block[data-kind="W"]'), m.stages * m.microbatches);
      // Past GANTT_SVG_LIMIT blocks the chart is painted on a canvas.
      await report.page.locator('#twb-pipeline-microbatches input').fill('400');
      await report.page.locator('canvas.twb-gantt-main[data-blocks="2400"]').waitFor();
      assert.equal(await count(report, 'svg.twb-gantt-main'), 0);
      await report.page.waitForFunction(() => {
        const c = document.querySelector('canvas.twb-gantt-main') as HTMLCanvasElement;
        const px = c.getContext('2d')?.getImageData(0, 0, c.width, c.height).data ?? [];
        for (let i = 3; i < px.length; i += 4 * 97) if (px[i] > 0) return true;
        return false;
      });
      const box = await report.page.locator('canvas.twb-gantt-main').boundingBox();
      assert.ok(box);
      await report.page.mouse.move(box.x + box.width / 2, box.y + 26 + 13);
      await report.page.locator('.twb-tooltip:visible').waitFor();
      assert.match(await report.page.locator('.twb-tooltip').innerText(), /stage\s+0/);
      await report.page.click('vscode-tab-header[data-view="memory-plan"]');
      await report.page.locator('svg.twb-memory-lines').waitFor();
      assert.equal(await count(report, 'svg.twb-memory-lines .twb-memory-line'), 4);
      await assertClean(report);
    } finally {
      await report.close();
    }
  });
});
