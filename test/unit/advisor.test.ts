/**
 * The advisor (issue #7 point 1, `twb suggest`): every rule fires on a document that should trigger
 * it and stays quiet on one that should not (variants of the fixtures edited in the test), the
 * estimate formulas on a fake calibration, a real kernel calibration on tiny shapes, the command's
 * cards and JSON, and clear errors for documents it does not read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { adviseRun, RULES } from '../../engine/src/advisor/advise';
import { calibrateKernels, defaultCalibrationDeps } from '../../engine/src/advisor/calibrate';
import { inferenceFacts, productShapes } from '../../engine/src/advisor/facts';
import type { AdvisableDocument, AdviseEnv, ProviderInfo } from '../../engine/src/advisor/rules/types';
import { planMemory } from '../../engine/src/analysis/zero-memory';
import { planPipeline } from '../../engine/src/analysis/pipeline/plan';
import { parseArgs } from '../../engine/src/cli/args';
import { SUGGEST_OPTIONS, suggestCommand, SuggestDeps } from '../../engine/src/cli/suggest-command';
import type { KernelCalibration, Suggestion, SuggestionsReport } from '../../engine/src/schema/advice';
import type { PipelinePlan } from '../../engine/src/schema/parallel';
import type { InferenceRun, OpStat } from '../../engine/src/schema/run';
import type { TrainingRun } from '../../engine/src/schema/training';
import { validateSuggestionsReport } from '../../engine/src/schema/validate-advice';
import { TwbError } from '../../engine/src/util/errors';
import { GraphBuilder } from '../../engine/src/model/graph-builder';
import { encodeModel } from '../../engine/src/onnx/codec';
import { tensorFromFloat32, tensorFromInt64 } from '../../engine/src/onnx/tensor-data';
import { DataType } from '../../engine/src/onnx/types';
import { defaultDeps, profileInference } from '../../engine/src/profile/profiler';

const FIXTURES = path.join(__dirname, '../fixtures');
const dir = mkdtempSync(path.join(os.tmpdir(), 'twb-advisor-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const fixture = <T>(name: string): T => JSON.parse(readFileSync(path.join(FIXTURES, name), 'utf8')) as T;
const gpt = () => fixture<InferenceRun>('tiny-gpt.run.json');
const CPU_ONLY: ProviderInfo[] = [
  { name: 'cpu', available: true },
  { name: 'webgpu', available: false, reason: 'no adapter' },
];
const env = (over: Partial<AdviseEnv> = {}): AdviseEnv => ({ cores: 2, providers: CPU_ONLY, now: new Date('2026-03-01T10:00:00Z'), ...over });
const inference = (run: InferenceRun): AdvisableDocument => ({ kind: 'inference', run });

/** A calibration where every product shape of `run` measured fp32 100 µs and each form 100/ratio µs. */
function fakeCalibration(run: InferenceRun, ratio: { int8: number; static?: number; int4?: number }, over: Partial<KernelCalibration> = {}): KernelCalibration {
  return {
    executionProvider: 'cpu',
    ortVersion: 'test',
    cpu: 'test',
    cores: 2,
    threads: 2,
    optLevel: run.config.optLevel,
    runId: run.id,
    createdAt: '2026-03-01T10:00:00Z',
    matmul: productShapes(inferenceFacts(run).products).map((s) => ({
      ...s,
      share: Math.min(1, s.share),
      fp32Us: 100,
      int8DynamicUs: 100 / ratio.int8,
      int8StaticUs: ratio.static ? 100 / ratio.static : null,
      int4Us: ratio.int4 ? 100 / ratio.int4 : null,
      samples: 6,
    })),
    threadScaling: null,
    batchScaling: null,
    elapsedMs: 1,
    ...over,
  };
}

/** Outcome of one rule on a document: the suggestion, or the quiet reason. */
function outcome(doc: AdvisableDocument, id: string, calibration: KernelCalibration | null = null, e = env()): { fired?: Suggestion; quiet?: string } {
  const r = adviseRun(doc, calibration, e);
  const fired = r.suggestions.find((s) => s.id === id);
  const quiet = r.quiet.find((q) => q.rule.endsWith(`/${id}`))?.why;
  assert.ok(fired || quiet, `rule ${id} neither fired nor was listed as quiet`);
  return { fired, quiet };
}

