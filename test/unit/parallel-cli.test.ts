/**
 * `twb pipeline`, `twb memory-plan` and `twb export-distributed` end to end in this process: the
 * closed form on uniform costs, costs from kept runs, a measured 2-stage pipeline of real ORT
 * workers, the ZeRO paper's figures, configs that parse, and usage errors that name the problem.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import yaml from 'js-yaml';
import { validateMemoryPlan, validatePipelinePlan } from '../../engine/src/schema/validate-parallel';
import { runTwb } from './helpers/cli';

const dir = mkdtempSync(path.join(os.tmpdir(), 'twb-parallel-cli-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const twb = (...args: string[]) => runTwb(dir, args);
const readJson = (name: string) => JSON.parse(readFileSync(path.join(dir, name), 'utf8'));
for (const f of ['tiny-bert.training.json', 'tiny-gpt.run.json']) copyFileSync(path.join(__dirname, '../fixtures', f), path.join(dir, f));

test('uniform costs give the closed form, and the JSON has what the issue asks', async () => {
  const r = await twb('pipeline', 'builtin:tiny-gpt', '--uniform', '--stages', '3', '--microbatches', '6', '--schedule', '1f1b', '--json', 'u.json');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Simulated bubble 25\.0% \(closed form for uniform costs: 25\.0%\)/);
  assert.match(r.stdout, /stage 0 +\|F/);
  const plan = validatePipelinePlan(readJson('u.json'));
  assert.equal(plan.schedule, '1f1b');
  assert.equal(plan.stages, 3);
  assert.equal(plan.microbatches, 6);
  assert.ok(Math.abs(plan.bubbleFraction - 2 / 8) < 1e-12);
  assert.ok(plan.makespanUs > 0);
  assert.equal(plan.timeline.length, 3 * 6 * 2);
  for (const key of ['stage', 'microbatch', 'kind', 'startUs', 'endUs']) assert.ok(key in plan.timeline[0], key);
  assert.equal(plan.measured, undefined);
});

test('costs from a kept training run: ZB-H1 fills 1F1B\'s bubble with weight gradients', async () => {
  const zb = await twb('pipeline', 'tiny-bert.training.json', '--schedule', 'zb-h1', '--stages', '2', '--microbatches', '8', '--json', 'zb.json');
  assert.equal(zb.code, 0, zb.stderr);
  assert.match(zb.stdout, /Costs: training-profile of builtin:tiny-bert/);
  assert.match(zb.stdout, /estimate: weight gradient \(W\)/);
  assert.match(zb.stdout, /W weight gradient/);
  const ofb = await twb('pipeline', 'tiny-bert.training.json', '--schedule', '1f1b', '--stages', '2', '--microbatches', '8', '--json', '1f1b.json');
  assert.equal(ofb.code, 0, ofb.stderr);
  assert.ok(readJson('zb.json').bubbleFraction < readJson('1f1b.json').bubbleFraction);
  const inter = await twb('pipeline', 'tiny-gpt.run.json', '--schedule', 'interleaved:2', '--stages', '2', '--microbatches', '4', '--json', 'i.json');
  assert.equal(inter.code, 0, inter.stderr);
  const i = validatePipelinePlan(readJson('i.json'));
  assert.equal(i.chunks, 2);
  assert.deepEqual(i.stageStats.map((s) => s.layers.length), [2, 2], 'two chunks per stage');
});

test('--measure runs a real 2-stage pipeline and sets it beside the simulation', async () => {
  const r = await twb('pipeline', 'builtin:tiny-gpt', '--stages', '2', '--microbatches', '4', '--seq', '32', '--measure', '--json', 'm.json');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Measured \(forward only: one worker and ORT session per stage/);
  const plan = validatePipelinePlan(readJson('m.json'));
  const m = plan.measured!;
  assert.ok(m, 'measured section');
  assert.equal(m.timeline.length, 2 * 4, 'one forward block per stage and micro-batch');
  assert.ok(m.bubbleFraction > 0 && m.bubbleFraction < 1, `measured bubble ${m.bubbleFraction}`);
  assert.ok(m.simulated.bubbleFraction > 0 && m.simulated.bubbleFraction < 1);
  assert.equal(m.stageUs.length, 2);
  assert.ok(m.maxAbsDiff <= 1e-4, `composed output differs by ${m.maxAbsDiff}`);
  assert.equal(plan.modelSource, 'builtin:tiny-gpt');
});

test('memory-plan reproduces the ZeRO paper (7.5B on 64 GPUs) and writes bytesPerGpu', async () => {
  const expected = ['120', '31.4', '16.6', '1.88'];
  for (const zero of [0, 1, 2, 3]) {
    const r = await twb('memory-plan', '--params', '7.5B', '--gpus', '64', '--zero', String(zero), '--json', `z${zero}.json`);
    assert.equal(r.code, 0, r.stderr);
    const plan = validateMemoryPlan(readJson(`z${zero}.json`));
    assert.equal(Number((plan.bytesPerGpu / 1e9).toPrecision(3)), Number(expected[zero]), `stage ${zero}: ${plan.bytesPerGpu}`);
  }
  const r = await twb('memory-plan', '--params', '7.5B', '--gpus', '64', '--zero', '3', '--micro-batch', '1', '--seq', '2048', '--hidden', '4096', '--layers', '32', '--checkpointing');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Full activation checkpointing/);
  assert.match(r.stdout, /\| *1 GPU|^ *1 +\d/m);
  const b = await twb('memory-plan', 'builtin:tiny-gpt', '--gpus', '2', '--micro-batch', '8', '--seq', '128', '--json', 'tiny.json');
  assert.equal(b.code, 0, b.stderr);
  const tiny = validateMemoryPlan(readJson('tiny.json'));
  assert.equal(tiny.input.hidden, 256, 'a built-in model gives its own shape');
  assert.ok(tiny.breakdown.activations > 0);
});

test('export-distributed writes configs the tools read', async () => {
  assert.equal((await twb('memory-plan', '--params', '1.3B', '--gpus', '16', '--zero', '2', '--micro-batch', '4', '--json', 'mp.json')).code, 0);
  const ds = await twb('export-distributed', 'mp.json', '--format', 'deepspeed', '--out', 'ds.json');
  assert.equal(ds.code, 0, ds.stderr);
  const cfg = readJson('ds.json');
  assert.equal(cfg.zero_optimization.stage, 2);
  assert.equal(cfg.train_micro_batch_size_per_gpu, 4);
  assert.equal(cfg.train_batch_size, cfg.train_micro_batch_size_per_gpu * cfg.gradient_accumulation_steps * 16);
  const acc = await twb('export-distributed', 'mp.json', '--format', 'accelerate', '--out', 'acc.yaml');
  assert.equal(acc.code, 0, acc.stderr);
  const a = yaml.load(readFileSync(path.join(dir, 'acc.yaml'), 'utf8')) as Record<string, unknown>;
  assert.equal(a.distributed_type, 'DEEPSPEED');
  assert.equal(a.num_processes, 16);

  assert.equal((await twb('pipeline', 'builtin:tiny-gpt', '--uniform', '--stages', '2', '--microbatches', '8', '--json', 'pp.json')).code, 0);
  const pds = await twb('export-distributed', 'pp.json', '--format', 'deepspeed', '--out', 'pds.json');
  assert.equal(pds.code, 0, pds.stderr);
  assert.equal(readJson('pds.json').gradient_accumulation_steps, 8, 'M micro-batches per step');
  const tr = await twb('export-distributed', 'pp.json', '--format', 'torchrun');
  assert.equal(tr.code, 0, tr.stderr);
  assert.match(readFileSync(path.join(dir, 'launch.sh'), 'utf8'), /^torchrun \\\n +--nnodes=1 \\\n +--nproc_per_node=2 \\$/m);
  const py = await twb('export-distributed', 'pp.json', '--format', 'pipelining', '--out', 'pp.py');
  assert.equal(py.code, 0, py.stderr);
  assert.match(readFileSync(path.join(dir, 'pp.py'), 'utf8'), /Schedule1F1B/);
  const bad = await twb('export-distributed', 'pp.json', '--format', 'deepspeed', '--zero', '3');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /ZeRO stage (2 and )?3|stage 3/);
});

test('usage and input errors name the problem', async () => {
  writeFileSync(path.join(dir, 'cut.json'), '{"schemaVersion": 1, "kind": "pipeline", "id"');
  const cases: Array<[string[], RegExp, number]> = [
    [['pipeline'], /twb pipeline needs one model/, 2],
    [['pipeline', 'builtin:tiny-gpt', '--schedule', 'pipedream'], /unknown schedule "pipedream"; expected one of: gpipe, 1f1b, interleaved:V, zb-h1/, 2],
    [['pipeline', 'builtin:tiny-gpt', '--uniform', '--schedule', 'interleaved:2', '--microbatches', '5'], /multiple of the stages/, 2],
    [['pipeline', 'builtin:tiny-gpt', '--uniform', '--stages', '7'], /cannot split 6 units/, 2],
    [['pipeline', 'builtin:tiny-gpt', '--uniform', '--microbatches', '100000', '--stages', '6'], /the simulator draws at most/, 2],
    [['pipeline', 'cut.json'], /cut\.json|JSON/, 1],
    [['memory-plan'], /needs --params N/, 2],
    [['memory-plan', '--params', 'lots'], /--params: expected a count like 7\.5B/, 2],
    [['memory-plan', '--params', '1B', '--zero', '4'], /zeroStage must be one of 0, 1, 2, 3/, 2],
    [['export-distributed', 'tiny-gpt.run.json', '--format', 'deepspeed'], /is an inference run; export-distributed reads a pipeline plan or a memory plan/, 2],
    [['export-distributed', 'mp.json', '--format', 'slurm'], /unknown export format "slurm"; expected one of: deepspeed, accelerate, torchrun, pipelining/, 2],
  ];
  for (const [args, message, code] of cases) {
    const r = await twb(...args);
    assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
  }
});

test('twb report renders pipeline and memory plans offline', async () => {
  for (const f of ['u.json', 'z1.json']) {
    const r = await twb('report', f, '--out', `${f}.html`);
    assert.equal(r.code, 0, r.stderr);
    const html = readFileSync(path.join(dir, `${f}.html`), 'utf8');
    assert.ok(html.length > 10_000);
  }
});
