/**
 * The Tuning view's pure parts and its boundaries: the Pareto plot's marks (status per trial, the
 * best, the floor of the budget, sizes as areas, axes following speedup and accuracy), the state
 * when a tuning arrives, the checks on `tuning/added`, `tuning/export` and the engine's `tune/run`
 * and `tune/export` params, and `twb export` of a tuning report to HTML.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { engineParamValidators } from '../../engine/src/protocol/engine';
import { validateWebviewRequest } from '../../engine/src/protocol/webview';
import type { TuningReport } from '../../engine/src/schema/tuning';
import { parseDocumentJson } from '../../engine/src/schema/validate-document';
import { BASE_R, paretoChart, radiusFor } from '../../webview/src/charts/pareto';
import { parseHostEvent } from '../../webview/src/messages';
import { initialState, reduceHostEvent, selectedTuning, viewsFor, viewsOf } from '../../webview/src/state';
import { runTwb } from './helpers/cli';

const FIXTURE = path.join(__dirname, '../fixtures/tiny-bert.tuning.json');
const report = JSON.parse(readFileSync(FIXTURE, 'utf8')) as TuningReport;
const BOX = { width: 600, height: 300, top: 20, right: 20, bottom: 40, left: 60 };

test('the Pareto plot places every trial that ran and tells front, dominated and over budget apart', () => {
  const c = paretoChart(report, BOX);
  const ran = report.trials.filter((t) => t.speedup !== null);
  assert.equal(c.points.length, ran.length);
  for (const p of c.points) {
    const t = report.trials.find((q) => q.id === p.id)!;
    assert.equal(p.status, !t.withinBudget ? 'over' : report.pareto.includes(t.id) ? 'front' : 'within', p.id);
    assert.equal(p.best, t.id === report.best);
    assert.ok(p.px >= BOX.left && p.px <= BOX.width - BOX.right && p.py >= BOX.top && p.py <= BOX.height - BOX.bottom, `${p.id} inside the plot`);
  }
  const by = (a: number, b: number) => a - b;
  const px = c.points.map((p) => [p.speedup, p.px] as const).sort((a, b) => by(a[0], b[0]));
  for (let i = 1; i < px.length; i++) assert.ok(px[i][1] >= px[i - 1][1], 'x grows with speedup');
  const py = c.points.map((p) => [p.accuracy, p.py] as const).sort((a, b) => by(a[0], b[0]));
  for (let i = 1; i < py.length; i++) assert.ok(py[i][1] <= py[i - 1][1], 'higher accuracy is higher up');
  assert.equal(c.frontPath.split('L').length, report.pareto.length, 'the front joins its points');
  assert.ok(c.floorY !== undefined && c.floorY > c.baseline.py, 'the accuracy floor lies below the original');
  assert.deepEqual(c.failed, []);
  assert.ok(c.xTicks.some((t) => t.label === '1×') && c.yTicks.length > 1);
});

test('point areas follow file size against the original; failed trials are listed, not drawn', () => {
  assert.equal(radiusFor(100, 100), BASE_R);
  assert.ok(Math.abs(radiusFor(100, 400) - BASE_R / 2) < 1e-9, 'a quarter of the size: half the radius');
  assert.equal(radiusFor(1e9, 1), 14, 'clamped');
  const failed: TuningReport = { ...report, trials: [...report.trials, { ...report.trials[0], id: 'broken', status: 'failed', speedup: null, latencyMs: null, originalLatencyMs: null, sizeBytes: null, accuracy: null, accuracyDrop: null, top1Agreement: null, sqnrDb: null, withinBudget: false, reason: 'ORT refused the graph' }] };
  const c = paretoChart(failed, BOX);
  assert.deepEqual(c.failed, ['broken']);
  assert.equal(c.points.length, report.trials.length);
  const unbounded = paretoChart({ ...report, budget: { ...report.budget, maxAccuracyDrop: null, minTop1Agreement: 0.9 } }, BOX);
  assert.equal(unbounded.floorY, undefined, 'no accuracy floor without a bound on the drop');
});

test('a tuning joins the state, is selected, and brings the Tuning tab with it', () => {
  assert.equal(viewsFor('profiler').includes('tuning'), false, 'no empty Tuning tab');
  assert.ok(viewsFor('report', { tunings: true }).includes('tuning'));
  let s = { ...initialState(), ...reduceHostEvent(initialState(), { event: 'session/init', params: { mode: 'profiler', trusted: true, form: initialState().form, providers: [], runs: [], tunings: [report] } }) };
  assert.equal(selectedTuning(s)?.id, report.id);
  assert.ok(viewsOf(s).includes('tuning'));
  const other = { ...report, id: 'other' };
  s = { ...s, ...reduceHostEvent(s, { event: 'tuning/added', params: { report: other } }) };
  assert.deepEqual(s.tunings.map((t) => t.id), [report.id, 'other']);
  assert.equal(selectedTuning(s)?.id, 'other');
  s = { ...s, ...reduceHostEvent(s, { event: 'tuning/added', params: { report: { ...other, warnings: ['again'] } } }) };
  assert.equal(s.tunings.length, 2, 'the same id replaces, not duplicates');
});

test('malformed tunings and requests are refused with the path of the problem', () => {
  assert.match(parseHostEvent('tuning/added', { report: { ...report, best: 'nope' } }) as string, /^tuning\/added: .*best/);
  assert.match(parseHostEvent('session/init', { mode: 'report', trusted: false, form: {}, providers: [], runs: [], tunings: [{ kind: 'tuning' }] }) as string, /^session\/init: /);
  assert.equal(typeof parseHostEvent('tuning/added', { report }), 'object');
  assert.deepEqual(validateWebviewRequest('tuning/export', { reportId: report.id }).params, { reportId: report.id });
  assert.throws(() => validateWebviewRequest('tuning/export', {}), /reportId/);
  const run = engineParamValidators['tune/run'];
  assert.ok(run({ request: { model: 'builtin:tiny-bert', evalFile: '/e.json', outDir: '/o', maxAccuracyDrop: 0.01, trials: 4 } }, 'params'));
  assert.throws(() => run({ request: { model: 'builtin:tiny-bert', evalFile: '/e.json', outDir: '/o', maxAccuracyDrop: 2 } }, 'params'), /maxAccuracyDrop/);
  assert.throws(() => run({ request: { model: 'builtin:tiny-bert', outDir: '/o' } }, 'params'), /evalFile/);
  const exp = engineParamValidators['tune/export'];
  assert.throws(() => exp({ report, format: 'deepspeed', out: '/x', base: '/' }, 'params'), /format/);
  assert.throws(() => exp({ report: { ...report, pareto: ['ghost'] }, format: 'twb', out: '/x', base: '/' }, 'params'), /pareto/);
});

test('a tuning report is a kept document and exports to HTML; a missing best config is named', async () => {
  assert.equal(parseDocumentJson(readFileSync(FIXTURE, 'utf8')).kind, 'tuning');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'twb-tuning-export-'));
  try {
    const html = await runTwb(dir, ['export', FIXTURE, '--format', 'report', '--out', 'tuning.html']);
    assert.equal(html.code, 0, html.stderr);
    const text = readFileSync(path.join(dir, 'tuning.html'), 'utf8');
    assert.match(text, /"view":"tuning"/);
    assert.match(text, /Content-Security-Policy/);
    const twb = await runTwb(dir, ['export', FIXTURE, '--format', 'twb', '--out', 'x.json']);
    assert.equal(twb.code, 1);
    assert.match(twb.stderr, /the best config "\/home\/user\/project\/out\/best\.twb\.json" named by tuning .* cannot be read/);
    assert.ok(!existsSync(path.join(dir, 'x.json')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