const op = (node: string, opType: string, share: number, inputShapes: number[][], extra: Partial<OpStat> = {}): OpStat => ({
  node, opType, domain: '', layer: 0, provider: 'cpu', calls: 10, totalUs: share * 1e4, meanUs: share * 1e3, share, flops: 0, gflops: 0, inputShapes, outputShapes: [], paramBytes: 0, ...extra,
});

/** tiny-gpt's run with its ops replaced. */
function withOps(ops: OpStat[], edit: (r: InferenceRun) => void = () => {}): InferenceRun {
  const r = gpt();
  r.ops = ops;
  edit(r);
  return r;
}

test('int8-dynamic: Amdahl over weighted products with the measured kernel ratio', () => {
  const run = withOps([op('mm', 'MatMul', 0.6, [[1, 128, 256], [256, 1024]]), op('sm', 'Softmax', 0.4, [[1, 4, 128, 128]])]);
  const s = outcome(inference(run), 'int8-dynamic', fakeCalibration(run, { int8: 2 })).fired!;
  assert.ok(s, 'fires');
  assert.ok(Math.abs(s.estimate.speedup! - 1 / (1 - 0.6 + 0.6 / 2)) < 1e-9, `speedup ${s.estimate.speedup}`);
  assert.ok(Math.abs(s.estimate.latencyMs! - run.latencyMs.p50 / s.estimate.speedup!) < 1e-9);
  assert.equal(s.estimate.sizeBytes, run.model.sizeBytes - 0.75 * 256 * 1024 * 4, 'weights K·N·4 → 1 byte each');
  assert.match(s.estimate.basis, /\[1×128×256\]·\[256×1024\] 0\.10 → 0\.05 ms \(2\.00×/);
  assert.deepEqual(s.change, { kind: 'pass', config: { mode: 'int8-dynamic' } });
  assert.match(s.command, /^twb quantize builtin:tiny-gpt --mode int8-dynamic --threads 2 --batch 1 --seq 128 --out tiny-gpt\.int8-dynamic\.onnx$/);
  // Without a calibration it still fires (size is a win) but leaves the speed out.
  const blind = outcome(inference(run), 'int8-dynamic').fired!;
  assert.equal(blind.estimate.speedup, null);
  assert.ok(blind.warnings.some((w) => /not estimated/.test(w)));
  // A bias Add after a product is part of what the int8 kernel absorbs.
  const biased = withOps([op('p', 'MatMul', 0.5, [[1, 8, 64], [64, 32]], { outputShapes: [[1, 8, 32]] }), op('p_bias', 'Add', 0.1, [[1, 8, 32], [32]], { paramBytes: 128 })]);
  assert.ok(Math.abs(inferenceFacts(biased).productShare - 0.6) < 1e-12);
});

test('int8-dynamic: quiet below the product share, warns on conv-heavy graphs, quiet on a quantized model', () => {
  const few = outcome(inference(withOps([op('mm', 'MatMul', 0.1, [[1, 8, 64], [64, 64]]), op('c', 'Conv', 0.9, [[1, 3, 32, 32], [8, 3, 3, 3]])])), 'int8-dynamic');
  assert.equal(few.fired, undefined);
  assert.match(few.quiet!, /only 10\.0% .*90\.0% is in Conv/);
  const mixed = outcome(inference(withOps([op('mm', 'MatMul', 0.45, [[1, 8, 64], [64, 64]]), op('c', 'FusedConv', 0.55, [[1, 3, 32, 32], [8, 3, 3, 3]], { domain: 'com.microsoft' })])), 'int8-dynamic').fired!;
  assert.ok(mixed.warnings.some((w) => /backfire on conv-heavy graphs: 55\.0%/.test(w)), mixed.warnings.join('\n'));
  const quantized = outcome(inference(withOps([op('mm', 'MatMulInteger', 0.9, [[1, 8, 64], [64, 64]])])), 'int8-dynamic');
  assert.match(quantized.quiet!, /already quantized/);
  const slow = withOps([op('mm', 'MatMul', 0.9, [[1, 16, 32], [32, 32]])]);
  const backfire = outcome(inference(slow), 'int8-dynamic', fakeCalibration(slow, { int8: 0.8 })).fired!;
  assert.ok(backfire.estimate.speedup! < 1);
  assert.ok(backfire.warnings.some((w) => /measured slower than fp32/.test(w)));
});

/** Two 3×3 convolutions and a [1024 × 256] product: on one thread about 60% / 40% of the time, as ORT runs it. */
function convModel(): Uint8Array {
  const g = new GraphBuilder();
  const w = (name: string, dims: number[]) => g.init(tensorFromFloat32(name, dims, Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i) * 0.05)));
  g.input('x', DataType.FLOAT, ['batch', 16, 32, 32]);
  let y = g.op('conv1', 'Conv', ['x', w('c1w', [32, 16, 3, 3]), w('c1b', [32])], { pads: [1, 1, 1, 1] });
  y = g.op('conv2', 'Conv', [g.op('relu1', 'Relu', [y]), w('c2w', [32, 32, 3, 3]), w('c2b', [32])], { pads: [1, 1, 1, 1] });
  y = g.op('flat', 'Reshape', [g.op('relu2', 'Relu', [y]), g.init(tensorFromInt64('shape', [3], [0n, 32n, 1024n]))]);
  g.output(g.op('head', 'MatMul', [y, w('hw', [1024, 256])]), 'y', DataType.FLOAT, ['batch', 32, 256]);
  return encodeModel({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }], graph: g.build('conv') });
}

