import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Envelope } from '../../engine/src/protocol/envelope';
import type { HostEvents } from '../../engine/src/protocol/webview';
import type { InferenceRun } from '../../engine/src/schema/run';
import { HostClient } from '../../webview/src/client';
import { Host, StaticHost, VsCodeHost } from '../../webview/src/host';
import { parseHostEvent, runProblem } from '../../webview/src/messages';
import { draftOf, parseDraft } from '../../webview/src/model/form';
import { canRun, initialState, reduceHostEvent, Store, viewsFor } from '../../webview/src/state';

const fixture = (name: string) => JSON.parse(readFileSync(path.join(__dirname, '../fixtures', name), 'utf8')) as InferenceRun;
const tiny = fixture('tiny-gpt.run.json');
const noopt = fixture('tiny-gpt-noopt.run.json');
const form = { ...tiny.config, model: 'builtin:tiny-gpt' } as unknown as HostEvents['session/init']['form'];
const init = (over: Partial<HostEvents['session/init']> = {}): HostEvents['session/init'] => ({ mode: 'profiler', trusted: true, form, providers: [], runs: [tiny], ...over });

/** A host whose other side is the test. */
function fakeHost(): Host & { sent: Envelope[]; deliver(m: Envelope): void } {
  let handler: ((m: Envelope) => void) | undefined;
  return { kind: 'vscode', sent: [], post(m) { this.sent.push(m); }, listen(h) { handler = h; }, deliver(m) { handler?.(m); } };
}

test('client: request ids count up from 1, responses resolve them, cancel names the id', async () => {
  const host = fakeHost();
  const client = new HostClient(host);
  const a = client.request('run/start', { form });
  const b = client.request('report/export', { runId: 'x' });
  assert.equal(a.id, 1);
  assert.equal(b.id, 2);
  assert.deepEqual(host.sent[0], { kind: 'request', id: 1, method: 'run/start', params: { form } });
  client.cancel(1);
  assert.deepEqual(host.sent[2], { kind: 'cancel', id: 1 });
  host.deliver({ kind: 'response', id: 2, ok: { path: '/tmp/r.html' } });
  host.deliver({ kind: 'response', id: 1, err: { code: 'cancelled', message: 'stopped' } });
  assert.deepEqual(await b.reply, { ok: { path: '/tmp/r.html' } });
  assert.deepEqual(await a.reply, { err: { code: 'cancelled', message: 'stopped' } });
});

test('client: checks event params, reports bad ones with ui/error, answers stray requests', () => {
  const host = fakeHost();
  const client = new HostClient(host);
  const seen: string[] = [];
  client.onEvent((e) => seen.push(e.event));
  host.deliver({ kind: 'event', event: 'view/show', params: { view: 'ops' } });
  host.deliver({ kind: 'event', event: 'view/show', params: { view: 'nowhere' } });
  host.deliver({ kind: 'event', event: 'run/added', params: { run: { ...tiny, trace: { ...tiny.trace, op: [9999] } } } });
  host.deliver({ kind: 'request', id: 7, method: 'ui/poke', params: {} });
  host.deliver({ kind: 'response', id: 42, ok: null });
  assert.deepEqual(seen, ['view/show']);
  const errors = host.sent.filter((m) => m.kind === 'event' && m.event === 'ui/error').map((m) => (m as { params: { message: string } }).params.message);
  assert.equal(errors.length, 3);
  assert.match(errors[0], /unknown view "nowhere"/);
  assert.match(errors[1], /trace/);
  assert.match(errors[2], /unknown request 42/);
  assert.ok(host.sent.some((m) => m.kind === 'response' && m.id === 7 && 'err' in m));
});

test('VS Code host: posts through the API and drops malformed envelopes with ui/error', () => {
  const posted: unknown[] = [];
  let listener: ((e: { data: unknown }) => void) | undefined;
  const host = new VsCodeHost({ postMessage: (m) => posted.push(m) }, { addEventListener: (_t, l) => (listener = l) });
  const got: Envelope[] = [];
  host.listen((m) => got.push(m));
  listener?.({ data: { kind: 'event', event: 'view/show', params: { view: 'ops' } } });
  listener?.({ data: 'hello' });
  listener?.({ data: { kind: 'request', method: 'x/y' } });
  assert.equal(got.length, 1);
  assert.equal(posted.length, 2);
  assert.match(JSON.stringify(posted[0]), /ui\/error.*not an object/);
});

test('static host: answers ui/ready with the boot data as session/init, refuses requests', async () => {
  const queue: Array<() => void> = [];
  const host = new StaticHost(JSON.stringify(init({ mode: 'profiler', trusted: true })), () => {}, (fn) => queue.push(fn));
  const got: Envelope[] = [];
  host.listen((m) => got.push(m));
  host.post({ kind: 'event', event: 'ui/ready', params: {} });
  host.post({ kind: 'request', id: 3, method: 'run/start', params: {} });
  assert.equal(got.length, 0, 'delivered asynchronously, as a host would');
  for (const fn of queue) fn();
  const e = got[0] as { kind: 'event'; event: string; params: HostEvents['session/init'] };
  assert.equal(e.event, 'session/init');
  assert.equal(e.params.mode, 'report', 'a report is always a report');
  assert.equal(e.params.trusted, false);
  assert.equal(e.params.runs[0].id, tiny.id);
  assert.ok(got[1].kind === 'response' && 'err' in got[1] && /offline report/.test(got[1].err.message));
});

