/**
 * The Tuning view in the real bundle under the real CSP: the headline, one point per trial that ran
 * on the Pareto plot (front, dominated and over-budget told apart, the best ringed, the original at
 * 1×, the budget's accuracy floor), the trials table with each trial's verdict and reason, the best
 * configuration with its held-back check, and Export: a `tuning/export` request in VS Code, a note
 * in the offline report. Malformed reports are rejected with ui/error.
 *
 * Fixture: `twb tune builtin:tiny-bert --eval eval.json --max-accuracy-drop 0.08 --trials 6 --batch 2
 * --seq 16` on a 40-example eval file labelled by the fp32 model's own predictions (as tune.test.ts
 * makes them); its temporary folder was rewritten to /home/user/project.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import type { TuningReport } from '../../engine/src/schema/tuning';
import { assertClean, count, initParams, launchBrowser, openWorkbench, REPO_ROOT, requestsOf } from './harness';

const report = JSON.parse(readFileSync(path.join(REPO_ROOT, 'test/fixtures/tiny-bert.tuning.json'), 'utf8')) as TuningReport;

let browser: Browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

const classesOf = (wb: Awaited<ReturnType<typeof openWorkbench>>, sel: string) => wb.page.locator(sel).evaluateAll((els) => els.map((e) => [e.getAttribute('data-trial'), e.getAttribute('class')] as [string, string]));

describe('tuning view', () => {
  test('trials, Pareto plot, best configuration and Export', async () => {
    const wb = await openWorkbench(browser);
    try {
      await wb.event('session/init', initParams([], { tunings: [report], view: 'tuning' }));
      await wb.page.locator(`.twb-tuning[data-tuning="${report.id}"]`).waitFor();
      assert.equal(await count(wb, 'vscode-tab-header[data-view="tuning"]'), 1, 'the Tuning tab appears with a report');
      assert.equal(await wb.page.locator('.twb-run-picker-box').isHidden(), true, 'the view has its own picker');
      assert.equal(await wb.page.locator('.twb-tuning-best-id .twb-stat-value').innerText(), report.best);

      const ran = report.trials.filter((t) => t.speedup !== null);
      const marks = new Map(await classesOf(wb, 'svg.twb-pareto circle.twb-pareto-point'));
      assert.equal(marks.size, ran.length + 1, 'one point per trial that ran, and the original');
      assert.match(marks.get('original') ?? '', /twb-pareto-baseline/);
      for (const t of ran) {
        const want = !t.withinBudget ? 'twb-pareto-over' : report.pareto.includes(t.id) ? 'twb-pareto-front' : 'twb-pareto-within';
        assert.match(marks.get(t.id) ?? '', new RegExp(want), `${t.id} drawn as ${want}`);
      }
      assert.match(marks.get(report.best!) ?? '', /twb-pareto-best/);
      assert.equal(await count(wb, 'svg.twb-pareto .twb-pareto-best-label'), 1);
      assert.equal(await count(wb, 'svg.twb-pareto line.twb-pareto-floor'), 1, 'the budget floor (drop ≤ 8%) is drawn');
      assert.equal(await count(wb, 'svg.twb-pareto path.twb-pareto-front-line'), 1, 'the front (3 trials) is joined');
      // The point of the faster trial lies to the right: x follows speedup.
      const x = async (id: string) => Number(await wb.page.locator(`svg.twb-pareto circle[data-trial="${id}"]`).getAttribute('cx'));
      const [slow, fast] = [...ran].sort((a, b) => a.speedup! - b.speedup!).filter((_, i, a) => i === 0 || i === a.length - 1);
      assert.ok((await x(fast.id)) > (await x(slow.id)));

      const rows = await wb.page.locator('table.twb-tuning-trials tbody tr').evaluateAll((els) => els.map((e) => [e.getAttribute('data-trial'), e.querySelector('.twb-trial-status')?.textContent]));
      assert.deepEqual(rows, report.trials.map((t) => [t.id, t.status === 'ok' ? 'within' : t.status === 'failed' ? 'failed' : 'over']));
      assert.equal(await count(wb, 'table.twb-tuning-trials tr.twb-trial-best'), 1);
      for (const t of report.trials.filter((q) => q.reason)) assert.match(await wb.page.locator(`.twb-tuning-reason[data-trial="${t.id}"]`).innerText(), new RegExp(t.reason!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));

      const best = wb.page.locator(`.twb-tuning-best[data-best="${report.best}"]`);
      assert.match(await best.locator('tr[data-row="held-back check"]').innerText(), /within budget/);
      assert.match(await best.locator('tr[data-row="re-measure"]').innerText(), /twb profile --config \/home\/user\/project\/out\/best\.twb\.json/);
      assert.match(await wb.page.locator('.twb-tuning').innerText(), new RegExp(`stopped\\s+${report.stopped.reason}`));

      await wb.page.click('#twb-tuning-export');
      const [req] = await requestsOf(wb, 'tuning/export');
      assert.deepEqual(req?.params, { reportId: report.id });
      await wb.send({ kind: 'response', id: req.id as number, ok: { path: '/home/user/project/twb.config.json' } });
      await wb.page.locator('.twb-tuning-export .twb-export-status', { hasText: 'Tuned config written to /home/user/project/twb.config.json' }).waitFor();
      await wb.screenshot('tuning-view');
      await assertClean(wb);
    } finally {
      await wb.close();
    }
  });

  test('a second tuning arrives and is shown; a malformed one is rejected with ui/error', async () => {
    const wb = await openWorkbench(browser);
    try {
      await wb.event('session/init', initParams([], { tunings: [report], view: 'tuning' }));
      await wb.page.locator('.twb-tuning').waitFor();
      const none: TuningReport = { ...report, id: `${report.id}-none`, best: null, pareto: [], bestHeldBack: null, bestModel: undefined, bestConfig: undefined, trials: report.trials.map((t) => ({ ...t, status: 'over-budget', withinBudget: false, reason: 'accuracy drop 9.0% > 8.0% allowed' })) };
      await wb.event('tuning/added', { report: none });
      await wb.page.locator(`.twb-tuning[data-tuning="${none.id}"]`).waitFor();
      assert.match(await wb.page.locator('.twb-tuning-best').innerText(), /No trial met the accuracy budget/);
      assert.equal(await count(wb, '#twb-tuning-export'), 0, 'nothing to export without a best');
      assert.equal(await count(wb, '#twb-tuning-picker'), 1, 'two tunings: a picker');
      await wb.send({ kind: 'event', event: 'tuning/added', params: { report: { ...report, best: 'no-such-trial' } } });
      const err = await wb.waitForPosted((m) => m.kind === 'event' && m.event === 'ui/error', 'ui/error');
      assert.match((err.params as { message: string }).message, /tuning\/added: .*best/);
      await assertClean(wb);
    } finally {
      await wb.close();
    }
  });

  test('the offline report shows the tuning and says how to export', async () => {
    const init = { ...initParams([], { tunings: [report], view: 'tuning' as const }), mode: 'report' as const, trusted: false };
    const wb = await openWorkbench(browser, { host: 'report', reportInit: init });
    try {
      await wb.page.locator(`.twb-tuning[data-tuning="${report.id}"]`).waitFor();
      assert.equal(await count(wb, '#twb-tuning-export'), 0);
      assert.match(await wb.page.locator('.twb-tuning-best').innerText(), /twb export tune\.json --format/);
      assert.equal(await count(wb, 'svg.twb-pareto circle.twb-pareto-point'), report.trials.filter((t) => t.speedup !== null).length + 1);
      await assertClean(wb);
    } finally {
      await wb.close();
    }
  });
});
