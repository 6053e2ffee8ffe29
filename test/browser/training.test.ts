/**
 * The Training and Variants views in the real bundle under the real CSP: a training run's headline,
 * curves, breakdowns, memory and mixed-precision panel; the variants table and sweep plots; a live
 * job drawn from `training/progress` and replaced by its run; bad messages rejected; empty states;
 * the offline report of a training run; and issue #9's variants (mixer's fixed length, learned
 * spans per head, more series than colours) in both views.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import type { HostEvents } from '../../engine/src/protocol/webview';
import type { TrainingRun, VariantsReport } from '../../engine/src/schema/training';
import { formatBytes } from '../../engine/src/util/format';
import { opTypeRows } from '../../webview/src/model/train-breakdown';
import { assertClean, count, initParams, launchBrowser, loadFixture, openTab, openWorkbench, REPO_ROOT, Workbench } from './harness';

const fixture = <T>(name: string) => JSON.parse(readFileSync(path.join(REPO_ROOT, 'test/fixtures', name), 'utf8')) as T;
const run = fixture<TrainingRun>('tiny-bert.training.json');
const variants = fixture<VariantsReport>('tiny-bert.variants.json');
/** A real `twb sweep` of tiny-gpt over every attention variant (see the test that reads it). */
const gptVariants = fixture<VariantsReport>('tiny-gpt.variants.json');

let browser: Browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

const uiErrors = async (wb: Workbench) => (await wb.posted()).filter((m) => m.kind === 'event' && m.event === 'ui/error').map((m) => (m.params as { message: string }).message);
const progress = (step: number, over: Partial<HostEvents['training/progress']> = {}): HostEvents['training/progress'] => ({ jobId: 'job-1', model: 'builtin:tiny-gpt', variant: 'window:16', step, steps: 40, loss: 3 - step * 0.05, message: 'training', ...over });
const attr = (wb: Workbench, selector: string, name: string) => wb.page.locator(selector).first().getAttribute(name);

