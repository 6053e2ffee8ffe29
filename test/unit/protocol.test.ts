import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseEnvelope } from '../../engine/src/protocol/envelope';
import { validateWebviewEvent, validateWebviewRequest } from '../../engine/src/protocol/webview';
import { EngineServer, Handlers } from '../../engine/src/server/server';
import { Envelope } from '../../engine/src/protocol/envelope';
import { TwbError } from '../../engine/src/util/errors';

test('envelopes: well-formed ones pass, anything else gets a reason', () => {
  assert.deepEqual(parseEnvelope({ kind: 'request', id: 1, method: 'run/start', params: { a: 1 } }), { kind: 'request', id: 1, method: 'run/start', params: { a: 1 } });
  assert.deepEqual(parseEnvelope({ kind: 'response', id: 2, err: { code: 'io', message: 'x', hint: 'h' } }), { kind: 'response', id: 2, err: { code: 'io', message: 'x', hint: 'h' } });
  assert.deepEqual(parseEnvelope({ kind: 'cancel', id: 3 }), { kind: 'cancel', id: 3 });
  for (const [bad, why] of [
    [null, /not an object/],
    ['run/start', /not an object/],
    [{ kind: 'request', id: -1, method: 'run/start' }, /numeric id/],
    [{ kind: 'request', id: 1, method: 'RunStart' }, /malformed method/],
    [{ kind: 'request', id: 1, method: '__proto__/x' }, /malformed method/],
    [{ kind: 'event', event: 42 }, /malformed name/],
    [{ kind: 'response', id: 1, err: 'boom' }, /malformed error/],
    [{ kind: 'shout' }, /unknown message kind/],
  ] as Array<[unknown, RegExp]>) {
    const r = parseEnvelope(bad);
    assert.equal(typeof r, 'string', JSON.stringify(bad));
    assert.match(r as string, why);
  }
});

const form = { model: 'builtin:tiny-gpt', executionProvider: 'cpu', threads: 2, optLevel: 'all', batch: 1, seq: 128, past: 0, warmup: 5, runs: 30, profiledRuns: 10 };

test('webview requests and events are validated field by field', () => {
  assert.equal(validateWebviewRequest<'run/start'>('run/start', { form }).params.form.batch, 1);
  assert.throws(() => validateWebviewRequest('run/start', { form: { ...form, batch: '4' } }), /run\/start\.form\.batch: expected a number, got string/);
  assert.throws(() => validateWebviewRequest('run/start', {}), /run\/start\.form: expected an object, got undefined/);
  assert.throws(() => validateWebviewRequest('fs/delete', {}), /unknown webview request "fs\/delete"; expected one of: run\/start, report\/export/);
  assert.throws(() => validateWebviewRequest('constructor', {}), /unknown webview request/);
  assert.throws(() => validateWebviewRequest('report/export', { runId: 7 }), /runId: expected a string/);
  assert.deepEqual(validateWebviewEvent('ui/ready', undefined).params, {});
  assert.throws(() => validateWebviewEvent('ui/error', { message: {} }), /ui\/error\.message: expected a string/);
});

test('the engine server answers every request once, also when the handler throws or params are bad', async () => {
  const sent: Envelope[] = [];
  const handlers = {
    'engine/hello': async () => {
      throw new TwbError('io', 'disk on fire');
    },
    'model/summary': async ({ model }: { model: string }) => ({ name: model }),
  } as unknown as Handlers;
  const server = new EngineServer(handlers, (e) => sent.push(e));
  await server.receive({ kind: 'request', id: 1, method: 'engine/hello', params: {} });
  await server.receive({ kind: 'request', id: 2, method: 'model/summary', params: { model: 3 } });
  await server.receive({ kind: 'request', id: 3, method: 'model/summary', params: { model: 'm' } });
  await server.receive({ kind: 'request', id: 4, method: 'nope/nope', params: {} });
  await server.receive('garbage');
  const responses = sent.filter((e) => e.kind === 'response');
  assert.deepEqual(responses.map((r) => r.id), [1, 2, 3, 4]);
  assert.deepEqual((responses[0] as { err: unknown }).err, { code: 'io', message: 'disk on fire' });
  assert.match((responses[1] as { err: { message: string } }).err.message, /model\/summary\.model: expected a string/);
  assert.deepEqual((responses[2] as { ok: unknown }).ok, { name: 'm' });
  assert.match((responses[3] as { err: { message: string } }).err.message, /unknown engine method/);
  assert.ok(sent.some((e) => e.kind === 'event' && e.event === 'log/write'), 'garbage is logged, not answered');
});