test('a real profile of a conv model: ORT NCHWc convolutions count as Conv and INT8 dynamic warns', async () => {
  const file = path.join(dir, 'conv.onnx');
  writeFileSync(file, convModel());
  // One thread: two-thread kernels on a busy 2-core machine stall at random and swing the shares.
  const run = await profileInference({ model: file, threads: 1, warmup: 3, runs: 2, profiledRuns: 20 }, defaultDeps());
  const f = inferenceFacts(run);
  assert.ok(f.conv.length >= 2, `convolutions found: ${run.ops.map((o) => `${o.domain}:${o.opType}`).join(', ')}`);
  assert.ok(f.convShare >= 0.2 && f.productShare >= 0.2, `conv ${f.convShare}, products ${f.productShare}`);
  const s = outcome(inference(run), 'int8-dynamic').fired!;
  assert.ok(s.warnings.some((w) => /backfire on conv-heavy graphs/.test(w)), s.warnings.join('\n'));
});

test('int8-static and int4-weight use their own kernels; int4 stays quiet when the weights are a small part of the file', () => {
  const run = gpt();
  const cal = fakeCalibration(run, { int8: 1.5, static: 1.25, int4: 0.8 });
  const stat = outcome(inference(run), 'int8-static', cal).fired!;
  const s = inferenceFacts(run).productShare;
  assert.ok(Math.abs(stat.estimate.speedup! - 1 / (1 - s + s / 1.25)) < 1e-9);
  assert.ok(stat.warnings.some((w) => /--calibration FILE/.test(w)));
  assert.equal(stat.estimate.accuracyRisk, 'medium');
  const int4 = outcome(inference(run), 'int4-weight', cal).fired!;
  assert.ok(int4.estimate.speedup! < 1, 'measured 0.8× kernels give a slowdown');
  assert.ok(int4.estimate.sizeBytes! < run.model.sizeBytes * 0.4);
  assert.match(int4.command, /--mode int4-weight --method rtn --block-size 32/);
  const big = gpt();
  big.model.sizeBytes *= 20;
  assert.match(outcome(inference(big), 'int4-weight', cal).quiet!, /size win/);
  assert.match(outcome(inference(withOps([op('q', 'MatMulNBits', 1, [[1, 8, 64]])])), 'int8-static').quiet!, /already quantized/);
});

test('fp16: quiet on the CPU provider (known to backfire), fires on a GPU provider', () => {
  assert.match(outcome(inference(gpt()), 'fp16').quiet!, /backfires on the cpu provider.*0\.88/);
  const cuda = gpt();
  cuda.config.executionProvider = 'cuda';
  const s = outcome(inference(cuda), 'fp16').fired!;
  assert.equal(s.estimate.speedup, null);
  assert.ok(s.estimate.sizeBytes! < cuda.model.sizeBytes);
});