describe('training view', () => {
  test('renders a run: headline, curves, phase/op/layer breakdowns, memory, mixed precision, ONNX check', async () => {
    const wb = await openWorkbench(browser);
    try {
      await wb.event('session/init', initParams([loadFixture('tiny-gpt.run.json')], { trainings: [run], view: 'training' }));
      await wb.page.locator(`.twb-training-run[data-run="${run.id}"]`).waitFor();
      assert.match(await wb.page.locator('.twb-training-run h1').innerText(), /^Training: tiny-bert · dense · count-compare$/);
      assert.equal(await wb.page.locator('.twb-run-picker-box').isHidden(), true, 'the inference run picker is hidden here');
      const stats = await wb.page.locator('.twb-train-stats .twb-stat').allInnerTexts();
      assert.equal(stats.length, 8);
      assert.match(await wb.page.locator('.twb-stat-flops').innerText(), /GFLOP[^]*counted/);
      assert.match(await wb.page.locator('.twb-stat-backend').innerText(), /wasm[^]*SIMD on[^]*not available: tensorflow, webgpu/);
      assert.match(await wb.page.locator('.twb-stat-p50').innerText(), new RegExp(`${run.stepMs.p50.toFixed(2)} ms[^]*p90 ${run.stepMs.p90.toFixed(2)} ms`));
      assert.match(await wb.page.locator('.twb-stat-accuracy.twb-pass').innerText(), /94\.5%[^]*pass: bar 90\.0%/);

      assert.equal(await attr(wb, 'svg.twb-loss-curve', 'data-points'), String(run.loss.length));
      assert.equal(((await attr(wb, 'svg.twb-loss-curve .twb-curve-line', 'd')) ?? '').split('L').length, run.loss.length, 'one vertex per step');
      assert.equal(await attr(wb, 'svg.twb-accuracy-curve', 'data-points'), String(run.accuracy.length));
      assert.equal(await count(wb, 'svg.twb-accuracy-curve .twb-curve-ref'), 1, 'the accuracy bar');
      const box = await wb.page.locator('svg.twb-loss-curve').boundingBox();
      assert.ok(box && box.width > 300);
      await wb.page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      await wb.page.locator('.twb-tooltip:visible').waitFor();
      assert.match(await wb.page.locator('.twb-tooltip').innerText(), /^step \d+\s+loss \d\.\d{3}$/);
      assert.equal(await count(wb, 'svg.twb-loss-curve .twb-curve-focus.twb-on'), 1, 'hover marks the step');

      assert.equal(await count(wb, '.twb-phases .twb-stack-seg'), 3);
      assert.deepEqual(await wb.page.locator('.twb-phase-table tbody tr[data-phase]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-phase'))), ['forward', 'backward', 'optimizer']);
      const rows = opTypeRows(run.ops);
      assert.equal(await count(wb, 'table.twb-train-ops tbody tr'), rows.length, 'one row per op type');
      assert.equal(await attr(wb, 'table.twb-train-ops tbody tr', 'data-op'), rows[0].opType, 'busiest first');
      await wb.page.click('table.twb-train-ops th[data-key="opType"] button');
      await wb.page.waitForFunction((op) => document.querySelector('table.twb-train-ops tbody tr')?.getAttribute('data-op') === op, [...rows].map((r) => r.opType).sort()[0]);
      await wb.page.click('table.twb-train-ops th[data-key="optimizer"] button');
      const top = [...rows].sort((a, b) => b.byPhase.optimizer - a.byPhase.optimizer)[0].opType;
      await wb.page.waitForFunction((op) => document.querySelector('table.twb-train-ops tbody tr')?.getAttribute('data-op') === op, top);
      assert.equal(await count(wb, '.twb-layer-bars .twb-bar-row'), run.spec.layers + 1, 'each block, then the kernels outside them');
      assert.equal(await count(wb, '.twb-layer-bars .twb-bar-row[data-layer="0"] .twb-stack-seg'), 2, 'forward and backward in a block');

      assert.equal(await count(wb, 'svg.twb-step-memory rect.twb-band'), 3, 'forward, backward and optimizer bands');
      assert.match((await wb.page.locator('svg.twb-step-memory .twb-peak-label').textContent()) ?? '', new RegExp(`^peak ${formatBytes(run.memory.peakBytes).replace('.', '\\.')} in (forward|backward|optimizer)$`));
      assert.deepEqual(await wb.page.locator('.twb-split [data-part]').evaluateAll((els) => els.map((e) => e.getAttribute('data-part'))), ['weights', 'optimizer', 'activations']);
      const mixed = await wb.page.locator('.twb-mixed').innerText();
      assert.match(mixed, /ran in\s+fp32/);
      assert.match(mixed, /wasm backend computes in float32 only/);
      assert.deepEqual(await wb.page.locator('.twb-estimate-row').evaluateAll((els) => els.map((e) => e.getAttribute('data-dtype'))), ['fp16', 'bf16']);
      assert.deepEqual(await wb.page.locator('.twb-badge-estimate').allInnerTexts(), ['ESTIMATE', 'ESTIMATE'], 'each fp16/bf16 figure is labelled an estimate');
      assert.match(await wb.page.locator('.twb-onnx-diff').innerText(), /^3\.10e-6 — pass/);
      assert.match(await wb.page.locator('.twb-training').innerText(), /memory is the tfjs engine's accounting/);
      await wb.screenshot('training');
      await assertClean(wb);
    } finally {
      await wb.close();
    }
  });

  test('a live job draws its curves from training/progress; the finished run replaces it', async () => {
    const wb = await openWorkbench(browser);
    try {
      await wb.event('session/init', initParams([], { view: 'training' }));
      await wb.page.getByText('No training runs yet.').waitFor();
      for (let step = 1; step <= 5; step++) await wb.event('training/progress', progress(step));
      await wb.page.locator('.twb-live-host svg.twb-loss-curve[data-points="5"]').waitFor();
      assert.match(await wb.page.locator('.twb-live-host').innerText(), /builtin:tiny-gpt · window:16[^]*training \(step 5\/40\) · loss 2\.75[^]*No evaluation yet\./);
      await wb.page.locator('.twb-live-host vscode-progress-ring').evaluate((el) => ((el as unknown as { mark: number }).mark = 1));
      const width = async () => (await wb.page.locator('.twb-live-host svg.twb-loss-curve .twb-curve-line').boundingBox())?.width ?? 0;
      const before = await width();
      for (let step = 6; step <= 12; step++) await wb.event('training/progress', progress(step, step === 10 ? { accuracy: 0.41 } : {}));
      await wb.page.locator('.twb-live-host svg.twb-loss-curve[data-points="12"]').waitFor();
      assert.ok((await width()) > before * 1.8, 'the curve extends to the right as steps arrive');
      assert.equal(await attr(wb, '.twb-live-host svg.twb-accuracy-curve', 'data-points'), '1');
      assert.equal(await wb.page.locator('.twb-live-host vscode-progress-ring').evaluate((el) => (el as unknown as { mark?: number }).mark), 1, 'updated in place, not rebuilt');
      await wb.screenshot('training-live');

      await wb.event('training/added', { run: { ...run, id: 'live-result', cancelled: true } });
      await wb.page.locator('.twb-training-run[data-run="live-result"]').waitFor();
      assert.equal(await count(wb, '.twb-live-host *'), 0, 'the live panel is gone');
      assert.equal(await attr(wb, 'svg.twb-loss-curve', 'data-points'), String(run.loss.length));
      assert.equal(await count(wb, '.twb-training-run h1 .twb-badge-cancelled'), 1);
      assert.equal(await count(wb, '#twb-training-picker'), 0, 'no picker for one run');

      await wb.event('training/added', { run });
      await wb.page.locator(`.twb-training-run[data-run="${run.id}"]`).waitFor();
      assert.equal(await count(wb, '#twb-training-picker vscode-option'), 2);
      await wb.page.locator('#twb-training-picker').evaluate((el) => {
        const s = el as HTMLElement & { value: string };
        s.value = 'live-result';
        s.dispatchEvent(new Event('change'));
      });
      await wb.page.locator('.twb-training-run[data-run="live-result"]').waitFor();
      await assertClean(wb);
    } finally {
      await wb.close();
    }
  });

  test('a job that fails keeps its curves so far and says why', async () => {
    const wb = await openWorkbench(browser);
    try {
      await wb.event('session/init', initParams([], { view: 'training' }));
      for (let step = 1; step <= 3; step++) await wb.event('training/progress', progress(step));
      await wb.page.locator('.twb-live-host svg.twb-loss-curve[data-points="3"]').waitFor();
      await wb.event('training/ended', { jobId: 'other-job', error: { code: 'run-failed', message: 'not this one' } });
      await wb.event('training/ended', { jobId: 'job-1', error: { code: 'run-failed', message: 'the wasm backend ran out of memory at step 4' } });
      await wb.page.getByText('the wasm backend ran out of memory at step 4').waitFor();
      assert.equal(await count(wb, '.twb-live-host vscode-progress-ring'), 0, 'no progress left spinning after the failure');
      assert.equal(await attr(wb, '.twb-live-host svg.twb-loss-curve', 'data-points'), '3', 'the curve so far stays');
      assert.doesNotMatch(await wb.page.locator('.twb-live-host').innerText(), /not this one/);
      await assertClean(wb);
    } finally {
      await wb.close();
    }
  });

  test('bad messages are reported with ui/error and not rendered', async () => {
    const wb = await openWorkbench(browser);
    try {
      const broken = { ...run, id: 'broken', loss: [{ step: 1, value: 'low' }] } as unknown as TrainingRun;
      await wb.event('session/init', initParams([], { trainings: [broken], view: 'training' }));
      await wb.page.waitForFunction(() => (window as unknown as { __posted: Array<{ event?: string }> }).__posted.some((m) => m.event === 'ui/error'));
      assert.match((await uiErrors(wb))[0], /session\/init: training\.loss\[0\]\.value/);
      assert.equal(await count(wb, '.twb-training-run'), 0);

      await wb.event('session/init', initParams([], { view: 'training' }));
      await wb.page.getByText('No training runs yet.').waitFor();
      await wb.event('training/added', { run: { ...run, kind: 'variants' } as unknown as TrainingRun });
      await wb.event('variants/added', { report: { ...variants, variants: [{ label: 'dense' }] } as unknown as VariantsReport });
      await wb.event('training/progress', { ...progress(1), steps: 'many' } as unknown as HostEvents['training/progress']);
      await wb.page.waitForFunction(() => (window as unknown as { __posted: Array<{ event?: string }> }).__posted.filter((m) => m.event === 'ui/error').length >= 4);
      const errors = (await uiErrors(wb)).slice(1);
      assert.match(errors[0], /training\/added: training\.kind/);
      assert.match(errors[1], /variants\/added: variants\.variants\[0\]/);
      assert.match(errors[2], /training\/progress: /);
      assert.equal(await count(wb, '.twb-training-run, .twb-live-host'), 0, 'nothing rendered from them');
      await openTab(wb, 'variants');
      await wb.page.getByText('No variant comparisons yet.').waitFor();
      await assertClean(wb);
    } finally {
      await wb.close();
    }
  });
});

