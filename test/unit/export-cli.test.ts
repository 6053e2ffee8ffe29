/**
 * `twb export` and `twb profile --config`: an exported twb config reproduces the run's options;
 * ORT session options load in onnxruntime-node as written; the Python snippet parses; the
 * ORT-optimized model is a valid, smaller graph; wrong documents and formats are named.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodeModel } from '../../engine/src/onnx/codec';
import { validateRun } from '../../engine/src/schema/validate-run';
import { builtinModel } from './helpers/models';
import { runTwb } from './helpers/cli';
import { REPO_ROOT } from './helpers/paths';

const dir = mkdtempSync(path.join(os.tmpdir(), 'twb-export-cli-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const twb = (...args: string[]) => runTwb(dir, args);
const read = (name: string) => readFileSync(path.join(dir, name), 'utf8');
const QUICK = ['--warmup', '1', '--runs', '3', '--profiled-runs', '2', '--quiet'];

test('a twb config reproduces the run it was exported from; options given beside it win', async () => {
  const r = await twb('profile', 'builtin:tiny-gpt', '--threads', '1', '--opt-level', 'basic', '--batch', '2', '--seq', '16', '--seed', '3', ...QUICK, '--json', 'r.json');
  assert.equal(r.code, 0, r.stderr);
  const e = await twb('export', 'r.json', '--format', 'twb', '--out', 'cfg/tuned.json');
  assert.equal(e.code, 0, e.stderr);
  assert.match(e.stdout, /reproduce it with: twb profile --config cfg\/tuned\.json/);
  const cfg = JSON.parse(read('cfg/tuned.json'));
  assert.equal(cfg.schemaVersion, 1);
  assert.equal(cfg.kind, 'twb-config');
  const again = await twb('profile', '--config', 'cfg/tuned.json', '--json', 'r2.json', '--quiet');
  assert.equal(again.code, 0, again.stderr);
  const [a, b] = [validateRun(JSON.parse(read('r.json'))), validateRun(JSON.parse(read('r2.json')))];
  assert.deepEqual(b.config, a.config, 'the same options');
  assert.equal(b.model.source, a.model.source);
  assert.deepEqual(b.model.inputs.map((i) => i.dims), a.model.inputs.map((i) => i.dims), 'the same input shapes');
  const override = await twb('profile', '--config', 'cfg/tuned.json', '--threads', '2', '--json', 'r3.json', '--quiet');
  assert.equal(override.code, 0, override.stderr);
  assert.equal(JSON.parse(read('r3.json')).config.threads, 2);
});

test('a model file\'s path is kept relative to the config, so the pair can move together', async () => {
  mkdirSync(path.join(dir, 'models'), { recursive: true });
  assert.equal((await twb('model', 'builtin:tiny-bert', '--out', 'models/tb.onnx')).code, 0);
  // twb resolves a model path from the folder it runs in; this test's twb runs in-process elsewhere.
  const p = await twb('profile', path.join(dir, 'models/tb.onnx'), '--batch', '1', '--seq', '8', ...QUICK, '--json', 'tb.json');
  assert.equal(p.code, 0, p.stderr);
  assert.equal((await twb('export', 'tb.json', '--format', 'twb', '--out', 'models/tb.twb.json')).code, 0);
  assert.equal(JSON.parse(read('models/tb.twb.json')).model, 'tb.onnx');
  const r = await twb('profile', '--config', 'models/tb.twb.json', '--json', 'tb2.json', '--quiet');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(read('tb2.json')).model.name, 'tb.onnx');
});

test('ORT session options: JSON and a JS snippet that onnxruntime-node opens as written; a Python snippet that parses', async () => {
  assert.equal((await twb('export', 'tb.json', '--format', 'ort', '--out', 'models/ort.json')).code, 0);
  const json = JSON.parse(read('models/ort.json'));
  assert.deepEqual(json.sessionOptions.executionProviders, ['cpu']);
  assert.equal(json.model, 'tb.onnx');
  assert.equal((await twb('export', 'tb.json', '--format', 'ort-js', '--out', 'models/ort-session.js')).code, 0);
  const script = `require(${JSON.stringify(path.join(dir, 'models/ort-session.js'))}).openSession(${JSON.stringify(path.join(dir, 'models/tb.onnx'))}).then((s) => console.log(s.inputNames.join(',')))`;
  const out = execFileSync(process.execPath, ['-e', script], { env: { ...process.env, NODE_PATH: path.join(REPO_ROOT, 'node_modules'), ORT_DISABLE_TELEMETRY: '1' }, encoding: 'utf8' });
  assert.match(out.trim(), /input_ids/);
  assert.equal((await twb('export', 'r.json', '--format', 'ort-python', '--out', 'ort_session.py')).code, 0);
  const py = read('ort_session.py');
  assert.match(py, /GraphOptimizationLevel\.ORT_ENABLE_BASIC/);
  assert.match(py, /intra_op_num_threads = 1/);
  execFileSync('/usr/bin/python3', ['-c', 'import ast,sys; ast.parse(sys.stdin.read())'], { input: py });
});

test('ort-model writes the graph ORT runs after its fusions', async () => {
  const r = await twb('profile', 'builtin:tiny-bert', '--batch', '1', '--seq', '8', ...QUICK, '--json', 'all.json');
  assert.equal(r.code, 0, r.stderr);
  const e = await twb('export', 'all.json', '--format', 'ort-model', '--out', 'opt.onnx');
  assert.equal(e.code, 0, e.stderr);
  const optimized = decodeModel(readFileSync(path.join(dir, 'opt.onnx')));
  assert.ok(optimized.graph.node.length < builtinModel('tiny-bert').graph.node.length, 'fused: fewer nodes than the stored graph');
});

test('the report, the distributed formats and errors', async () => {
  assert.equal((await twb('export', 'r.json', '--format', 'report', '--out', 'r.html')).code, 0);
  assert.match(read('r.html'), /<html/i);
  assert.equal((await twb('memory-plan', '--params', '1B', '--gpus', '8', '--zero', '1', '--json', 'mp.json')).code, 0);
  assert.equal((await twb('export', 'mp.json', '--format', 'deepspeed', '--out', 'ds.json')).code, 0);
  assert.equal(JSON.parse(read('ds.json')).zero_optimization.stage, 1);
  writeFileSync(path.join(dir, 'cut.json'), '{"schemaVersion": 1, "kind": "twb-config", "model"');
  const cases: Array<[string[], RegExp, number]> = [
    [['export', 'r.json'], /twb export needs --format/, 2],
    [['export', 'r.json', '--format', 'onnx'], /unknown export format "onnx"; expected one of: twb, ort, ort-python, ort-js, ort-model, report, deepspeed/, 2],
    [['export', 'r.json', '--format', 'deepspeed'], /exports a pipeline plan or a memory plan; "r\.json" is an inference run/, 2],
    [['export', 'mp.json', '--format', 'twb'], /exports an inference run .*"mp\.json" is a memory plan/, 2],
    [['profile', '--config', 'cut.json'], /"cut\.json": /, 1],
    [['profile', '--config', 'nope.json'], /config file "nope\.json" cannot be read/, 1],
  ];
  for (const [args, message, code] of cases) {
    const r = await twb(...args);
    assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
  }
});
