/**
 * The Suggestions view on an imported trace's report (issue #8 point 3), in the real bundle under
 * the real CSP: a code change shows where it goes and its snippet in a <pre><code> block with a
 * Copy button, Apply stays off with the reason, and the headline names the imported trace. The
 * report is made here by the advisor from the V100 ResNet-50 fixture (a real import).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import { adviseRun } from '../../engine/src/advisor/advise';
import type { TraceRun } from '../../engine/src/schema/trace';
import { CODE_APPLY } from '../../webview/src/model/suggestion-card';
import { assertClean, initParams, launchBrowser, openWorkbench, REPO_ROOT, requestsOf } from './harness';

const run = JSON.parse(readFileSync(path.join(REPO_ROOT, 'test/fixtures/traces/resnet50-v100.run.json'), 'utf8')) as TraceRun;
const report = adviseRun({ kind: 'trace', run }, null, { cores: 2, providers: [], now: new Date('2026-03-01T10:00:00Z') });

let browser: Browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

describe('suggestions view, imported trace', () => {
  test('a code change shows its snippet and where it goes; Apply is off with the reason', async () => {
    const wb = await openWorkbench(browser);
    try {
      await wb.event('session/init', initParams([], { suggestions: [report], view: 'suggestions' }));
      await wb.page.locator(`.twb-advice[data-report="${report.id}"]`).waitFor();
      assert.match(await wb.page.locator('.twb-advice-source').innerText(), new RegExp(`imported trace ${report.source.id}`));
      assert.ok(report.suggestions.length >= 2);
      for (const s of report.suggestions) {
        assert.equal(s.change.kind, 'code');
        if (s.change.kind !== 'code') continue;
        const card = wb.page.locator(`.twb-suggestion[data-suggestion="${s.id}"]`);
        assert.equal(await card.getAttribute('data-change'), 'code');
        assert.equal(await card.locator('pre.twb-snippet > code').innerText(), s.change.snippet);
        assert.equal(await card.locator('.twb-code-where code').innerText(), s.change.where);
        assert.equal(await card.locator('.twb-code-next').innerText(), s.command);
        assert.equal(await card.locator('.twb-command-text').count(), 0, 'no shell command to copy');
        assert.equal(await card.locator('.twb-apply').evaluate((el) => (el as unknown as { disabled: boolean }).disabled), true);
        assert.equal(await card.locator('.twb-apply-note').innerText(), CODE_APPLY);
        await card.locator('.twb-apply').click({ force: true });
      }
      assert.equal((await requestsOf(wb, 'advice/apply')).length, 0, 'no request from a disabled Apply');
      await assertClean(wb);
    } finally {
      await wb.close();
    }
  });
});