test('prune-heads fires on attention-heavy runs and stays quiet without heads', () => {
  const s = outcome(inference(gpt()), 'prune-heads').fired!;
  const share = inferenceFacts(gpt()).attentionBlockShare;
  assert.ok(share > 0.15);
  assert.ok(Math.abs(s.estimate.speedup! - 1 / (1 - share * 0.25)) < 1e-9);
  assert.match(s.command, /^twb prune builtin:tiny-gpt --method heads --amount 0\.25 /);
  assert.match(outcome(inference(withOps([op('mm', 'MatMul', 1, [[1, 8, 64], [64, 64]])])), 'prune-heads').quiet!, /no attention heads/);
  assert.match(outcome(inference(fixture('genai-gpt2.run.json')), 'prune-heads').quiet!, /KV-cache state/);
});

test('attention variant: Linformer for a long encoder sequence with its fixed-length warning; quiet for short sequences and decoders', () => {
  assert.match(outcome(inference(gpt()), 'attention-variant').quiet!, /seq²-growing part .* seq 128/);
  const scores = (r: InferenceRun) => {
    for (const o of r.ops) if (o.opType === 'Softmax' || /qk_matmul|av_matmul/.test(o.node)) o.share *= 8;
  };
  const decoder = gpt();
  scores(decoder);
  assert.match(outcome(inference(decoder), 'attention-variant').quiet!, /Linformer cannot be causal\. Dynamic convolution .* not estimated here: .*twb profile builtin:tiny-gpt --attention dynamic-conv:7/);
  const encoder = gpt();
  scores(encoder);
  encoder.model.source = 'builtin:tiny-bert';
  const s = outcome(inference(encoder), 'attention-variant').fired!;
  assert.deepEqual(s.change, { kind: 'config', patch: { attention: 'linformer:32' } });
  assert.ok(s.estimate.speedup! > 1);
  assert.ok(s.warnings.some((w) => /fixes the sequence length/.test(w)));
  assert.equal(s.estimate.accuracyRisk, 'high');
  assert.match(s.command, /^twb profile builtin:tiny-bert --threads 2 --attention linformer:32$/);
  const file = fixture<InferenceRun>('genai-gpt2.run.json');
  assert.match(outcome(inference(file), 'attention-variant').quiet!, /built-in models/);
  // Training: tfjs computes windows block by block, so a long sequence gains.
  const train = fixture<TrainingRun>('tiny-bert.training.json');
  assert.match(outcome({ kind: 'training', run: train }, 'attention-variant').quiet!, /seq 32/);
  train.config.seq = 1024;
  const t = outcome({ kind: 'training', run: train }, 'attention-variant').fired!;
  assert.deepEqual(t.change, { kind: 'config', patch: { attention: 'window:128' } });
  assert.ok(t.estimate.speedup! > 1.1);
  assert.match(t.command, /^twb train builtin:tiny-bert --task count-compare --steps 200 --batch 8 --seq 1024 --attention window:128$/);
});

test('a mixer run: the advice warns that the model mixes a fixed number of positions', () => {
  const mixer = gpt();
  mixer.config.attention = 'mixer';
  const r = adviseRun(inference(mixer), null, env());
  assert.equal(r.warnings.filter((w) => /--attention mixer, which mixes a fixed number of positions \(maxSeq 128\).* at seq 128/.test(w)).length, 1, r.warnings.join('\n'));
  assert.match(r.quiet.find((q) => q.rule === 'attention/attention-variant')!.why, /already uses mixer/);
  validateSuggestionsReport(JSON.parse(JSON.stringify(r)));
  assert.ok(!adviseRun(inference(gpt()), null, env()).warnings.some((w) => /mixer/.test(w)), 'dense: no such warning');
  const train = fixture<TrainingRun>('tiny-bert.training.json');
  train.spec = { ...train.spec, attention: { kind: 'mixer' } };
  train.variant.attention = 'mixer';
  const t = adviseRun({ kind: 'training', run: train }, null, env());
  assert.ok(t.warnings.some((w) => /mixes a fixed number of positions \(maxSeq 128\): its token-mixing weights are 128 × 128 per layer/.test(w)), t.warnings.join('\n'));
});

