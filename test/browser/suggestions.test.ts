/**
 * The Suggestions view in the real bundle under the real CSP: one card per suggestion with its
 * evidence, command and ESTIMATE; Apply's request, its progress on the card, and the measured
 * result beside the estimate with the off-by figures; Apply off in untrusted workspaces, for
 * simulated-only changes and in the offline report, each with its reason; "Suggest for this run";
 * malformed reports and results rejected with ui/error.
 *
 * Fixtures: `twb profile builtin:tiny-bert --batch 8`, then `twb suggest` and `twb apply --suggestion
 * int8-dynamic` on it. The apply fixture's `artifacts.report.layers` was trimmed to its first 3
 * layers to keep the file small; it is still a valid compression report.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import type { Suggestion, SuggestionsReport } from '../../engine/src/schema/advice';
import type { ApplyResult } from '../../engine/src/schema/apply';
import { formatMs, formatTimes, REPORT_APPLY, signedPercent, UNTRUSTED_APPLY } from '../../webview/src/model/suggestion-card';
import { assertClean, count, initParams, launchBrowser, loadFixture, openWorkbench, REPO_ROOT, requestsOf, Workbench } from './harness';

const fixture = <T>(name: string) => JSON.parse(readFileSync(path.join(REPO_ROOT, 'test/fixtures', name), 'utf8')) as T;
const report = fixture<SuggestionsReport>('tiny-bert.suggestions.json');
const applied = fixture<ApplyResult>('tiny-bert.apply-int8.json');

let browser: Browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

const cardSel = (id: string) => `.twb-suggestion[data-suggestion="${id}"]`;
const disabled = (wb: Workbench, sel: string) => wb.page.locator(sel).evaluate((el) => (el as unknown as { disabled: boolean }).disabled);
const uiErrors = async (wb: Workbench) => (await wb.posted()).filter((m) => m.kind === 'event' && m.event === 'ui/error').map((m) => (m.params as { message: string }).message);
const cell = (wb: Workbench, id: string, figure: string, col: string) => wb.page.locator(`${cardSel(id)} tr[data-figure="${figure}"] .twb-${col}`).innerText();

/** The report with a pipeline suggestion added at the end (this machine only simulates pipelines). */
function withPipelineSuggestion(): SuggestionsReport {
  const s: Suggestion = {
    ...report.suggestions[0],
    id: 'pipeline-schedule',
    title: 'Use 1F1B instead of GPipe',
    rule: 'pipeline/schedule',
    change: { kind: 'pipeline', schedule: '1f1b', stages: 2, microbatches: 8, chunks: 1 },
    command: 'twb pipeline builtin:tiny-bert --schedule 1f1b --stages 2 --microbatches 8',
  };
  return { ...report, id: `${report.id}-p`, suggestions: [...report.suggestions, s] };
}