describe('variants view', () => {
  test('renders the side-by-side table with the best values and the two log–log sweep plots', async () => {
    const wb = await openWorkbench(browser);
    try {
      await wb.event('session/init', initParams([], { variants: [variants], view: 'variants' }));
      await wb.page.locator(`.twb-variants[data-report="${variants.id}"]`).waitFor();
      assert.deepEqual(await wb.page.locator('.twb-variants-table tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-variant'))), variants.variants.map((v) => v.label));
      const bestIn = (col: string) => wb.page.locator(`.twb-variants-table td.twb-best[data-col="${col}"]`).evaluateAll((tds) => tds.map((td) => td.closest('tr')?.getAttribute('data-variant')));
      assert.deepEqual(await bestIn('params'), ['dense+share:all'], 'sharing all layers has the fewest parameters');
      assert.deepEqual(await bestIn('accuracy'), ['dense']);
      assert.equal((await bestIn('stepMs')).length, 1);
      assert.match(await wb.page.locator('.twb-variants-table tr[data-variant="dense"] td[data-col="growthTime"]').innerText(), /^1\.\d\d\s+≈quadratic$/);
      assert.match(await wb.page.locator('.twb-variants-table tr[data-variant="window:32"] td[data-col="growthTime"]').innerText(), /≈linear$/);

      for (const cls of ['twb-sweep-time', 'twb-sweep-memory']) {
        const svg = `svg.${cls}`;
        assert.equal(await count(wb, `${svg} .twb-sweep-series`), variants.variants.length, 'one line per variant');
        assert.equal(await count(wb, `${svg} .twb-sweep-point`), variants.variants.reduce((n, v) => n + v.sweep.filter((p) => !p.error).length, 0));
        assert.equal(await count(wb, `${svg} .twb-sweep-failed`), variants.variants.reduce((n, v) => n + v.sweep.filter((p) => p.error).length, 0), 'failed points marked');
        assert.deepEqual(await wb.page.locator(`${svg} .twb-ref-line`).evaluateAll((ls) => ls.map((l) => l.getAttribute('data-slope'))), ['1', '2'], 'dashed slopes 1 and 2');
      }
      assert.equal(await count(wb, '.twb-sweep-legend'), 2);
      assert.equal(await wb.page.locator('.twb-sweep-legend').first().locator('[data-series]').count(), variants.variants.length);
      const cross = wb.page.locator('svg.twb-sweep-time .twb-sweep-failed').first();
      await cross.hover();
      await wb.page.locator('.twb-tooltip:visible').waitFor();
      assert.match(await wb.page.locator('.twb-tooltip').innerText(), /not measured\s+over the time budget/);
      await wb.screenshot('variants');
      await assertClean(wb);
    } finally {
      await wb.close();
    }
  });

  test('empty states name the command and the CLI; a report carries the views only with their documents', async () => {
    const wb = await openWorkbench(browser);
    try {
      await wb.event('session/init', initParams([], { view: 'variants' }));
      await wb.page.getByText('No variant comparisons yet.').waitFor();
      const text = await wb.page.locator('#twb-view').innerText();
      assert.match(text, /Compare Structural Variants…/);
      assert.match(text, /twb sweep/);
      await openTab(wb, 'training');
      await wb.page.getByText('No training runs yet.').waitFor();
      assert.match(await wb.page.locator('#twb-view').innerText(), /Train Built-in Model…[^]*twb train/);
      await assertClean(wb);
    } finally {
      await wb.close();
    }
    const init = { ...initParams([]), mode: 'report' as const, trusted: false, providers: [], trainings: [run], view: 'training' as const };
    const report = await openWorkbench(browser, { host: 'report', reportInit: init });
    try {
      await report.page.locator(`.twb-training-run[data-run="${run.id}"]`).waitFor();
      const tabs = await report.page.locator('vscode-tab-header').allInnerTexts();
      assert.ok(tabs.includes('Training') && !tabs.includes('Variants'), `tabs: ${tabs.join(', ')}`);
      assert.equal(await count(report, '.twb-badge-estimate'), run.mixedPrecision.estimates.length);
      await assertClean(report);
    } finally {
      await report.close();
    }
  });

  test('the new attention variants: mixer\'s fixed-length note, the spans adaptive span learned per head, eight series told apart', async () => {
    const wb = await openWorkbench(browser);
    try {
      await wb.event('session/init', initParams([], { variants: [gptVariants], view: 'variants' }));
      await wb.page.locator(`.twb-variants[data-report="${gptVariants.id}"]`).waitFor();
      const labels = gptVariants.variants.map((v) => v.label);
      assert.deepEqual(await wb.page.locator('.twb-variants-table tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-variant'))), labels);
      for (const a of ['mixer', 'dynamic-conv:', 'adaptive-span:']) assert.ok(labels.some((l) => l.startsWith(a)), `the fixture has ${a}`);
      const row = (label: string) => wb.page.locator(`.twb-variants-table tr[data-variant="${label}"]`);
      assert.match(await row('mixer').locator('.twb-variant-note').innerText(), new RegExp(`^fixed length: mixes ${gptVariants.spec.maxSeq} positions`));
      assert.ok(gptVariants.warnings.some((w) => /^mixer: .*fixed number of positions/.test(w)), 'the sweep warned of it');
      assert.match(await wb.page.locator('.twb-warnings').innerText(), /mixer: token mixing has .* fixed number of positions/);
      const conv = gptVariants.variants.find((v) => v.label.startsWith('dynamic-conv:'))!;
      assert.match(await row(conv.label).locator('td[data-col="growthMemory"]').innerText(), /≈linear$/, `measured memory growth ${conv.growth.memory}`);

      const span = gptVariants.variants.find((v) => v.spans)!;
      assert.match(await row(span.label).locator('.twb-variant-note').innerText(), /spans learned per head: below/);
      const block = wb.page.locator(`.twb-variant-spans-block[data-variant="${span.label}"]`);
      assert.match(await block.locator('.twb-spans-summary').innerText(), new RegExp(`^LEARNED ${span.spans!.layers.length * gptVariants.spec.heads} heads span .* of at most ${span.spans!.maxSpan}, fading out over ${span.spans!.ramp} more, in ${gptVariants.config.trainSteps} training steps of sort\\.$`));
      assert.equal(await block.locator('.twb-spans-table tbody tr').count(), span.spans!.layers.length, 'one row per layer');
      const cells = await block.locator('.twb-span-cell').evaluateAll((tds) => tds.map((td) => ({ span: Number(td.getAttribute('data-span')), text: td.textContent, fill: (td.querySelector('.twb-span-fill') as HTMLElement).getBoundingClientRect().width, track: (td.querySelector('.twb-span-track') as HTMLElement).getBoundingClientRect().width })));
      assert.deepEqual(cells.map((c) => c.span), span.spans!.layers.flatMap((l) => l.heads), 'every head, in order');
      for (const c of cells) assert.ok(Math.abs(c.fill / c.track - c.span / span.spans!.maxSpan) < 0.05, `bar on the scale of the largest span: ${JSON.stringify(c)}`);
      assert.match(await block.locator('.twb-span-cell').first().getAttribute('title') ?? '', /learned span [\d.]+ of at most/);

      // Eight series, six colours: the seventh and eighth come back dashed, with hollow swatches.
      assert.equal(labels.length, 8);
      const line = (i: number) => wb.page.locator(`svg.twb-sweep-time .twb-sweep-series[data-series="${labels[i]}"] .twb-sweep-line`).evaluate((el) => getComputedStyle(el).strokeDasharray);
      assert.equal(await line(0), 'none');
      assert.notEqual(await line(6), 'none', 'the seventh series is dashed');
      const swatch = (i: number) => wb.page.locator(`.twb-sweep-legend >> nth=0 >> [data-series="${labels[i]}"] .twb-swatch`).evaluate((el) => getComputedStyle(el).backgroundColor);
      assert.equal(await swatch(6), 'rgba(0, 0, 0, 0)', 'hollow swatch');
      assert.notEqual(await swatch(0), 'rgba(0, 0, 0, 0)');
      await wb.screenshot('variants-new');

      // The training view shows a run's learned spans the same way.
      const trained = { ...run, id: 'span-run', spec: { ...run.spec, attention: { kind: 'adaptive-span' as const, maxSpan: span.spans!.maxSpan, ramp: span.spans!.ramp } }, variant: { attention: span.label, shareLayers: 'none' }, spans: span.spans };
      const mixerRun = { ...run, id: 'mixer-run', spec: { ...run.spec, attention: { kind: 'mixer' as const } }, variant: { attention: 'mixer', shareLayers: 'none' } };
      await wb.event('training/added', { run: mixerRun });
      await openTab(wb, 'training');
      await wb.page.locator('.twb-training-run[data-run="mixer-run"]').waitFor();
      assert.match(await wb.page.locator('.twb-stat-variant').innerText(), new RegExp(`mixer[^]*fixed length: mixes ${run.spec.maxSeq} positions`));
      assert.equal(await count(wb, '.twb-spans'), 0, 'no spans for a mixer');
      await wb.event('training/added', { run: trained });
      await wb.page.locator('.twb-training-run[data-run="span-run"]').waitFor();
      assert.match(await wb.page.locator('.twb-spans-summary').innerText(), new RegExp(`^LEARNED .* at the end of ${run.loss.length} training steps\\.$`));
      assert.equal(await count(wb, '.twb-training-run .twb-span-cell'), cells.length);
      assert.doesNotMatch(await wb.page.locator('.twb-stat-variant').innerText(), /fixed length/);
      await wb.screenshot('training-spans');
      await assertClean(wb);
    } finally {
      await wb.close();
    }
  });
});