test('share-layers saves memory, not time; quiet for model files and shared runs', () => {
  const s = outcome(inference(gpt()), 'share-layers').fired!;
  assert.equal(s.estimate.speedup, 1);
  assert.ok(s.estimate.memoryBytes! < gpt().memory.peakBytes / 2);
  assert.ok(s.warnings.some((w) => /saves memory, not time/.test(w)));
  assert.match(outcome(inference(fixture('genai-gpt2.run.json')), 'share-layers').quiet!, /model file/);
  const shared = gpt();
  shared.config.shareLayers = 'all';
  assert.match(outcome(inference(shared), 'share-layers').quiet!, /already shares/);
  const train = outcome({ kind: 'training', run: fixture<TrainingRun>('tiny-bert.training.json') }, 'share-layers').fired!;
  assert.equal(train.estimate.speedup, 1);
  assert.ok(train.estimate.memoryBytes! < fixture<TrainingRun>('tiny-bert.training.json').memory.peakBytes);
});

test('opt-level fires on a run at disabled and is quiet at all', () => {
  const noopt = fixture<InferenceRun>('tiny-gpt-noopt.run.json');
  const s = outcome(inference(noopt), 'opt-level').fired!;
  assert.deepEqual(s.change, { kind: 'config', patch: { optLevel: 'all' } });
  assert.ok(s.estimate.speedup! > 1 && s.estimate.speedup! < 1.5);
  assert.doesNotMatch(s.command, /--opt-level/, 'the patched level is the default');
  assert.match(outcome(inference(gpt()), 'opt-level').quiet!, /already used graph optimization level all/);
});

test('threads: one thread on a 2-core machine fires with the measured scaling; all cores is quiet; more threads than cores warns', () => {
  const one = gpt();
  one.config.threads = 1;
  one.env.threads = 1;
  const cal = fakeCalibration(one, { int8: 1 }, { threads: 1, threadScaling: { input: [1, 128, 1024], n: 256, threads: [1, 2], us: [200, 100] } });
  const s = outcome(inference(one), 'threads', cal).fired!;
  const f = inferenceFacts(one);
  const scaled = f.productShare + f.quadratic.filter((o) => /MatMul/.test(o.opType)).reduce((a, o) => a + o.share, 0);
  assert.ok(Math.abs(s.estimate.speedup! - 1 / (1 - scaled / 2)) < 1e-9);
  assert.match(s.command, /--threads 2/);
  assert.match(outcome(inference(gpt()), 'threads').quiet!, /2 threads on 2 cores/);
  const many = gpt();
  many.config.threads = 4;
  many.env.threads = 4;
  const over = outcome(inference(many), 'threads').fired!;
  assert.ok(over.warnings.some((w) => /oversubscribe/.test(w)));
  assert.equal(over.estimate.speedup, null, 'no scaling measured for 4 → 2');
});

test('batch-size fires at batch 1 with a symbolic batch and is quiet at batch 8 or a fixed batch', () => {
  const run = gpt();
  const cal = fakeCalibration(run, { int8: 1 }, { batchScaling: { input: [1, 128, 1024], n: 256, batch: 1, scaledBatch: 8, us: 100, scaledUs: 400 } });
  const s = outcome(inference(run), 'batch-size', cal).fired!;
  const share = inferenceFacts(run).productShare;
  assert.ok(Math.abs(s.estimate.speedup! - 1 / (1 - share + share / 2)) < 1e-9, 'per-sample gain 800/400 = 2× on the products');
  assert.ok(s.warnings.some((w) => /throughput gain, not a latency one/.test(w)));
  const big = gpt();
  big.config.batch = 8;
  assert.match(outcome(inference(big), 'batch-size').quiet!, /batch 8/);
  const fixed = gpt();
  fixed.model.inputs[0].declared = [1, 128];
  assert.match(outcome(inference(fixed), 'batch-size').quiet!, /no input has a symbolic batch/);
});

test('execution-provider fires when another provider works here and is quiet with the reasons when none does', () => {
  assert.match(outcome(inference(gpt()), 'execution-provider').quiet!, /webgpu \(no adapter\)/);
  const s = outcome(inference(gpt()), 'execution-provider', null, env({ providers: [...CPU_ONLY.slice(0, 1), { name: 'webgpu', available: true }] })).fired!;
  assert.deepEqual(s.change, { kind: 'config', patch: { executionProvider: 'webgpu' } });
  assert.match(s.command, /--ep webgpu/);
});

