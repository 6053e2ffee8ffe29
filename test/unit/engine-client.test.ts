import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { EngineClient, EngineError } from '../../extension/src/engine-client';
import { REALDATA, REPO_ROOT } from './helpers/paths';

const logs: string[] = [];
const crashes: string[] = [];
const client = new EngineClient({
  serverPath: path.join(REPO_ROOT, 'dist/engine-server.js'),
  log: (level, message) => logs.push(`${level}: ${message}`),
  onCrash: (r) => crashes.push(r),
});
after(() => client.dispose());

test('hello answers from a separate process', async () => {
  const hello = await client.request('engine/hello', {});
  assert.notEqual(hello.pid, process.pid);
  assert.match(hello.version, /^\d+\.\d+\.\d+/);
});

test('profile/run returns a Run and streams progress for its request', async () => {
  const phases = new Set<string>();
  const run = await client.request('profile/run', { request: { model: 'builtin:tiny-bert', seq: 8, warmup: 0, runs: 2, profiledRuns: 1 } }, {
    onEvent: (event, p) => event === 'profile/progress' && phases.add((p as { phase: string }).phase),
  });
  assert.equal(run.model.name, 'builtin:tiny-bert');
  assert.deepEqual([...phases], ['load', 'latency', 'profile', 'analyze']);
});

test('report/render returns the HTML report of a run; model/summary describes a real model', async () => {
  const run = await client.request('profile/run', { request: { model: 'builtin:tiny-gpt', seq: 8, warmup: 0, runs: 1, profiledRuns: 1 } });
  const { html } = await client.request('report/render', { run });
  assert.match(html, /^<!DOCTYPE html>/);
  assert.ok(html.includes(`"id":"${run.id}"`));
  const summary = await client.request('model/summary', { model: path.join(REALDATA, 'onnx/optimum/tiny-distilbert-classification/model.onnx') });
  assert.deepEqual(summary.inputs.map((i) => [i.name, i.dims]), [['input_ids', ['batch', 'sequence']], ['attention_mask', ['batch', 'sequence']]]);
  assert.equal(summary.opset, 11);
});

test('errors come back as values with their code; bad params are rejected', async () => {
  await assert.rejects(client.request('model/summary', { model: '/nonexistent/model.onnx' }), (e: EngineError) => e.value.code === 'io' && /does not exist/.test(e.message));
  await assert.rejects(client.request('profile/run', { request: { model: 'builtin:tiny-gpt', runs: 'ten' as unknown as number } }), (e: EngineError) => /profile\/run\.request\.runs: expected a number/.test(e.message));
  await assert.rejects(client.request('no/such' as 'engine/hello', {}), (e: EngineError) => /unknown engine method "no\/such"/.test(e.message));
});

test('cancel stops a long profile with a cancelled error', async () => {
  const controller = new AbortController();
  const p = client.request('profile/run', { request: { model: 'builtin:tiny-gpt', seq: 16, warmup: 0, runs: 100000, profiledRuns: 1 } }, {
    signal: controller.signal,
    onEvent: (event, params) => event === 'profile/progress' && (params as { done: number; phase: string }).phase === 'latency' && (params as { done: number }).done >= 2 && controller.abort(),
  });
  await assert.rejects(p, (e: EngineError) => e.value.code === 'cancelled');
});

test('a crashed engine fails its pending request clearly and restarts on the next one', async () => {
  const pid = client.pid;
  assert.ok(pid);
  const p = client.request('profile/run', { request: { model: 'builtin:tiny-gpt', warmup: 0, runs: 100000, profiledRuns: 1 } }, {
    onEvent: () => process.kill(pid, 'SIGKILL'),
  });
  await assert.rejects(p, (e: EngineError) => /killed by SIGKILL.*run it again/.test(e.message));
  assert.equal(crashes.length, 1);
  const hello = await client.request('engine/hello', {});
  assert.notEqual(hello.pid, pid, 'a fresh engine process');
});
