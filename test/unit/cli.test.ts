import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REALDATA, REPO_ROOT } from './helpers/paths';
import { validateRun } from '../../engine/src/schema/validate-run';

/** The bundle users run (`npm test` builds it first), so the tests cover what ships. */
const CLI = path.join(REPO_ROOT, JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')).bin.twb);

function twb(args: string[], cwd = REPO_ROOT, env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '', ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const noStack = (s: string) => assert.doesNotMatch(s, /^\s+at .*\(.*:\d+:\d+\)/m, 'no stack trace without --debug');

test('usage errors exit 2 with a message', () => {
  for (const [args, message] of [
    [[], /Usage:/],
    [['frobnicate'], /unknown command "frobnicate"; expected one of: profile, model, quantize, prune, report, eps, help/],
    [['profile'], /needs a model/],
    [['profile', 'builtin:tiny-gpt', '--bogus'], /unknown option --bogus/],
    [['profile', 'builtin:tiny-gpt', '--runs', 'many'], /--runs expects a non-negative integer/],
    [['profile', 'builtin:tiny-gpt', '--ep', 'cuda2'], /unknown execution provider "cuda2"; expected one of: cpu, webgpu, cuda/],
    [['profile', 'builtin:tiny-gpt', '--opt-level', 'max'], /unknown optimization level "max"; expected one of: disabled, basic, extended, all/],
    [['profile', 'builtin:nope'], /unknown built-in model "builtin:nope"; expected one of: builtin:tiny-bert, builtin:tiny-gpt/],
    [['profile', 'builtin:tiny-gpt', '--dim', 'batch'], /--dim expects NAME=N/],
    [['model', 'builtin:tiny-gpt'], /needs --out/],
    [['model', 'some.onnx', '--out', 'x.onnx'], /writes built-in models only/],
  ] as Array<[string[], RegExp]>) {
    const r = twb(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(args.length === 0 ? r.stdout : r.stderr, message);
    noStack(r.stderr);
  }
});

test('help and version exit 0', () => {
  assert.equal(twb(['--help']).code, 0);
  assert.equal(twb(['--version']).stdout.trim(), JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')).version);
});

test('failures exit 1 with one clear line and no stack', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'twb-cli-'));
  try {
    const garbage = path.join(dir, 'garbage.onnx');
    await fs.writeFile(garbage, 'this is not a model at all, just text\n'.repeat(10));
    const truncated = path.join(dir, 'truncated.onnx');
    const real = readFileSync(path.join(REALDATA, 'onnx/optimum/tiny-distilbert-classification/model.onnx'));
    await fs.writeFile(truncated, real.subarray(0, Math.floor(real.length / 2)));
    const empty = path.join(dir, 'empty.onnx');
    await fs.writeFile(empty, '');
    for (const [args, message] of [
      [['profile', path.join(dir, 'missing.onnx')], /model file ".*missing\.onnx" does not exist/],
      [['profile', garbage], /garbage\.onnx" is not a valid ONNX model/],
      [['profile', truncated], /truncated\.onnx" is not a valid ONNX model: .*(truncated|past end)/],
      [['profile', empty], /empty\.onnx" is empty/],
      [['profile', dir], /is not a file/],
      [['profile', path.join(REALDATA, 'onnx/onnxruntime/transformers_test_data/gemmfastgelu_nobias_opt.onnx')], /no cpu kernel for op GemmFastGelu/],
    ] as Array<[string[], RegExp]>) {
      const r = twb([...args, '--quiet']);
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.match(r.stderr.split('\n')[0], /^twb: /);
      noStack(r.stderr);
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('an execution provider that is not usable here fails listing those that are', () => {
  const eps = twb(['eps']);
  assert.equal(eps.code, 0);
  assert.match(eps.stdout, /^cpu\s+available$/m);
  const webgpuMissing = /^webgpu\s+unavailable/m.test(eps.stdout);
  if (!webgpuMissing) return; // a machine with a GPU adapter: nothing to refuse
  const r = twb(['profile', 'builtin:tiny-gpt', '--ep', 'webgpu', '--quiet']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /execution provider "webgpu" is not available on this machine \(.+\); available here: cpu/);
  assert.match(r.stderr, /hint: .*--ep cpu/);
});

test('twb model writes a byte-identical built-in for a seed; twb profile writes a valid Run', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'twb-cli-'));
  try {
    assert.equal(twb(['model', 'builtin:tiny-bert', '--out', 'a.onnx', '--seed', '3'], dir).code, 0);
    assert.equal(twb(['model', 'builtin:tiny-bert', '--out', 'b.onnx', '--seed', '3'], dir).code, 0);
    assert.ok(readFileSync(path.join(dir, 'a.onnx')).equals(readFileSync(path.join(dir, 'b.onnx'))));

    const r = twb(['profile', 'a.onnx', '--seq', '8', '--runs', '2', '--warmup', '1', '--profiled-runs', '1', '--json', 'out/run.json', '--save'], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /latency\s+p50 [\d.]+ ms · p90 [\d.]+ ms/);
    assert.match(r.stdout, /Top \d+ of \d+ nodes/);
    const run = validateRun(JSON.parse(readFileSync(path.join(dir, 'out/run.json'), 'utf8')));
    assert.equal(run.model.name, 'a.onnx');
    const kept = await fs.readdir(path.join(dir, '.twb/runs'));
    assert.deepEqual(kept, [`${run.id}.json`]);
    // Nothing else was written into the working folder.
    assert.deepEqual((await fs.readdir(dir)).sort(), ['.twb', 'a.onnx', 'b.onnx', 'out']);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('a profile leaves nothing in the temp folder (ORT telemetry and debug logs are off)', async () => {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'twb-tmpdir-'));
  try {
    const r = twb(['profile', 'builtin:tiny-gpt', '--seq', '8', '--runs', '1', '--warmup', '0', '--profiled-runs', '1', '--quiet'], REPO_ROOT, { TMPDIR: tmp });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await fs.readdir(tmp), []);
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
});

test('twb report writes a self-contained HTML report of a Run; bad run files fail cleanly', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'twb-report-'));
  try {
    const fixture = path.join(REPO_ROOT, 'test/fixtures/tiny-gpt.run.json');
    const r = twb(['report', fixture, '--out', 'r.html'], dir);
    assert.equal(r.code, 0, r.stderr);
    const html = readFileSync(path.join(dir, 'r.html'), 'utf8');
    assert.match(html, /default-src 'none'/);
    assert.ok(html.includes(readFileSync(path.join(REPO_ROOT, 'dist/webview/main.css'), 'utf8').slice(0, 200)), 'the stylesheet is inlined');
    const boot = JSON.parse(/<script type="application\/json" id="twb-boot">([\s\S]*?)<\/script>/.exec(html)![1]);
    assert.equal(boot.runs[0].id, JSON.parse(readFileSync(fixture, 'utf8')).id);

    await fs.writeFile(path.join(dir, 'broken.json'), '{"schemaVersion": 1, "kind": "inference"');
    await fs.writeFile(path.join(dir, 'other.json'), JSON.stringify({ schemaVersion: 1, kind: 'inference', id: 'x' }));
    for (const [file, message] of [
      ['broken.json', /is not JSON/],
      ['other.json', /run\.createdAt: expected a string/],
      ['missing.json', /cannot be read/],
    ] as Array<[string, RegExp]>) {
      const bad = twb(['report', file], dir);
      assert.equal(bad.code, 1, bad.stderr);
      assert.match(bad.stderr, message);
      noStack(bad.stderr);
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