test('pipeline schedule: a big bubble gets a re-simulated better shape; a busy pipeline is quiet', () => {
  const plan = fixture<PipelinePlan>('tiny-gpt.pipeline.json');
  const s = outcome({ kind: 'pipeline', plan }, 'pipeline-schedule').fired!;
  assert.equal(s.change.kind, 'pipeline');
  assert.ok(s.estimate.speedup! >= 1.03, `speedup ${s.estimate.speedup}`);
  assert.match(s.command, /^twb pipeline builtin:tiny-gpt --stages 2 --microbatches \d+ --schedule \S+ --comm-us 50$/);
  const busy = planPipeline({ model: plan.model, batch: 1, seq: 128, costs: { layers: plan.layers, source: plan.costSource }, schedule: 'zb-h1', stages: 2, microbatches: 128, chunks: 1, commUs: 0, now: new Date(0) });
  assert.match(outcome({ kind: 'pipeline', plan: busy }, 'pipeline-schedule').quiet!, /bubble is \d/);
});

test('zero-stage: partitioning pays on many GPUs and is quiet on one', () => {
  const input = { params: 7.5e9, gpus: 64, zeroStage: 0 as const, checkpointing: false };
  const s = outcome({ kind: 'memory-plan', plan: planMemory(input, '7.5B', new Date(0)) }, 'zero-stage').fired!;
  assert.deepEqual(s.change, { kind: 'zero', zeroStage: 2, gpus: 64 });
  assert.equal(s.estimate.speedup, 1);
  assert.match(s.command, /^twb memory-plan --params 7500000000 --gpus 64 --zero 2$/);
  assert.match(outcome({ kind: 'memory-plan', plan: planMemory({ ...input, gpus: 1 }, '7.5B', new Date(0)) }, 'zero-stage').quiet!, /1 GPU/);
});

test('the report ranks by time saved, lists quiet rules for its kind only, and validates', () => {
  const run = gpt();
  const r = adviseRun(inference(run), fakeCalibration(run, { int8: 1.5, static: 1.2, int4: 0.9 }), env());
  const gains = r.suggestions.map((s) => (s.estimate.speedup === null ? 0 : 1 - 1 / s.estimate.speedup));
  for (let i = 1; i < gains.length; i++) assert.ok(Math.round(gains[i - 1] * 100) >= Math.round(gains[i] * 100), `rank ${i}: ${gains.join(', ')}`);
  assert.equal(r.suggestions[0].id, 'int8-dynamic');
  assert.ok(!r.quiet.some((q) => /pipeline|zero/.test(q.rule)), 'parallel rules do not apply to an inference run');
  assert.equal(r.suggestions.length + r.quiet.length, RULES.filter((x) => x.appliesTo.includes('inference')).length);
  validateSuggestionsReport(JSON.parse(JSON.stringify(r)));
  const bad = JSON.parse(JSON.stringify(r)) as SuggestionsReport;
  (bad.suggestions[0].estimate as { accuracyRisk: string }).accuracyRisk = 'some';
  assert.throws(() => validateSuggestionsReport(bad), /accuracyRisk: expected one of: none, low, medium, high/);
  const twice = JSON.parse(JSON.stringify(r)) as SuggestionsReport;
  twice.suggestions.push(twice.suggestions[0]);
  assert.throws(() => validateSuggestionsReport(twice), /appears twice/);
});

test('calibration times the pass kernels for real on tiny shapes, and stops when cancelled', async () => {
  const run = withOps([op('p', 'MatMul', 0.7, [[1, 8, 64], [64, 32]], { outputShapes: [[1, 8, 32]] }), op('p_bias', 'Add', 0.1, [[1, 8, 32], [32]], { paramBytes: 128 })], (r) => {
    r.config.threads = 1;
    r.env.threads = 1;
  });
  const cal = await calibrateKernels(run, defaultCalibrationDeps({ budgetMs: 200, cores: 2 }));
  assert.equal(cal.matmul.length, 1);
  const k = cal.matmul[0];
  assert.deepEqual([k.m, k.k, k.n, k.bias], [8, 64, 32, true]);
  for (const v of [k.fp32Us, k.int8DynamicUs, k.int8StaticUs!, k.int4Us!]) assert.ok(v > 0, `time ${v}`);
  assert.ok(k.samples >= 4);
  assert.deepEqual(cal.threadScaling?.threads, [1, 2]);
  assert.ok(cal.threadScaling!.us.every((u) => u > 0));
  assert.deepEqual([cal.batchScaling?.batch, cal.batchScaling?.scaledBatch], [1, 8]);
  assert.ok(cal.batchScaling!.scaledUs > 0);
  const aborted = new AbortController();
  aborted.abort();
  await assert.rejects(calibrateKernels(run, defaultCalibrationDeps({ budgetMs: 200, signal: aborted.signal })), (e: unknown) => e instanceof TwbError && e.code === 'cancelled');
});

