import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { splitVariants } from '../../engine/src/cli/train-command';
import { presetSpec } from '../../engine/src/model/spec';
import { buildTransformer } from '../../engine/src/model/transformer';
import { decodeModel } from '../../engine/src/onnx/codec';
import { summarizeModel } from '../../engine/src/onnx/summary';
import { validateRun } from '../../engine/src/schema/validate-run';
import { validateTrainingRun, validateVariantsReport } from '../../engine/src/schema/validate-training';
import { assertValidOnnx } from './helpers/models';
import { runTwb } from './helpers/cli';

const dir = mkdtempSync(path.join(os.tmpdir(), 'twb-train-cli-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

/** Runs `twb` in this process; `onStatus` sees every status line (and may abort). */
const twb = (args: string[], opts: { signal?: AbortSignal; onStatus?: (line: string) => void } = {}) => runTwb(dir, args, opts);

/** A model small enough that a few steps take seconds. */
const TINY = ['--layers', '2', '--hidden', '32', '--heads', '2', '--ffn', '64'];
const corpus = path.join(dir, 'corpus.txt');
writeFileSync(corpus, 'the quick brown fox jumps over the lazy dog. '.repeat(40));

test('usage errors exit 2 with a message naming the problem, before anything trains', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['train'], /twb train needs a built-in model, e\.g\. builtin:tiny-gpt/],
    [['train', 'model.onnx'], /twb train works on built-in models only; "model\.onnx" does not start with builtin:/],
    [['train', 'builtin:nope'], /unknown built-in model "builtin:nope"; expected one of: builtin:tiny-bert, builtin:tiny-gpt/],
    [['train', 'builtin:tiny-gpt', '--attention', 'sparse:3'], /--attention "sparse:3" is not one of dense\|window:W\|bigbird:W,G,R\|linformer:K/],
    [['train', 'builtin:tiny-gpt', '--attention', 'linformer:32'], /--attention linformer:32 works for encoders only/],
    [['train', 'builtin:tiny-gpt', '--share-layers', '9'], /--share-layers 9 is more than the model's 4 layers/],
    [['train', 'builtin:tiny-gpt', '--task', 'translate'], /--task "translate" is unknown; expected one of: count-compare, sort, char-lm/],
    [['train', 'builtin:tiny-bert', '--task', 'sort'], /task "sort" trains a decoder such as builtin:tiny-gpt; this model is an encoder/],
    [['train', 'builtin:tiny-gpt', '--task', 'count-compare'], /task "count-compare" trains an encoder such as builtin:tiny-bert; this model is a decoder/],
    [['train', 'builtin:tiny-gpt', '--task', 'char-lm'], /task "char-lm" needs a text file \(--text FILE\)/],
    [['train', 'builtin:tiny-gpt', '--text', corpus, '--task', 'sort'], /--text is for the char-lm task/],
    [['train', 'builtin:tiny-gpt', '--backend', 'cuda'], /--backend "cuda" is unknown; expected one of: auto, tensorflow, webgpu, wasm, cpu/],
    [['train', 'builtin:tiny-gpt', '--steps', 'many'], /--steps expects a non-negative integer, got "many"/],
    [['train', 'builtin:tiny-gpt', '--hidden', '30'], /spec\.hidden \(30\) must be divisible by spec\.heads \(4\)/],
    [['profile', 'model.onnx', '--attention', 'window:16'], /--attention applies to built-in models only; "model\.onnx" is a model file/],
    [['profile', 'model.onnx', '--share-layers', 'all'], /--share-layers applies to built-in models only/],
    [['profile', 'builtin:tiny-gpt', '--attention', 'linformer:32'], /--attention linformer:32 works for encoders only/],
    [['model', 'builtin:tiny-gpt', '--out', 'x.onnx', '--share-layers', 'some'], /--share-layers must be a positive integer, got "some"/],
    [['model', 'builtin:tiny-gpt', '--out', 'x.onnx', '--attention', 'window:0'], /--attention window:W must be a positive integer, got "0"/],
    [['sweep'], /twb sweep needs a built-in model/],
    [['sweep', 'builtin:tiny-bert', '--seqs', '64,x'], /--seqs expects positive integers separated by commas, e\.g\. 64,128,256; got "64,x"/],
    [['sweep', 'builtin:tiny-bert', '--train-steps', '5'], /--train-steps needs --task/],
    [['sweep', 'builtin:tiny-gpt', '--task', 'translate'], /--task "translate" is unknown/],
  ];
  for (const [args, message] of cases) {
    const r = await twb(args[0] === 'model' ? args : [...args, '--quiet']);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
    assert.equal(r.stdout, '', `${args.join(' ')} printed no tables`);
  }
  assert.equal(existsSync(path.join(dir, 'x.onnx')), false);
});