test('static host: a missing or broken boot block becomes an init with an error', () => {
  for (const boot of [null, '{not json', '[1,2]']) {
    const got: Envelope[] = [];
    const host = new StaticHost(boot, () => {}, (fn) => fn());
    host.listen((m) => got.push(m));
    host.post({ kind: 'event', event: 'ui/ready', params: {} });
    const params = (got[0] as { params: HostEvents['session/init'] }).params;
    assert.equal(params.runs.length, 0);
    assert.match(params.error?.message ?? '', /run data/);
    assert.equal(typeof parseHostEvent('session/init', params), 'object', 'still a valid init');
  }
});

test('messages: a run must have the arrays the views index', () => {
  assert.equal(runProblem(tiny), undefined);
  assert.match(runProblem({ ...tiny, ops: null }) ?? '', /ops is not an array/);
  assert.match(runProblem({ ...tiny, trace: { ...tiny.trace, durUs: [] } }) ?? '', /differ in length/);
  assert.match(runProblem({ ...tiny, latencyMs: {} }) ?? '', /latencyMs/);
  assert.equal(typeof parseHostEvent('run/progress', { requestId: 1, phase: 'x', done: 1, total: 2, message: 'm' }), 'object');
  assert.match(parseHostEvent('session/init', init({ mode: 'kiosk' as never })) as string, /unknown mode/);
});

test('state: init selects the latest run; run/added selects the new one and updates the default pair', () => {
  let s = { ...initialState(), ...reduceHostEvent(initialState(), { event: 'session/init', params: init() }) };
  assert.equal(s.selectedId, tiny.id);
  assert.equal(s.compare, undefined);
  assert.equal(canRun(s), true);
  s = { ...s, ...reduceHostEvent(s, { event: 'run/added', params: { run: noopt } }) };
  assert.equal(s.selectedId, noopt.id);
  assert.deepEqual(s.compare, { baseId: tiny.id, otherId: noopt.id, explicit: false });
  s = { ...s, ...reduceHostEvent(s, { event: 'compare/show', params: { baseId: noopt.id, otherId: tiny.id } }) };
  assert.equal(s.view, 'compare');
  const third = { ...tiny, id: 'third' };
  s = { ...s, ...reduceHostEvent(s, { event: 'run/added', params: { run: third } }) };
  assert.deepEqual(s.compare, { baseId: noopt.id, otherId: tiny.id, explicit: true }, 'an explicit pair stays');
  s = { ...s, ...reduceHostEvent(s, { event: 'run/added', params: { run: third } }) };
  assert.equal(s.runs.length, 3, 'a run added twice is listed once');
});

test('state: progress of host-started runs (id 0) shows; of unknown requests is ignored', () => {
  let s = { ...initialState(), ...reduceHostEvent(initialState(), { event: 'session/init', params: init() }) };
  s = { ...s, ...reduceHostEvent(s, { event: 'run/progress', params: { requestId: 5, phase: 'p', done: 1, total: 2, message: 'm' } }) };
  assert.equal(s.job, undefined);
  s = { ...s, ...reduceHostEvent(s, { event: 'run/progress', params: { requestId: 0, phase: 'p', done: 1, total: 2, message: 'host run' } }) };
  assert.equal(s.job?.message, 'host run');
  s = { ...s, ...reduceHostEvent(s, { event: 'run/added', params: { run: noopt } }) };
  assert.equal(s.job, undefined, 'the host run finished');
});

test('state: reports have no Toggles and cannot run; untrusted workspaces cannot run', () => {
  assert.equal(viewsFor('report').includes('toggles'), false);
  assert.equal(viewsFor('editor').length, 7);
  assert.equal(viewsFor('report').includes('quantization'), false, 'a report without compression reports has no Quantization view');
  assert.equal(viewsFor('report', { compressions: true }).includes('quantization'), true);
  const r = { ...initialState(), ...reduceHostEvent(initialState(), { event: 'session/init', params: init({ mode: 'report', view: 'toggles' }) }) };
  assert.equal(r.view, 'overview');
  assert.equal(canRun(r), false);
  const u = { ...initialState(), ...reduceHostEvent(initialState(), { event: 'session/init', params: init({ trusted: false }) }) };
  assert.equal(canRun(u), false);
});

test('store: subscribers see the new and previous state; empty changes notify nobody', () => {
  const store = new Store();
  const calls: Array<[string, string]> = [];
  store.subscribe((s, prev) => calls.push([s.view, prev.view]));
  store.update({ view: 'ops' });
  store.update({});
  store.update((s) => ({ view: s.view === 'ops' ? 'memory' : 'overview' }));
  assert.deepEqual(calls, [
    ['ops', 'overview'],
    ['memory', 'ops'],
  ]);
});

test('form: counts must be integers in range; 0 allowed only where it means something', () => {
  const ok = parseDraft({ ...draftOf(form), batch: ' 4 ' });
  assert.ok('form' in ok && ok.form.batch === 4 && ok.form.threads === form.threads);
  const bad = parseDraft({ ...draftOf(form), batch: '0', seq: '12.5', runs: '-3', threads: '0', past: '0', model: ' ' });
  assert.ok('errors' in bad);
  assert.deepEqual(Object.keys(bad.errors).sort(), ['batch', 'model', 'runs', 'seq']);
  assert.match(bad.errors.batch ?? '', /positive integer.*"0"/);
  assert.ok('errors' in parseDraft({ ...draftOf(form), profiledRuns: '1e9' }));
  assert.ok('errors' in parseDraft({ ...draftOf(form), optLevel: 'max' }));
});
