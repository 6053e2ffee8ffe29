/**
 * The Suggestions view's pure parts: a card's figures and off-by percentages, which changes can be
 * applied and why not, the headline's calibration summary, the state for `suggestions/added` and
 * `apply/added`, the message and request checks, the apply-result validator and the offline report.
 *
 * Fixtures: `twb profile builtin:tiny-bert --batch 8`, then `twb suggest` and `twb apply --suggestion
 * int8-dynamic` on it. The apply fixture's `artifacts.report.layers` was trimmed to its first 3
 * layers to keep the file small; it is still a valid compression report.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Suggestion, SuggestionsReport } from '../../engine/src/schema/advice';
import type { ApplyResult } from '../../engine/src/schema/apply';
import { validateApplyResult } from '../../engine/src/schema/validate-apply';
import { validateWebviewRequest, type HostEvents } from '../../engine/src/protocol/webview';
import { renderDocumentReport } from '../../engine/src/export/html-report';
import { parseHostEvent } from '../../webview/src/messages';
import { accuracyLine, applicableChange, applyBlocked, cardFigures, estimateDrift, offByText, resultFor, signedPercent, speedupWords, topEvidence, UNTRUSTED_APPLY, REPORT_APPLY } from '../../webview/src/model/suggestion-card';
import { baselineFacts, calibrationSummary, configText, reportForRun, suggestionsPickerLabel } from '../../webview/src/model/suggestion-report';
import { AppState, initialState, reduceHostEvent, selectedSuggestions, viewsFor, viewsOf } from '../../webview/src/state';

const fixture = <T>(name: string) => JSON.parse(readFileSync(path.join(__dirname, '../fixtures', name), 'utf8')) as T;
const report = fixture<SuggestionsReport>('tiny-bert.suggestions.json');
const applied = fixture<ApplyResult>('tiny-bert.apply-int8.json');
const clone = <T>(x: T): T => structuredClone(x);
const suggestion = (id: string) => report.suggestions.find((s) => s.id === id) as Suggestion;

const form: HostEvents['session/init']['form'] = { model: 'builtin:tiny-bert', executionProvider: 'cpu', threads: 2, optLevel: 'all', batch: 8, seq: 128, past: 0, warmup: 5, runs: 30, profiledRuns: 10 };
const init = (over: Partial<HostEvents['session/init']> = {}): HostEvents['session/init'] => ({ mode: 'profiler', trusted: true, form, providers: [], runs: [], ...over });
const reduce = (s: AppState, e: Parameters<typeof reduceHostEvent>[1]): AppState => ({ ...s, ...reduceHostEvent(s, e) });

test('fixtures: the apply result is for the report\'s run and one of its suggestions', () => {
  assert.equal(applied.source.runId, report.source.id);
  assert.ok(report.suggestions.some((s) => s.id === applied.suggestion.id));
  assert.deepEqual(report.suggestions.map((s) => s.change.kind), ['pass', 'pass', 'pass', 'pass', 'config']);
});

test('card figures: baseline → estimate, formatted as the CLI prints them', () => {
  const s = suggestion('int8-dynamic');
  const rows = cardFigures(report, s);
  assert.deepEqual(rows.map((r) => r.key), ['speedup', 'latencyMs', 'sizeBytes', 'memoryBytes']);
  assert.deepEqual(rows.map((r) => r.label), ['speedup', 'p50 latency', 'model size', 'peak memory']);
  assert.equal(rows[0].before, null, 'a ratio has no "now"');
  assert.equal(rows[0].estimated, `${(s.estimate.speedup as number).toFixed(2)}×`);
  assert.equal(rows[1].before, '318 ms');
  assert.equal(rows[1].estimated, '238 ms');
  assert.equal(rows[2].estimated, '3.51 MiB');
  assert.ok(rows.every((r) => r.measured === undefined && r.offBy === undefined), 'nothing measured without a result');
  const training = cardFigures({ ...report, source: { ...report.source, kind: 'training' } }, s);
  assert.equal(training[1].label, 'step time');
  const unknown = cardFigures({ ...report, baseline: { latencyMs: null, memoryBytes: null, sizeBytes: null } }, { ...s, estimate: { ...s.estimate, speedup: null } });
  assert.deepEqual([unknown[0].estimated, unknown[1].before], ['—', '—']);
});

test('card figures with a result: the apply-time estimate, the measurement and the off-by figures', () => {
  const rows = cardFigures(report, suggestion('int8-dynamic'), applied);
  const byKey = Object.fromEntries(rows.map((r) => [r.key, r]));
  assert.equal(byKey.speedup.estimated, `${(applied.estimate.speedup as number).toFixed(2)}×`, 'compared with the estimate the result carries');
  assert.equal(byKey.speedup.measured, `${(applied.measured.speedup as number).toFixed(2)}×`);
  assert.equal(byKey.speedup.error, applied.error.speedup);
  assert.equal(byKey.speedup.offBy, 'off by +6.4%');
  assert.equal(byKey.latencyMs.offBy, 'off by −4.7%');
  assert.equal(byKey.sizeBytes.offBy, 'off by +0.5%');
  assert.equal(byKey.memoryBytes.measured, '—');
  assert.equal(byKey.memoryBytes.error, null);
  assert.equal(byKey.memoryBytes.offBy, '—');
});

test('percentages and words: sign, a real minus, nothing for missing', () => {
  assert.equal(signedPercent(0.0638), '+6.4%');
  assert.equal(signedPercent(-0.0468), '−4.7%');
  assert.equal(signedPercent(0.00004), '±0.0%');
  assert.equal(signedPercent(null), '—');
  assert.equal(signedPercent(Number.NaN), '—');
  assert.equal(offByText(-1), 'off by −100.0%');
  assert.equal(offByText(null), '—');
  assert.deepEqual([speedupWords(1.336), speedupWords(1.002), speedupWords(0.88), speedupWords(null)], ['1.34× faster', 'same speed', '0.88× (slower)', 'speed not estimated']);
});

test('estimate drift: said when apply re-timed the kernels and got another estimate, not otherwise', () => {
  const drift = estimateDrift(suggestion('int8-dynamic'), applied);
  assert.match(drift ?? '', /^Re-estimated when applied .*speedup 1\.34× here, 1\.16× then; p50 latency 238 ms here, 273 ms then\./);
  assert.doesNotMatch(drift ?? '', /model size/, 'the size estimate did not move');
  assert.equal(estimateDrift(applied.suggestion, applied), null);
});

test('accuracy: SQNR, top-1 agreement, eval accuracy when there is one; nothing without a measurement', () => {
  assert.equal(accuracyLine(applied.measured), 'output SQNR 27.1 dB · top-1 agreement 100.0%');
  assert.equal(accuracyLine({ ...applied.measured, accuracy: { sqnrDb: null, top1Agreement: 0.95, accuracyBefore: 0.9, accuracyAfter: 0.875 } }), 'output SQNR exact (no error) · top-1 agreement 95.0% · eval accuracy 90.0% → 87.5%');
  assert.equal(accuracyLine({ ...applied.measured, accuracy: undefined }), null);
});

test('apply: config and pass changes can be applied; pipelines and ZeRO only simulated; reasons in order', () => {
  assert.deepEqual(applicableChange({ kind: 'config', patch: { threads: 4 } }), { ok: true });
  assert.deepEqual(applicableChange({ kind: 'pass', config: { mode: 'int8-dynamic' } }), { ok: true });
  const p = applicableChange({ kind: 'pipeline', schedule: '1f1b', stages: 2, microbatches: 8, chunks: 1 });
  assert.ok(!p.ok && /only simulated/.test(p.reason) && /1f1b, 2 stages × 8 micro-batches/.test(p.reason));
  const z = applicableChange({ kind: 'zero', zeroStage: 2, gpus: 8 });
  assert.ok(!z.ok && /ZeRO stage 2 on 8 GPUs is only simulated/.test(z.reason));

  const s = suggestion('int8-dynamic');
  const on = { mode: 'profiler' as const, trusted: true, busy: false };
  assert.equal(applyBlocked(on, report, s), null);
  assert.equal(applyBlocked({ ...on, mode: 'report' }, report, s), REPORT_APPLY);
  assert.equal(applyBlocked({ ...on, trusted: false }, report, s), UNTRUSTED_APPLY);
  assert.equal(applyBlocked({ ...on, busy: true }, report, s), 'A run is in progress.');
  assert.match(applyBlocked({ ...on, busy: true }, report, { ...s, change: { kind: 'zero', zeroStage: 3, gpus: 4 } }) ?? '', /only simulated/, 'a lasting reason before a passing one');
  assert.match(applyBlocked(on, { source: { ...report.source, kind: 'memory-plan' } }, s) ?? '', /this report is for a memory plan/);
  assert.equal(applyBlocked({ ...on, trusted: false, mode: 'report' }, report, s), REPORT_APPLY);
});

test('results: matched by the report\'s run and the suggestion id, newest first', () => {
  assert.equal(resultFor([applied], report, 'int8-dynamic'), applied);
  assert.equal(resultFor([applied], report, 'int8-static'), undefined);
  assert.equal(resultFor([applied], { source: { ...report.source, id: 'another-run' } }, 'int8-dynamic'), undefined, 'the same id for another run is not this card\'s');
  const newer = { ...applied, id: 'newer' };
  assert.equal(resultFor([applied, newer], report, 'int8-dynamic'), newer);
});

test('evidence: the largest items first, at most five, and how many more', () => {
  const s = suggestion('int8-dynamic');
  const shuffled = { ...s, evidence: { ...s.evidence, items: [...s.evidence.items].reverse().concat([{ what: 'x', share: 0.001 }, { what: 'y', share: 0.9 }]) } };
  const top = topEvidence(shuffled);
  assert.equal(top.items.length, 5);
  assert.equal(top.items[0].what, 'y');
  assert.ok(top.items.every((it, i) => i === 0 || it.share <= top.items[i - 1].share));
  assert.equal(top.more, shuffled.evidence.items.length - 5);
});

test('headline: baseline facts, configuration without the run, the calibration summary', () => {
  assert.deepEqual(baselineFacts(report).map((f) => f.value), ['318 ms', '25.3 MiB', '13.4 MiB']);
  assert.equal(configText(report, undefined), '2 threads · opt all · input [8×128×256]');
  assert.equal(configText({ ...report, calibration: null }, undefined), 'configuration not in the report');
  const c = calibrationSummary(report.calibration);
  assert.ok(c);
  assert.match(c.when, /in 4\.6 s: 2 threads of 2 cores, opt all, ONNX Runtime 1\.30\.0 \(cpu\)/);
  assert.equal(c.kernels.length, report.calibration?.matmul.length);
  const k0 = report.calibration?.matmul[0];
  assert.ok(k0);
  assert.equal(c.kernels[0].int8, `${(k0.fp32Us / k0.int8DynamicUs).toFixed(2)}×`);
  assert.equal(c.kernels[0].shape, `[${k0.input.join('×')}]·[${k0.k}×${k0.n}]${k0.bias ? '+bias' : ''}`);
  const cal = report.calibration;
  assert.ok(cal);
  assert.equal(calibrationSummary({ ...cal, matmul: [{ ...k0, int4Us: null }] })?.kernels[0].int4, '—', 'int4 not timed');
  assert.equal(calibrationSummary(null), null);
  assert.match(suggestionsPickerLabel(report, 0), /^1\. tiny-bert · inference run · 5 suggestions · \d{4}-/);
  assert.equal(reportForRun([report], report.source.id), report);
  assert.equal(reportForRun([report], 'other'), undefined);
});

test('state: session/init brings reports and results; the tab shows in the panel always, elsewhere with a report', () => {
  const s = reduce(initialState(), { event: 'session/init', params: init({ suggestions: [report], applied: [applied, applied], view: 'suggestions' }) });
  assert.deepEqual(s.suggestionReports, [report]);
  assert.equal(s.applied.length, 1, 'one result per id');
  assert.equal(selectedSuggestions(s), report);
  assert.equal(s.view, 'suggestions');
  assert.ok(viewsFor('profiler').includes('suggestions'));
  assert.deepEqual(viewsFor('profiler').slice(-2), ['training', 'variants']);
  assert.equal(viewsFor('editor').includes('suggestions'), false);
  assert.equal(viewsFor('report').includes('suggestions'), false);
  assert.ok(viewsFor('report', { suggestions: true }).includes('suggestions'));
  const r = reduce(initialState(), { event: 'session/init', params: init({ mode: 'report', suggestions: [report], view: 'suggestions' }) });
  assert.ok(viewsOf(r).includes('suggestions'));
  assert.equal(r.view, 'suggestions');
  const none = reduce(initialState(), { event: 'session/init', params: init({ mode: 'report', view: 'suggestions' }) });
  assert.equal(none.view, 'overview', 'no empty Suggestions tab in a report');
});

test('state: suggestions/added selects the new report and replaces one of the same id; apply/added adds results', () => {
  let s = reduce(initialState(), { event: 'session/init', params: init({ suggestions: [report] }) });
  const other: SuggestionsReport = { ...clone(report), id: 'second' };
  s = reduce(s, { event: 'suggestions/added', params: { report: other } });
  assert.deepEqual(s.suggestionReports.map((r) => r.id), [report.id, 'second']);
  assert.equal(s.selectedSuggestionsId, 'second');
  const again = { ...clone(report), ranking: 'again' };
  s = reduce(s, { event: 'suggestions/added', params: { report: again } });
  assert.deepEqual(s.suggestionReports.map((r) => r.id), ['second', report.id]);
  assert.equal(selectedSuggestions(s)?.ranking, 'again');

  const own = { requestId: 4, phase: 'quantize', done: 1, total: 5, message: 'm', cancelling: false, kind: 'apply' as const, apply: { reportId: report.id, suggestionId: 'int8-dynamic' } };
  s = reduce({ ...s, job: own }, { event: 'apply/added', params: { result: applied } });
  assert.deepEqual(s.applied, [applied]);
  assert.equal(s.job, own, 'the response to advice/apply ends this job, not the result');
  s = reduce({ ...s, job: { ...own, requestId: 0 } }, { event: 'apply/added', params: { result: { ...applied, id: 'b' } } });
  assert.deepEqual(s.applied.map((a) => a.id), [applied.id, 'b']);
  assert.equal(s.job, undefined, 'a host-started apply ends with its result');
  s = reduce(s, { event: 'apply/added', params: { result: applied } });
  assert.deepEqual(s.applied.map((a) => a.id), ['b', applied.id], 'the same id replaces its older copy');
});

test('messages: reports and results pass the schema checks; malformed ones are refused with the path', () => {
  assert.deepEqual(parseHostEvent('suggestions/added', { report }), { event: 'suggestions/added', params: { report } });
  assert.deepEqual(parseHostEvent('apply/added', { result: applied }), { event: 'apply/added', params: { result: applied } });
  const bad = clone(report);
  (bad.suggestions[1].change as { kind: string }).kind = 'magic';
  assert.match(parseHostEvent('suggestions/added', { report: bad }) as string, /^suggestions\/added: suggestions\.suggestions\[1\]\.change\.kind: expected one of: config, pass, pipeline, zero/);
  assert.match(parseHostEvent('apply/added', { result: { ...applied, measured: { ...applied.measured, speedup: -1 } } }) as string, /^apply\/added: apply\.measured\.speedup/);
  assert.match(parseHostEvent('session/init', init({ suggestions: [bad] })) as string, /^session\/init: suggestions\.suggestions\[1\]/);
  assert.match(parseHostEvent('session/init', init({ applied: [{ ...applied, kind: 'nope' } as unknown as ApplyResult] })) as string, /^session\/init: apply\.kind/);
  assert.match(parseHostEvent('session/init', { ...init(), applied: 'x' }) as string, /applied is not an array/);
  assert.equal(typeof parseHostEvent('session/init', init({ suggestions: [report], applied: [applied], view: 'suggestions' })), 'object');
});

test('requests: advice/apply and advice/suggest params are checked', () => {
  assert.deepEqual(validateWebviewRequest('advice/apply', { reportId: 'r', suggestionId: 'int8-dynamic' }).params, { reportId: 'r', suggestionId: 'int8-dynamic' });
  assert.throws(() => validateWebviewRequest('advice/apply', { reportId: 'r' }), /advice\/apply\.suggestionId: expected a string/);
  assert.throws(() => validateWebviewRequest('advice/apply', { reportId: 'r', suggestionId: 'x'.repeat(101) }), /more than the 100 allowed/);
  assert.deepEqual(validateWebviewRequest('advice/suggest', { runId: 'run-1' }).params, { runId: 'run-1' });
  assert.throws(() => validateWebviewRequest('advice/suggest', { runId: 3 }), /advice\/suggest\.runId/);
});

test('validateApplyResult: the fixture passes; each part is checked by its own schema, and the errors must add up', () => {
  assert.equal(validateApplyResult(applied), applied);
  const cases: Array<[(r: ApplyResult) => void, RegExp]> = [
    [(r) => void ((r.estimate as { accuracyRisk: string }).accuracyRisk = 'huge'), / apply\.estimate\.accuracyRisk: expected one of: none, low, medium, high, got "huge"/],
    [(r) => void ((r.suggestion.change as { kind: string }).kind = 'x'), / apply\.suggestion\.change\.kind: expected one of: config, pass, pipeline, zero/],
    [(r) => void (r.error.speedup = 0.5), / apply\.error\.speedup: is 0\.5, but measured ÷ estimated − 1 is 0\.0638/],
    [(r) => void (r.error.memoryBytes = 0), / apply\.error\.memoryBytes: is 0, but measured ÷ estimated − 1 is null/],
    [(r) => void (r.measured.accuracy = { sqnrDb: 20, top1Agreement: 1.5 }), / apply\.measured\.accuracy\.top1Agreement: expected a number in \[0, 1\]/],
    [(r) => void ((r.artifacts.report as unknown as { layers: number }).layers = 3), / apply\.artifacts\.report\.layers: expected an array/],
    [(r) => void ((r.artifacts as { changed: unknown }).changed = { kind: 'inference' }), / apply\.artifacts\.changed\.schemaVersion/],
    [(r) => void ((r as { kind: string }).kind = 'suggestions'), / apply\.kind: expected "apply"/],
    [(r) => void ((r as { schemaVersion: number }).schemaVersion = 2), /schemaVersion 2; this version of the workbench reads 1/],
    [(r) => void (r.source = undefined as unknown as ApplyResult['source']), / apply\.source: expected an object/],
  ];
  for (const [mutate, message] of cases) {
    const r = clone(applied);
    mutate(r);
    assert.throws(() => validateApplyResult(r), message);
  }
  const bare = clone(applied);
  bare.artifacts = {};
  assert.equal(validateApplyResult(bare), bare, 'artifacts are optional');
});

test('offline report: a suggestions document renders on the Suggestions view with Apply off', () => {
  const html = renderDocumentReport({ kind: 'suggestions', report }, { script: '/*app*/', style: '/*css*/' });
  const boot = JSON.parse(/<script type="application\/json" id="twb-boot">([^]*?)<\/script>/.exec(html)?.[1] ?? 'null') as HostEvents['session/init'];
  assert.equal(boot.mode, 'report');
  assert.equal(boot.trusted, false);
  assert.equal(boot.view, 'suggestions');
  assert.deepEqual(boot.suggestions, [report]);
  assert.equal(typeof parseHostEvent('session/init', boot), 'object', 'the boot data passes the webview\'s checks');
});