test('a --text corpus that cannot be read fails naming the file', async () => {
  const r = await twb(['train', 'builtin:tiny-gpt', '--text', 'missing.txt', '--quiet']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /--text ".*missing\.txt" (cannot be read|is not a file)/);
});

test('help lists the new commands and their options', async () => {
  const r = await twb(['help']);
  assert.equal(r.code, 0);
  for (const s of ['twb train builtin:NAME', 'twb sweep builtin:NAME', 'twb train options', 'twb sweep options', '--save-onnx FILE.onnx', '--text FILE', '--seqs N,N,...', '--attention dense|window:W|bigbird:W,G,R|linformer:K', '--share-layers none|all|N', '--backend auto|tensorflow|webgpu|wasm|cpu']) {
    assert.ok(r.stdout.includes(s), `help mentions ${s}`);
  }
  assert.match((await twb(['frobnicate'])).stderr, /expected one of: profile, model, quantize, prune, report, eps, help, train, sweep/);
});

test('--variants keeps BigBird\'s W,G,R together', () => {
  assert.deepEqual(splitVariants(['dense,window:32,bigbird:16,1,1', 'linformer:32,dense+share:all']), ['dense', 'window:32', 'bigbird:16,1,1', 'linformer:32', 'dense+share:all']);
});

test('twb model --share-layers all writes a smaller model that onnx.checker accepts', async (t) => {
  const r = await twb(['model', 'builtin:tiny-bert', '--share-layers', 'all', '--out', 'shared.onnx']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Wrote builtin:tiny-bert \(encoder, 4 layers, hidden 256, attention dense, share-layers all; .* params\) to /);
  const shared = decodeModel(readFileSync(path.join(dir, 'shared.onnx')));
  const plain = summarizeModel(buildTransformer(presetSpec('builtin:tiny-bert'))).params;
  assert.ok(summarizeModel(shared).params < plain * 0.5, `${summarizeModel(shared).params} params shared vs ${plain}`);
  assertValidOnnx(shared, t);
});

