import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { engineParamValidators } from '../../engine/src/protocol/engine';
import { Envelope } from '../../engine/src/protocol/envelope';
import { CompressForm, validateWebviewRequest } from '../../engine/src/protocol/webview';
import { CompressionReport } from '../../engine/src/schema/compression';
import { EngineServer, Handlers } from '../../engine/src/server/server';
import { parseHostEvent } from '../../webview/src/messages';
import { compressFormOf, keptList, modeLabel, reportPickerLabel } from '../../webview/src/model/compress-form';
import { initialState, reduceHostEvent, selectedReport } from '../../webview/src/state';

const report = JSON.parse(readFileSync(path.join(__dirname, '../fixtures/tiny-bert.int8.quant.json'), 'utf8')) as CompressionReport;
const form: CompressForm = { model: 'builtin:tiny-bert', mode: 'int8-dynamic', perChannel: true, exclude: ['layer0/ffn/up'], batch: 1, seq: 128, threads: 2, runs: 5 };
const start = (f: unknown) => validateWebviewRequest<'compress/start'>('compress/start', { form: f });

test('compress/start: a good form passes; each bad field is named with what was expected', () => {
  assert.deepEqual(start(form).params.form, form);
  assert.equal(start({ ...form, mode: 'magnitude', perChannel: false, amount: 0.5 }).params.form.amount, 0.5);
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ mode: 'int3' }, /compress\/start\.form\.mode: expected one of: int8-dynamic, int8-static, int4-weight, fp16, magnitude, 2:4, heads, got "int3"/],
    [{ model: 42 }, /compress\/start\.form\.model: expected a string, got number/],
    [{ model: '  ' }, /form\.model: expected a non-empty string/],
    [{ perChannel: 'yes' }, /form\.perChannel: expected a boolean/],
    [{ batch: 0 }, /form\.batch: expected an integer in \[1, 65536\], got 0/],
    [{ seq: 1.5 }, /form\.seq: expected an integer in \[1, 1048576\], got 1\.5/],
    [{ runs: Infinity }, /form\.runs: expected an integer in \[1, 100000\], got Infinity/],
    [{ threads: NaN }, /form\.threads: expected an integer in \[0, 1024\], got NaN/],
    [{ amount: 1 }, /form\.amount: expected a fraction in \[0, 1\), got 1/],
    [{ amount: -0.1 }, /form\.amount: expected a number in \[0, 1\], got -0\.1/],
    [{ blockSize: 8 }, /form\.blockSize: expected an integer in \[16, 256\], got 8/],
    [{ calibrate: 'mse' }, /form\.calibrate: expected one of: minmax, percentile, entropy, got "mse"/],
    [{ method: 'awq' }, /form\.method: expected one of: rtn, gptq, got "awq"/],
    [{ exclude: 'layer0' }, /form\.exclude: expected an array, got string/],
    [{ exclude: ['ok', 7] }, /form\.exclude\[1\]: expected a string, got number/],
    [{ exclude: Array.from({ length: 10_001 }, (_, i) => `n${i}`) }, /form\.exclude: 10001 items, more than the 10000 allowed/],
    [{ evalFile: 3 }, /form\.evalFile: expected a string/],
  ];
  for (const [change, message] of cases) assert.throws(() => start({ ...form, ...change }), message, JSON.stringify(change).slice(0, 80));
  assert.equal(start({ ...form, exclude: Array.from({ length: 10_000 }, (_, i) => `n${i}`) }).params.form.exclude.length, 10_000, '10 000 names are allowed');
  assert.throws(() => validateWebviewRequest('compress/start', {}), /compress\/start\.form: expected an object, got undefined/);
});

test('compress/run: model, mode and out are required; the rest is optional but checked', () => {
  const check = engineParamValidators['compress/run'];
  const request = { model: '/m/model.onnx', mode: 'int8-dynamic', out: '/m/model.int8-dynamic.onnx' };
  assert.deepEqual(check({ request }, 'compress/run'), { request });
  assert.throws(() => check({ request: { ...request, out: undefined } }, 'compress/run'), /compress\/run\.request\.out: expected a string, got undefined/);
  assert.throws(() => check({ request: { ...request, threads: -1 } }, 'compress/run'), /request\.threads: expected an integer in \[0, 1024\], got -1/);
  assert.throws(() => check({ request: { ...request, seed: 2 ** 33 } }, 'compress/run'), /request\.seed: expected an integer/);
  assert.throws(() => check({ request: { ...request, exclude: [{}] } }, 'compress/run'), /request\.exclude\[0\]: expected a string, got object/);
});