const io = () => {
  const out: string[] = [];
  return { out, io: { stdout: (s: string) => out.push(s), stderr: () => {}, status: () => {}, cwd: dir } };
};
const fakeDeps = (calibrate: SuggestDeps['calibrate']): SuggestDeps => ({ calibrate, providers: async () => CPU_ONLY, cores: 2, now: () => new Date('2026-03-01T10:00:00Z') });
const suggest = (args: string[], deps: SuggestDeps) => {
  const o = io();
  return suggestCommand(parseArgs(args, SUGGEST_OPTIONS, 'suggest'), o.io, undefined, deps).then((code) => ({ code, stdout: o.out.join('\n') }));
};

test('twb suggest prints cards and the quiet rules, and writes a valid JSON report', async () => {
  writeFileSync(path.join(dir, 'run.json'), readFileSync(path.join(FIXTURES, 'tiny-gpt.run.json')));
  let calibrated = 0;
  const deps = fakeDeps(async (run) => {
    calibrated++;
    return fakeCalibration(run, { int8: 1.5, static: 1.2, int4: 0.9 });
  });
  const r = await suggest(['run.json', '--json', 'advice.json'], deps);
  assert.equal(r.code, 0);
  assert.equal(calibrated, 1);
  assert.match(r.stdout, /^1\. Quantize weights to INT8.*\[int8-dynamic\]$/m);
  assert.match(r.stdout, /^ {3}run {7}twb quantize builtin:tiny-gpt --mode int8-dynamic/m);
  assert.match(r.stdout, /^ {3}estimate {2}\d\.\d\d× faster · p50 13\.1 ms → [\d.]+ ms · size 14\.2 MiB → [\d.]+ MiB/m);
  assert.match(r.stdout, /^ {3}basis {5}Amdahl/m);
  assert.match(r.stdout, /^Quiet rules:\n {2}quantization\/fp16 +fp16 backfires/m);
  const json = validateSuggestionsReport(JSON.parse(readFileSync(path.join(dir, 'advice.json'), 'utf8')));
  assert.equal(json.source.kind, 'inference');
  for (const s of json.suggestions) for (const key of ['speedup', 'latencyMs', 'memoryBytes', 'sizeBytes', 'accuracyRisk'] as const) assert.ok(key in s.estimate, key);
  const blind = await suggest(['run.json', '--no-calibrate'], fakeDeps(async () => assert.fail('calibrated despite --no-calibrate')));
  assert.match(blind.stdout, /kernels not timed \(--no-calibrate\)/);
  assert.match(blind.stdout, /speed not estimated/);
});

test('twb suggest refuses a compression report, a truncated file and a missing one, naming them', async () => {
  writeFileSync(path.join(dir, 'q.json'), readFileSync(path.join(FIXTURES, 'tiny-bert.int8.quant.json')));
  const text = readFileSync(path.join(FIXTURES, 'tiny-gpt.run.json'), 'utf8');
  writeFileSync(path.join(dir, 'cut.json'), text.slice(0, text.length / 2));
  const deps = fakeDeps(async () => assert.fail('no calibration for a refused document'));
  await assert.rejects(suggest(['q.json'], deps), (e: unknown) => e instanceof TwbError && e.code === 'usage' && /"q\.json" is a compression report; twb suggest reads an inference run/.test(e.message));
  await assert.rejects(suggest(['cut.json'], deps), (e: unknown) => e instanceof TwbError && e.code === 'io' && /"cut\.json": the text is not JSON/.test(e.message));
  await assert.rejects(suggest(['nope.json'], deps), /run file "nope\.json" cannot be read/);
  await assert.rejects(suggest([], deps), /needs one run or plan/);
});