describe('suggestions view', () => {
  test('renders a card per suggestion; Apply posts its ids, shows progress, then measured beside estimated', async () => {
    const wb = await openWorkbench(browser);
    try {
      await wb.event('session/init', initParams([], { suggestions: [report], view: 'suggestions' }));
      await wb.page.locator(`.twb-advice[data-report="${report.id}"]`).waitFor();
      assert.equal(await wb.page.locator('.twb-run-picker-box').isHidden(), true, 'the view has its own picker');
      assert.match(await wb.page.locator('.twb-advice h1').innerText(), new RegExp(`^Suggestions: tiny-bert · ${report.suggestions.length} suggestions`));
      assert.match(await wb.page.locator('.twb-advice-source').innerText(), new RegExp(`inference run ${report.source.id}`));
      assert.equal(await wb.page.locator('.twb-advice-baseline-latency .twb-stat-value').innerText(), formatMs(report.baseline.latencyMs as number));
      assert.equal(await count(wb, '.twb-calibration-table tbody tr'), report.calibration?.matmul.length);
      assert.match(await wb.page.locator('.twb-calibration-when').innerText(), /^Kernels timed on this machine .* in 4\.6 s: 2 threads/);

      assert.deepEqual(await wb.page.locator('.twb-suggestion').evaluateAll((els) => els.map((e) => e.getAttribute('data-suggestion'))), report.suggestions.map((s) => s.id), 'one card per suggestion, in rank order');
      for (const s of report.suggestions) {
        const c = wb.page.locator(cardSel(s.id));
        assert.equal(await c.locator('.twb-suggestion-title').innerText(), s.title);
        assert.equal(await c.locator('.twb-evidence-summary').innerText(), s.evidence.summary);
        assert.equal(await c.locator('.twb-evidence-item').count(), Math.min(5, s.evidence.items.length));
        assert.equal(await c.locator('.twb-command-text').innerText(), s.command);
        assert.equal(await c.locator('.twb-estimate-head .twb-badge-estimate').innerText(), 'ESTIMATE');
        assert.equal(await c.locator('.twb-warnings li').count(), s.warnings.length);
        assert.equal(await c.locator('.twb-measured-value').count(), 0, 'nothing measured yet');
        assert.equal(await disabled(wb, `${cardSel(s.id)} .twb-apply`), false);
      }
      const first = report.suggestions[0];
      assert.equal(await cell(wb, first.id, 'speedup', 'estimated-value'), formatTimes(first.estimate.speedup as number));
      assert.equal(await cell(wb, first.id, 'latencyMs', 'before-value'), formatMs(report.baseline.latencyMs as number));
      assert.equal(await cell(wb, first.id, 'latencyMs', 'estimated-value'), formatMs(first.estimate.latencyMs as number));
      assert.equal(await wb.page.locator(`${cardSel(first.id)} .twb-basis p`).isVisible(), false, 'the basis is folded away');
      await wb.page.click(`${cardSel(first.id)} .twb-basis summary`);
      assert.equal(await wb.page.locator(`${cardSel(first.id)} .twb-basis p`).innerText(), first.estimate.basis);
      assert.equal(await count(wb, '.twb-quiet tr'), report.quiet.length);
      assert.equal(await wb.page.locator('.twb-advice-ranking').innerText(), `Ranked by ${report.ranking}.`);
      await wb.screenshot('suggestions');

      await wb.page.click(`${cardSel('int8-dynamic')} .twb-apply`);
      const req = await wb.waitForPosted((m) => m.kind === 'request' && m.method === 'advice/apply', 'advice/apply');
      assert.deepEqual(req.params, { reportId: report.id, suggestionId: 'int8-dynamic' });
      await wb.send({ kind: 'event', event: 'run/progress', params: { requestId: req.id, phase: 'quantize', done: 2, total: 5, message: 'Quantizing layer0/attn/q_proj' } });
      await wb.page.locator(`${cardSel('int8-dynamic')} .twb-job`).getByText('Quantizing layer0/attn/q_proj (2/5)').waitFor();
      assert.equal(await count(wb, '.twb-job'), 1, 'progress on the applied card only');
      assert.equal(await disabled(wb, `${cardSel('int4-weight')} .twb-apply`), true, 'one job at a time');
      assert.equal(await wb.page.locator(`${cardSel('int4-weight')} .twb-apply-note`).innerText(), 'A run is in progress.');

      await wb.event('apply/added', { result: applied });
      await wb.send({ kind: 'response', id: req.id, ok: { applyId: applied.id } });
      await wb.page.locator(`${cardSel('int8-dynamic')} .twb-measured-value`).first().waitFor();
      await wb.page.waitForFunction(() => document.querySelectorAll('.twb-job').length === 0);
      const e = applied.estimate;
      const m = applied.measured;
      assert.equal(await cell(wb, 'int8-dynamic', 'speedup', 'estimated-value'), formatTimes(e.speedup as number), 'the estimate the result was compared with');
      assert.equal(await cell(wb, 'int8-dynamic', 'speedup', 'measured-value'), formatTimes(m.speedup as number));
      assert.equal(await cell(wb, 'int8-dynamic', 'speedup', 'off-by'), signedPercent(applied.error.speedup));
      assert.equal(await cell(wb, 'int8-dynamic', 'latencyMs', 'measured-value'), formatMs(m.latencyMs as number));
      assert.equal(await cell(wb, 'int8-dynamic', 'latencyMs', 'off-by'), signedPercent(applied.error.latencyMs));
      assert.match(signedPercent(applied.error.latencyMs), /^−\d/, 'the fixture has one estimate too high');
      assert.equal(await cell(wb, 'int8-dynamic', 'memoryBytes', 'measured-value'), '—', 'memory is not measured by a graph pass');
      assert.equal(await cell(wb, 'int8-dynamic', 'memoryBytes', 'off-by'), '—');
      assert.match(await wb.page.locator(`${cardSel('int8-dynamic')} .twb-accuracy`).innerText(), /MEASURED\s+accuracy: output SQNR 27\.1 dB · top-1 agreement 100\.0%/);
      assert.match(await wb.page.locator(`${cardSel('int8-dynamic')} .twb-drift`).innerText(), /^Re-estimated when applied .*speedup 1\.34× here, 1\.16× then/);
      assert.equal(await wb.page.locator(`${cardSel('int8-dynamic')} .twb-measured-basis p`).first().textContent(), m.basis);
      assert.equal(await count(wb, '.twb-suggestion.twb-applied'), 1, 'only the applied card shows a measurement');
      assert.equal(await disabled(wb, `${cardSel('int4-weight')} .twb-apply`), false, 'free again once the response arrived');
      await wb.screenshot('suggestions-applied');
      await assertClean(wb);
    } finally {
      await wb.close();
    }
  });

  test('Apply is off, with the reason, when untrusted and for simulated-only changes; a failed apply says why', async () => {
    const wb = await openWorkbench(browser);
    const two = withPipelineSuggestion();
    try {
      await wb.event('session/init', initParams([], { trusted: false, suggestions: [two], view: 'suggestions' }));
      await wb.page.locator('.twb-suggestion').first().waitFor();
      for (const s of report.suggestions) {
        assert.equal(await disabled(wb, `${cardSel(s.id)} .twb-apply`), true);
        assert.equal(await wb.page.locator(`${cardSel(s.id)} .twb-apply-note`).innerText(), UNTRUSTED_APPLY);
      }
      await wb.page.click(`${cardSel('int8-dynamic')} .twb-apply`, { force: true });

      await wb.event('session/init', initParams([], { suggestions: [two], view: 'suggestions' }));
      await wb.page.locator(`${cardSel('int8-dynamic')} .twb-apply-note`, { hasText: 'twb apply' }).waitFor();
      assert.equal(await disabled(wb, `${cardSel('pipeline-schedule')} .twb-apply`), true);
      assert.match(await wb.page.locator(`${cardSel('pipeline-schedule')} .twb-apply-note`).innerText(), /only simulated on this machine/);
      await wb.page.click(`${cardSel('pipeline-schedule')} .twb-apply`, { force: true });
      assert.equal((await requestsOf(wb, 'advice/apply')).length, 0, 'no request from a disabled Apply');

      await wb.page.click(`${cardSel('share-layers')} .twb-apply`);
      const req = await wb.waitForPosted((m) => m.kind === 'request' && m.method === 'advice/apply', 'advice/apply');
      assert.deepEqual(req.params, { reportId: two.id, suggestionId: 'share-layers' });
      await wb.send({ kind: 'response', id: req.id, err: { code: 'run-failed', message: 'profiling the changed run failed: out of memory' } });
      await wb.page.locator(`${cardSel('share-layers')} .twb-error`).getByText('profiling the changed run failed: out of memory').waitFor();
      assert.equal(await disabled(wb, `${cardSel('share-layers')} .twb-apply`), false, 'free to try again');
      await assertClean(wb);
    } finally {
      await wb.close();
    }
  });

  test('"Suggest for this run" asks for the selected run and shows the report that comes back', async () => {
    const wb = await openWorkbench(browser);
    const run = loadFixture('tiny-gpt.run.json');
    try {
      await wb.event('session/init', initParams([run]));
      await wb.page.locator('vscode-tab-header[data-view="suggestions"]').click();
      await wb.page.locator(`.twb-suggest-offer[data-run="${run.id}"]`).waitFor();
      assert.equal(await count(wb, '.twb-suggestion'), 0);
      await wb.page.click('#twb-suggest');
      const req = await wb.waitForPosted((m) => m.kind === 'request' && m.method === 'advice/suggest', 'advice/suggest');
      assert.deepEqual(req.params, { runId: run.id });
      await wb.send({ kind: 'event', event: 'run/progress', params: { requestId: req.id, phase: 'calibrate', done: 1, total: 3, message: 'calibrating kernels: shape 1/3' } });
      await wb.page.locator('.twb-suggest-offer .twb-job').getByText('calibrating kernels: shape 1/3 (1/3)').waitFor();
      assert.equal(await disabled(wb, '#twb-suggest'), true);
      const mine: SuggestionsReport = { ...report, id: 'for-tiny-gpt', source: { kind: 'inference', id: run.id, model: run.model.source } };
      await wb.event('suggestions/added', { report: mine });
      await wb.send({ kind: 'response', id: req.id, ok: { reportId: mine.id } });
      await wb.page.locator('.twb-advice[data-report="for-tiny-gpt"] .twb-suggestion').first().waitFor();
      assert.equal(await count(wb, '.twb-suggest-offer'), 0, 'the run has its report now');
      assert.equal(await count(wb, '.twb-suggestion'), mine.suggestions.length);
      assert.match(await wb.page.locator('.twb-advice-source').innerText(), /opt all · batch 1 × seq/, 'the run\'s configuration, from the run itself');
      await assertClean(wb);
    } finally {
      await wb.close();
    }
  });

  test('a malformed suggestions/added or apply/added is reported with ui/error and renders nothing', async () => {
    const wb = await openWorkbench(browser);
    try {
      await wb.event('session/init', initParams([], { view: 'suggestions' }));
      await wb.page.locator('.twb-advice .twb-empty').waitFor();
      const bad = { ...report, suggestions: [{ ...report.suggestions[0], estimate: { ...report.suggestions[0].estimate, accuracyRisk: 'huge' } }] };
      await wb.event('suggestions/added', { report: bad as unknown as SuggestionsReport });
      await wb.event('apply/added', { result: { ...applied, error: { ...applied.error, speedup: 0.5 } } });
      await wb.page.waitForFunction(() => (window as unknown as { __posted: Array<{ event?: string }> }).__posted.filter((m) => m.event === 'ui/error').length >= 2);
      const errors = await uiErrors(wb);
      assert.match(errors[0], /suggestions\/added: suggestions\.suggestions\[0\]\.estimate\.accuracyRisk: expected one of: none, low, medium, high/);
      assert.match(errors[1], /apply\/added: apply\.error\.speedup: is 0\.5, but measured ÷ estimated − 1 is/);
      assert.equal(await count(wb, '.twb-suggestion'), 0, 'nothing rendered from a rejected report');
      assert.equal(await count(wb, '.twb-advice .twb-empty'), 1);
      await assertClean(wb);
    } finally {
      await wb.close();
    }
  });
});

describe('offline report', () => {
  test('renders the cards and the measured result; Apply is off and says why', async () => {
    const init = { ...initParams([]), mode: 'report' as const, trusted: false, providers: [], suggestions: [report], applied: [applied], view: 'suggestions' as const };
    const wb = await openWorkbench(browser, { host: 'report', reportInit: init });
    try {
      await wb.page.locator('.twb-suggestion').first().waitFor();
      assert.deepEqual(await wb.page.locator('vscode-tab-header').allInnerTexts(), ['Overview', 'Ops', 'Timeline', 'Memory', 'Compare', 'Suggestions']);
      assert.equal(await count(wb, '.twb-suggestion'), report.suggestions.length);
      assert.equal(await count(wb, '#twb-suggest'), 0);
      for (const s of report.suggestions) assert.equal(await disabled(wb, `${cardSel(s.id)} .twb-apply`), true);
      assert.equal(await wb.page.locator(`${cardSel('int8-dynamic')} .twb-apply-note`).innerText(), REPORT_APPLY);
      assert.equal(await cell(wb, 'int8-dynamic', 'sizeBytes', 'off-by'), signedPercent(applied.error.sizeBytes));
      await assertClean(wb);
    } finally {
      await wb.close();
    }
  });
});