test('the engine server answers a bad compress/run with the field, and a good one through the handler with progress', async () => {
  const sent: Envelope[] = [];
  const handlers = {
    'compress/run': async (_params: unknown, ctx: { requestId: number; emit: (e: string, p: unknown) => void }) => {
      ctx.emit('compress/progress', { requestId: ctx.requestId, phase: 'transform', done: 0, total: 1, message: 'running int8-dynamic' });
      return report;
    },
  } as unknown as Handlers;
  const server = new EngineServer(handlers, (e) => sent.push(e));
  await server.receive({ kind: 'request', id: 1, method: 'compress/run', params: { request: { model: 'builtin:tiny-bert', mode: 'int9', out: '/x.onnx' } } });
  await server.receive({ kind: 'request', id: 2, method: 'compress/run', params: { request: { model: 'builtin:tiny-bert', mode: 'int8-dynamic', out: '/x.onnx' } } });
  const responses = sent.filter((e) => e.kind === 'response') as Array<{ id: number; ok?: unknown; err?: { message: string } }>;
  assert.match(responses[0].err?.message ?? '', /compress\/run\.request\.mode: expected one of/);
  assert.equal((responses[1].ok as CompressionReport).id, report.id);
  assert.ok(sent.some((e) => e.kind === 'event' && e.event === 'compress/progress' && (e.params as { requestId: number }).requestId === 2));
});

test('host events: compress/added and session/init compressions are checked against the schema', () => {
  const ok = parseHostEvent('compress/added', { report });
  assert.equal(typeof ok === 'string' ? ok : ok.event, 'compress/added');
  assert.match(parseHostEvent('compress/added', { report: { ...report, layers: 'none' } }) as string, /^compress\/added: report\.layers: expected an array/);
  const init = { mode: 'profiler', trusted: true, form: {}, providers: [], runs: [] };
  assert.equal(typeof parseHostEvent('session/init', { ...init, compressions: [report] }), 'object');
  assert.match(parseHostEvent('session/init', { ...init, compressions: {} }) as string, /compressions is not an array/);
  assert.match(parseHostEvent('session/init', { ...init, compressions: [{ ...report, schemaVersion: 9 }] }) as string, /session\/init: report\.schemaVersion/);
  assert.equal(typeof parseHostEvent('view/show', { view: 'quantization' }), 'object');
});

test('state: reports from session/init and compress/added; the newest is selected', () => {
  const init = { mode: 'profiler' as const, trusted: true, form: initialState().form, providers: [], runs: [] };
  let s = { ...initialState(), ...reduceHostEvent(initialState(), { event: 'session/init', params: { ...init, compressions: [report] } }) };
  assert.equal(selectedReport(s)?.id, report.id);
  const second = { ...report, id: 'second', config: { ...report.config, exclude: ['layer0/ffn/up'] } };
  s = { ...s, ...reduceHostEvent(s, { event: 'run/progress', params: { requestId: 0, phase: 'transform', done: 0, total: 1, message: 'host compress' } }) };
  assert.equal(s.job?.message, 'host compress');
  s = { ...s, ...reduceHostEvent(s, { event: 'compress/added', params: { report: second } }) };
  assert.deepEqual(s.compressions.map((r) => r.id), [report.id, 'second']);
  assert.equal(selectedReport(s)?.id, 'second');
  assert.equal(s.job, undefined, 'the host-started job ended with its report');
  s = { ...s, ...reduceHostEvent(s, { event: 'compress/added', params: { report } }) };
  assert.deepEqual(s.compressions.map((r) => r.id), ['second', report.id], 'a report added again moves to the end, once');
});

test('re-run form: the report\'s config with the new keep list, in a stable order', () => {
  const keep = new Set([report.layers[5].node, report.layers[1].node, 'extra']);
  const list = keptList(report, keep);
  assert.deepEqual(list, [report.layers[1].node, report.layers[5].node, 'extra']);
  const f = compressFormOf(report, list);
  assert.deepEqual(f, { model: 'builtin:tiny-bert', mode: 'int8-dynamic', perChannel: true, exclude: list, batch: report.config.batch, seq: report.config.seq, threads: report.config.threads, runs: report.config.runs });
  assert.doesNotThrow(() => start(f), 'the form passes the host\'s validation');
  const pruned = { ...report, kind: 'pruning' as const, config: { ...report.config, mode: 'magnitude' as const, perChannel: false, amount: 0.5 } };
  assert.equal(compressFormOf(pruned, []).amount, 0.5);
  assert.equal(modeLabel(pruned), 'magnitude 50%');
  assert.match(reportPickerLabel(report, 0), /^#1 int8-dynamic per-channel tiny-bert — \d+\.\d\d× · \d+\.\d dB$/);
});