test('twb profile --attention records the variant in the run', async () => {
  const r = await twb(['profile', 'builtin:tiny-gpt', '--attention', 'window:16', '--runs', '2', '--profiled-runs', '1', '--warmup', '1', '--seq', '32', '--json', 'window.run.json', '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  const run = validateRun(JSON.parse(readFileSync(path.join(dir, 'window.run.json'), 'utf8')));
  assert.deepEqual([run.config.attention, run.config.shareLayers], ['window:16', 'none']);
  assert.equal(run.model.source, 'builtin:tiny-gpt', 'Re-run loads the same built-in');
  assert.equal(run.model.name, 'builtin:tiny-gpt window:16', 'the profiled model is the variant');
});

test('twb train: progress, tables, a valid TrainingRun, the run kept, the model exported; twb report renders it', async (t) => {
  const r = await twb(['train', 'builtin:tiny-gpt', ...TINY, '--attention', 'window:4', '--share-layers', 'all', '--steps', '6', '--batch', '4', '--seq', '12', '--eval-every', '3', '--json', 'run.json', '--save', '--save-onnx', 'trained.onnx']);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.status.some((l) => /^train \d\/6 · loss \d+\.\d{4}/.test(l)), `status lines: ${r.status.join(' | ')}`);
  assert.ok(r.status.some((l) => / · ETA \d+s$/.test(l)), 'an ETA once steps have a pace');
  for (const heading of [/^Trained builtin:tiny-gpt on sort · attention window:4 · share-layers all$/m, /^backend  (wasm|cpu|tensorflow|webgpu)/m, /^Kernel time by phase/m, /^Top op types by phase/m, /^Kernel time per layer/m, /^Memory in a profiled step/m, /^Mixed precision: ran fp32/m, /\(estimate\)/]) {
    assert.match(r.stdout, heading);
  }
  const run = validateTrainingRun(JSON.parse(readFileSync(path.join(dir, 'run.json'), 'utf8')));
  assert.deepEqual([run.variant, run.config.steps, run.config.batch, run.config.seq, run.spec.layers], [{ attention: 'window:4', shareLayers: 'all' }, 6, 4, 12, 2]);
  assert.equal(run.loss.length, 6);
  assert.deepEqual(run.accuracy.map((a) => a.step), [3, 6]);
  assert.ok(run.ops.length > 0 && run.ops.every((o) => o.layer === null || o.layer === 0 || o.layer === 1));
  assert.ok(existsSync(path.join(dir, '.twb', 'runs', `${run.id}.json`)), '--save keeps the run');
  assert.ok(run.onnx && run.onnx.maxAbsDiff <= 1e-4, `ORT vs tfjs: ${run.onnx?.maxAbsDiff}`);
  assert.match(r.stdout, /^onnx     .*trained\.onnx · ORT vs tfjs logits max \|Δ\|/m);
  assertValidOnnx(decodeModel(readFileSync(path.join(dir, 'trained.onnx'))), t);

  const rep = await twb(['report', 'run.json', '--out', 'run.html']);
  assert.equal(rep.code, 0, rep.stderr);
  const html = readFileSync(path.join(dir, 'run.html'), 'utf8');
  const boot = JSON.parse(/<script type="application\/json" id="twb-boot">([\s\S]*?)<\/script>/.exec(html)?.[1] ?? 'null');
  assert.deepEqual([boot.view, boot.trainings.length, boot.trainings[0].id, boot.trainings[0].loss.length], ['training', 1, run.id, 6]);
});

test('Ctrl-C keeps the steps done: the partial run is printed and written, exit 130', async () => {
  const controller = new AbortController();
  const r = await twb(['train', 'builtin:tiny-gpt', ...TINY, '--steps', '40', '--batch', '2', '--seq', '8', '--json', 'partial.json'], {
    signal: controller.signal,
    onStatus: (line) => {
      if (line.startsWith('train 3/')) controller.abort();
    },
  });
  assert.equal(r.code, 130, r.stderr);
  const run = validateTrainingRun(JSON.parse(readFileSync(path.join(dir, 'partial.json'), 'utf8')));
  assert.equal(run.cancelled, true);
  assert.ok(run.loss.length >= 3 && run.loss.length < 40, `${run.loss.length} steps kept`);
  assert.match(r.stdout, /CANCELLED/);
});

test('twb train --text trains a character-level model on the file', async () => {
  const r = await twb(['train', 'builtin:tiny-gpt', ...TINY, '--text', 'corpus.txt', '--steps', '3', '--batch', '2', '--seq', '16', '--json', 'char.json', '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.split('\n')[0], 'Trained builtin:tiny-gpt on char-lm (corpus.txt) · attention dense · share-layers none');
  const run = validateTrainingRun(JSON.parse(readFileSync(path.join(dir, 'char.json'), 'utf8')));
  assert.deepEqual([run.config.task, run.config.textFile], ['char-lm', 'corpus.txt']);
});

test('twb sweep: the side-by-side table, the sweep points and a valid VariantsReport', async () => {
  const r = await twb(['sweep', 'builtin:tiny-bert', ...TINY, '--variants', 'dense,window:4,bigbird:4,1,0,linformer:8,dense+share:all', '--seqs', '16,32', '--seq', '16', '--batch', '2', '--json', 'variants.json', '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  const report = validateVariantsReport(JSON.parse(readFileSync(path.join(dir, 'variants.json'), 'utf8')));
  assert.deepEqual(report.variants.map((v) => v.label), ['dense', 'window:4', 'bigbird:4,1,0', 'linformer:8', 'dense+share:all']);
  assert.deepEqual(report.config.seqs, [16, 32]);
  for (const v of report.variants) assert.deepEqual(v.sweep.map((p) => p.seq), [16, 32], v.label);
  const dense = report.variants[0];
  const shared = report.variants[4];
  assert.ok(shared.params < dense.params, 'sharing has fewer parameters');
  assert.match(r.stdout, /^variant\s+params\s+FLOP\/step\s+step\s+peak mem\s+tokens\/s\s+accuracy\s+time growth\s+memory growth$/m);
  assert.match(r.stdout, /≈2 quadratic, ≈1 linear/);
  assert.match(r.stdout, /^variant\s+16\s+32$/m);
  assert.match(r.stdout, /^bigbird:4,1,0\s+/m);
});
