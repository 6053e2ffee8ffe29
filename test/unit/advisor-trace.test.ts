/**
 * The advisor on imported traces (issue #8 point 3): every trace rule fires on a trace that should
 * trigger it and stays quiet, saying why, on one that should not — real imports of the realdata
 * traces (`test/fixtures/traces/*.run.json`), copies of them edited in the test, and a small
 * hand-made trace whose idle-time figures are known exactly. Kernel names of the real traces are
 * classified by precision; reports validate; code changes are shown, not applied; `twb suggest`
 * reads a kept trace and a raw trace file; the Suggestions view's model says why Apply is off.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { adviseRun } from '../../engine/src/advisor/advise';
import { applySuggestion } from '../../engine/src/advisor/apply';
import { calibrateTraceKernels, defaultCalibrationDeps, TRACE_PROBE_SHAPE } from '../../engine/src/advisor/calibrate';
import { commandFor } from '../../engine/src/advisor/change-command';
import type { AdvisableDocument, AdviseEnv } from '../../engine/src/advisor/rules/types';
import { suggestFor, SuggestDeps } from '../../engine/src/advisor/suggest';
import { idleFacts } from '../../engine/src/advisor/trace-idle';
import { matrixPrecision, precisionFacts } from '../../engine/src/advisor/trace-facts';
import { parseArgs } from '../../engine/src/cli/args';
import { SUGGEST_OPTIONS, suggestCommand } from '../../engine/src/cli/suggest-command';
import type { KernelCalibration, Suggestion, SuggestionsReport } from '../../engine/src/schema/advice';
import type { InferenceRun } from '../../engine/src/schema/run';
import type { TraceOpType, TraceRun } from '../../engine/src/schema/trace';
import { validateSuggestionsReport } from '../../engine/src/schema/validate-advice';
import { TwbError } from '../../engine/src/util/errors';
import { engineParamValidators } from '../../engine/src/protocol/engine';
import { applicableChange, applyBlocked, CODE_APPLY, codeChange, latencyLabel } from '../../webview/src/model/suggestion-card';
import { suggestionsPickerLabel } from '../../webview/src/model/suggestion-report';

const TRACES = path.join(__dirname, '../fixtures/traces');
const dir = mkdtempSync(path.join(os.tmpdir(), 'twb-advisor-trace-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const load = (name: string): TraceRun => JSON.parse(readFileSync(path.join(TRACES, `${name}.run.json`), 'utf8')) as TraceRun;
const resnet = () => load('resnet50-v100');
const nccl = () => load('nccl-a100-rank0');
const cpuOnly = () => load('cpu-only-rank34');
const env: AdviseEnv = { cores: 2, providers: [], now: new Date('2026-03-01T10:00:00Z') };
const doc = (run: TraceRun): AdvisableDocument => ({ kind: 'trace', run });
const near = (a: number | null, b: number, tol = 1e-9) => assert.ok(a !== null && Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} ≉ ${b}`);

/** The rule's suggestion or its quiet reason; the report must validate either way. */
function outcome(run: TraceRun, id: string, calibration: KernelCalibration | null = null): { fired?: Suggestion; quiet?: string; report: SuggestionsReport } {
  const report = validateSuggestionsReport(JSON.parse(JSON.stringify(adviseRun(doc(run), calibration, env))));
  const fired = report.suggestions.find((s) => s.id === id);
  const quiet = report.quiet.find((q) => q.rule === `trace/${id}`)?.why;
  assert.ok(fired || quiet, `rule ${id} neither fired nor was listed as quiet`);
  return { fired, quiet, report };
}

const meanStep = (run: TraceRun) => run.steps.reduce((s, x) => s + x.durUs, 0) / run.steps.length;

test('kernel names of the real traces: fp32 SIMT, TF32 tensor cores, half precision, not a product', () => {
  const cases: Array<[string, ReturnType<typeof matrixPrecision>]> = [
    ['void cudnn::detail::dgrad_engine<float, 512, 6, 5, 3, 3, 3, false>(int, int, int, float const*, int)', 'fp32'],
    ['void implicit_convolve_sgemm<float, float, 1024, 6, 7, 3, 3, 5, 1, false, true, true>(int, int)', 'fp32'],
    ['volta_sgemm_64x64_nt', 'fp32'],
    ['volta_scudnn_winograd_128x128_ldg1_ldg4_relu_tile148t_nt_v1', 'fp32'],
    ['cudnn_ampere_scudnn_128x64_relu_xregs_large_nn_v1', 'fp32'],
    ['ampere_gcgemm_64x64_nt', 'fp32'],
    ['void cutlass::Kernel<cutlass_80_tensorop_s1688gemm_256x64_16x4_nn_align4>(cutlass_80_tensorop_s1688gemm_256x64_16x4_nn_align4::Params)', 'tf32'],
    ['sm80_xmma_fprop_implicit_gemm_indexed_tf32f32_tf32f32_f32_nhwckrsc_nchw_tilesize128x128x16_stage4_warpsize2x2x1_g1_tensor16x8x8', 'tf32'],
    ['void cutlass::Kernel<cutlass_70_wmma_tensorop_f16_s161616gemm_f16_32x32_64x2_tn_align8>(Params)', 'half'],
    ['void gemmk1_kernel<float, 256, 5, false, false, false, false, cublasGemvTensorStridedBatched<__half const>, float>(Params)', 'half'],
    ['ampere_fp16_s16816gemm_fp16_128x128_ldg8_f2f_stages_32x5_nn', 'half'],
    ['Cijk_Ailk_Bljk_SB_MT64x64x16_SN_1LDSB0_APM1', 'fp32'],
    ['Cijk_Ailk_Bljk_BBS_BH_MT128x128x32_MI32x32x8x1_SN', 'half'],
    ['ncclKernel_AllReduce_RING_LL_Sum_float(ncclDevComm*, unsigned long, ncclWork*)', null],
    ['void cudnn::bn_bw_1C11_kernel_new<float, float, float2, 512, true, 1>(float, float)', null],
    ['void at::native::vectorized_elementwise_kernel<4, at::native::AddFunctor<float>, at::detail::Array<char*, 3> >(int)', null],
  ];
  for (const [name, want] of cases) assert.equal(matrixPrecision(name), want, name);
  // ResNet-50 training on a V100 (no TF32, no autocast): two thirds of kernel time in fp32 products and convolutions.
  const p = precisionFacts(resnet());
  assert.equal(p.byPrecision.tf32.us, 0);
  assert.equal(p.byPrecision.half.us, 0);
  assert.ok(p.byPrecision.fp32.us / p.computeUs > 0.6, `${p.byPrecision.fp32.us / p.computeUs}`);
  // The A100 DDP trace: cuDNN picked TF32 kernels for the convolutions.
  const a = precisionFacts(nccl());
  assert.ok(a.byPrecision.tf32.us / a.computeUs > 0.25 && a.byPrecision.fp32.us / a.computeUs < 0.05);
});

/** One step of 100 µs: GPU busy 0-10 and 60-100; the host loads a batch at 10-50 and copies it at 50-58. */
function handMade(hostOps: Array<[string, number, number, number]> = [['ProfilerStep#1', 0, 100, 0], ['enumerate(DataLoader)#_SingleProcessDataLoaderIter.__next__', 10, 40, 1], ['aten::copy_', 50, 8, 1]]): TraceRun {
  const names = [...new Set([...hostOps.map((o) => o[0]), 'gemm_a', 'gemm_b'])];
  const rows = [...hostOps.map(([name, start, dur, depth]) => ({ lane: 0, name, start, dur, depth })), { lane: 1, name: 'gemm_a', start: 0, dur: 10, depth: 0 }, { lane: 1, name: 'gemm_b', start: 60, dur: 40, depth: 0 }];
  const op = (opType: string, selfUs: number): TraceOpType => ({ opType, calls: 1, selfUs, totalUs: selfUs, selfShare: selfUs / 100 });
  return {
    schemaVersion: 1,
    kind: 'trace',
    id: 'hand-made',
    createdAt: '2026-03-01T10:00:00.000Z',
    source: { file: '/tmp/hand.pt.trace.json', name: 'hand.pt.trace.json', format: 'kineto', fileBytes: 1, jsonBytes: 1, gzip: false, events: rows.length },
    meta: { devices: [{ id: 0, name: 'NVIDIA A100', totalMemoryBytes: 40e9, computeCapability: '8.0' }] },
    spanUs: 100,
    opTypes: hostOps.map(([name, , dur]) => op(name.replace(/#\d+$/, '*'), dur)),
    kernels: [],
    gpu: { devices: [{ device: 0, kernelUs: 50, busyUs: 50, idleUs: 50, utilization: 0.5, spanUs: 100 }], spanUs: 100 },
    communication: null,
    steps: [{ name: 'ProfilerStep#1', step: 1, startUs: 0, durUs: 100 }],
    timeline: {
      lanes: [{ name: 'python · thread 1', kind: 'cpu' }, { name: 'GPU 0 · stream 7', kind: 'gpu' }],
      names,
      lane: rows.map((r) => r.lane),
      startUs: rows.map((r) => r.start),
      durUs: rows.map((r) => r.dur),
      name: rows.map((r) => names.indexOf(r.name)),
      depth: rows.map((r) => r.depth),
      frame: rows.map(() => -1),
      dropped: 0,
    },
    frames: [],
    warnings: [],
  };
}

test('idle facts: which host op was innermost, or open, while the GPU idled (hand-made, exact)', () => {
  const f = idleFacts(handMade())!;
  assert.equal(f.idleUs, 50);
  assert.equal(f.gaps, 1);
  assert.deepEqual(f.self, [{ name: 'enumerate(DataLoader)#_SingleProcessDataLoaderIter.__next__', us: 40 }, { name: 'aten::copy_', us: 8 }, { name: 'ProfilerStep*', us: 2 }]);
  assert.equal(f.open.get('ProfilerStep*'), 50);
  assert.equal(f.coveredUs, 48, 'the step marker does not count as host work');
  assert.equal(f.selfInDataLoader.size, 0);
  // Collation inside the DataLoader is data loading: it is set apart from the framework ops of the step.
  const nested = idleFacts(handMade([['ProfilerStep#1', 0, 100, 0], ['enumerate(DataLoader)#x', 10, 40, 1], ['aten::stack', 20, 10, 2], ['aten::stack', 52, 4, 1]]))!;
  assert.deepEqual(nested.self.slice(0, 2), [{ name: 'enumerate(DataLoader)#x', us: 30 }, { name: 'aten::stack', us: 14 }]);
  assert.deepEqual([...nested.selfInDataLoader], [['aten::stack', 10]]);
  // On the real V100 trace the idle time on the timeline is the importer's own idle figure.
  const run = resnet();
  near(idleFacts(run)!.idleUs, run.gpu!.devices[0].idleUs, 1e-6);
});

test('gpu-idle: fires with the DataLoader as the cause, the bound span ÷ busy, and the user\'s line', () => {
  const run = resnet();
  const s = outcome(run, 'gpu-idle').fired!;
  assert.ok(s, 'fires at 60.6% busy');
  const g = run.gpu!;
  near(s.estimate.speedup, g.spanUs / g.devices[0].busyUs);
  near(s.estimate.latencyMs, meanStep(run) / 1000 / (g.spanUs / g.devices[0].busyUs));
  assert.match(s.estimate.basis, /^Upper bound: all idle time removed/);
  assert.equal(s.evidence.items[0].what, 'enumerate(DataLoader)#_SingleProcessDataLoaderIter.__next__');
  assert.match(s.evidence.summary, /data loading \(enumerate\(DataLoader\)\) 286\.\d\d ms \(73\.0%\)/);
  assert.match(s.evidence.summary, /copies from pageable \(not pinned\) host memory/);
  assert.equal(s.change.kind, 'code');
  if (s.change.kind !== 'code') return;
  assert.match(s.change.snippet, /num_workers=8/);
  assert.match(s.change.snippet, /pin_memory=True/);
  assert.match(s.change.snippet, /non_blocking=True/);
  assert.doesNotMatch(s.change.snippet, /synchronize/, 'waits are 0.2% of the idle time: no advice about them');
  assert.equal(s.change.where, 'resnet50_profiler_api.py:42 (<module>)', 'the DataLoader\'s frame');
  assert.match(s.command, /^edit resnet50_profiler_api\.py:42 \(<module>\) .*twb suggest NEW_TRACE$/);
  // Hand-made: DataLoader 40 of the 50 µs idle, copies 8.
  const h = outcome(handMade(), 'gpu-idle').fired!;
  assert.deepEqual(h.evidence.items.map((i) => [i.what, i.share]), [['enumerate(DataLoader)#_SingleProcessDataLoaderIter.__next__', 0.8], ['aten::copy_', 0.16]]);
  near(h.estimate.speedup, 2);
});

test('gpu-idle: quiet on a busy GPU, a CPU trace, start-up idle time and a short unstepped trace', () => {
  const busy = resnet();
  busy.gpu!.devices[0].utilization = 0.85;
  assert.match(outcome(busy, 'gpu-idle').quiet!, /GPU 0 is busy 85\.0% of its span/);
  assert.match(outcome(cpuOnly(), 'gpu-idle').quiet!, /no GPU activity/);
  const startUp = handMade([['cudaMalloc', 10, 30, 0], ['aten::empty', 40, 10, 0]]);
  assert.match(outcome(startUp, 'gpu-idle').quiet!, /mostly CUDA start-up .*60\.0% of it/);
  const short = handMade();
  short.steps = [];
  assert.match(outcome(short, 'gpu-idle').quiet!, /100 µs without ProfilerStep#N is too short/);
});

test('gpu-idle: a host-bound trace (framework ops fill the gaps) gets the batch/compile advice', () => {
  const s = outcome(nccl(), 'gpu-idle').fired!;
  assert.ok(s);
  assert.match(s.evidence.summary, /framework ops and CUDA runtime calls innermost/);
  assert.ok(s.change.kind === 'code' && /torch\.compile/.test(s.change.snippet) && !/num_workers/.test(s.change.snippet), 'no DataLoader in this trace');
});

test('exposed-communication: fires on the DDP trace with the bound of hiding comm − overlap', () => {
  const run = nccl();
  const c = run.communication!;
  const s = outcome(run, 'exposed-communication').fired!;
  assert.ok(s, `fires at ${c.overlapShare} overlap`);
  const span = run.gpu!.devices[0].spanUs;
  near(s.estimate.speedup, span / (span - (c.commUs - c.overlapUs)));
  near(s.estimate.latencyMs, meanStep(run) / 1000 / s.estimate.speedup!);
  assert.match(s.evidence.items[0].what, /^ncclKernel_AllReduce_RING_LL_Sum_float ×15$/);
  assert.match(s.evidence.summary, /nccl, rank 0 of 2/);
  assert.ok(s.change.kind === 'code' && /bucket_cap_mb/.test(s.change.snippet) && /gradient_as_bucket_view=True/.test(s.change.snippet));
  assert.ok(!s.warnings.some((w) => /assumes DDP/.test(w)), 'DistributedDataParallel.forward is in the trace');
  assert.ok(s.warnings.some((w) => /busy only 23\.8%/.test(w)));
  assert.equal(s.estimate.accuracyRisk, 'none');
  // FSDP gets prefetching instead.
  const fsdp = nccl();
  fsdp.opTypes = fsdp.opTypes.map((o) => (o.opType === 'DistributedDataParallel.forward' ? { ...o, opType: 'FullyShardedDataParallel.forward' } : o));
  const f = outcome(fsdp, 'exposed-communication').fired!;
  assert.ok(f.change.kind === 'code' && /forward_prefetch=True/.test(f.change.snippet));
});

test('exposed-communication: quiet without NCCL kernels and when most of it overlaps', () => {
  assert.match(outcome(resnet(), 'exposed-communication').quiet!, /no collective-communication kernels/);
  const hidden = nccl();
  hidden.communication = { ...hidden.communication!, overlapUs: hidden.communication!.commUs * 0.7, overlapShare: 0.7 };
  assert.match(outcome(hidden, 'exposed-communication').quiet!, /70\.0% of the communication time overlaps computation/);
});

test('fp32-gemm: fires on the V100 trace with fp16 + GradScaler, speed left out, the bound in the basis', () => {
  const run = resnet();
  const s = outcome(run, 'fp32-gemm').fired!;
  assert.ok(s);
  assert.equal(s.estimate.speedup, null);
  assert.equal(s.estimate.latencyMs, null);
  const fp32 = precisionFacts(run).byPrecision.fp32.us;
  const span = run.gpu!.devices[0].spanUs;
  assert.ok(s.estimate.basis.includes(`${(span / (span - fp32)).toFixed(2)}×`), s.estimate.basis);
  assert.match(s.estimate.basis, /Upper bound \(Amdahl, the fp32 kernels made free\)/);
  assert.equal(s.estimate.accuracyRisk, 'medium', 'training');
  assert.ok(s.change.kind === 'code' && /dtype=torch\.float16/.test(s.change.snippet) && /GradScaler/.test(s.change.snippet), 'V100 (7.0) has no bf16');
  assert.match(s.evidence.items[0].what, /dgrad_engine<float.* ← aten::cudnn_convolution_backward_input$/);
  assert.ok(s.warnings.some((w) => /check accuracy/.test(w)));
  // The same kernels on an Ampere GPU: bf16, no scaler.
  const ampere = resnet();
  ampere.meta.devices = ampere.meta.devices.map((d) => ({ ...d, computeCapability: '8.0' }));
  const b = outcome(ampere, 'fp32-gemm').fired!;
  assert.ok(b.change.kind === 'code' && /dtype=torch\.bfloat16/.test(b.change.snippet) && !/GradScaler/.test(b.change.snippet));
});

test('fp32-gemm: quiet where products already run in TF32, on a GPU without tensor cores, and without a GPU', () => {
  assert.match(outcome(nccl(), 'fp32-gemm').quiet!, /^2\.1% of GPU kernel time is in fp32 .*\(30\.5% in TF32 on tensor cores\)/);
  const pascal = resnet();
  pascal.meta.devices = pascal.meta.devices.map((d) => ({ ...d, name: 'Tesla P100', computeCapability: '6.0' }));
  assert.match(outcome(pascal, 'fp32-gemm').quiet!, /Tesla P100 \(compute capability 6\.0\) has no tensor cores/);
  assert.match(outcome(cpuOnly(), 'fp32-gemm').quiet!, /no GPU activity/);
});

test('launch-bound: fires when many kernels are shorter than their launches; the bound is the launch time', () => {
  const run = resnet();
  assert.match(outcome(run, 'launch-bound').quiet!, /kernels run 67 µs on average/);
  // Every kernel shrunk to 4 µs: 8772 launches now cost more host time than the GPU works.
  const short = resnet();
  short.kernels = short.kernels.map((k) => (k.category === 'compute' ? { ...k, totalUs: k.calls * 4, meanUs: 4, maxUs: 4 } : k));
  const busy = short.kernels.filter((k) => k.category === 'compute').reduce((s, k) => s + k.totalUs, 0) + 20_000;
  short.gpu!.devices[0] = { ...short.gpu!.devices[0], busyUs: busy, utilization: busy / short.gpu!.devices[0].spanUs };
  const s = outcome(short, 'launch-bound').fired!;
  assert.ok(s);
  const launch = short.opTypes.find((o) => o.opType === 'cudaLaunchKernel')!.selfUs;
  near(s.estimate.speedup, 1 / (1 - launch / short.spanUs));
  assert.match(s.evidence.summary, /8772 kernels ran 4\.0 µs each on average; cudaLaunchKernel took 83\.79 ms/);
  assert.ok(s.change.kind === 'code' && /torch\.compile\(model, mode="reduce-overhead"\)/.test(s.change.snippet) && /CUDAGraph/.test(s.change.snippet));
  // Too few kernels: start-up, not a pattern.
  const few = handMade();
  few.kernels = [{ name: 'k', calls: 4, totalUs: 8, meanUs: 2, maxUs: 2, category: 'compute', launchers: [] }];
  assert.match(outcome(few, 'launch-bound').quiet!, /only 4 kernels ran/);
});

test('memory-limit: fires near the device capacity with the half-micro-batch estimate; quiet otherwise', () => {
  const run = resnet();
  assert.match(outcome(run, 'memory-limit').quiet!, /the peak of 2\.60 GiB on cuda:0 is 8\.2% of its 31\.7 GiB/);
  assert.match(outcome(nccl(), 'memory-limit').quiet!, /no memory events/);
  const full = resnet();
  const peak = full.memory!.peakBytes;
  full.meta.devices[0].totalMemoryBytes = Math.round(peak / 0.92);
  const s = outcome(full, 'memory-limit').fired!;
  assert.ok(s);
  const floor = Math.min(...full.memory!.timeline.filter((p) => p.tUs >= full.steps[0].startUs).map((p) => p.bytes));
  near(s.estimate.memoryBytes, floor + (peak - floor) / 2);
  assert.equal(s.estimate.speedup, null);
  assert.match(s.title, /cuda:0: the memory peak is 92\.0% of the device/);
  assert.ok(s.change.kind === 'code' && /checkpoint\(block, x, use_reentrant=False\)/.test(s.change.snippet) && /twb memory-plan --params/.test(s.change.snippet));
  assert.ok(s.warnings.some((w) => /caching allocator reserves more/.test(w)));
});

/** The CPU-only trace with its ops replaced by an inference forward that is mostly linear layers. */
function cpuInference(): TraceRun {
  const run = cpuOnly();
  const op = (opType: string, selfShare: number, calls = 12): TraceOpType => ({ opType, calls, selfUs: selfShare * 1e5, totalUs: selfShare * 1e5, selfShare });
  run.opTypes = [op('aten::addmm', 0.45), op('aten::bmm', 0.15), op('aten::mm', 0.1), op('aten::softmax', 0.1), op('ProfilerStep*', 0.2, 1)];
  return run;
}

test('torch-int8-dynamic: fires on a CPU inference trace; speed only from a calibration of this run', () => {
  const run = cpuInference();
  const blind = outcome(run, 'torch-int8-dynamic').fired!;
  assert.ok(blind);
  assert.equal(blind.estimate.speedup, null);
  assert.match(blind.estimate.basis, /Not estimated: .*55\.0% of host time, so even free they would give at most 2\.22×/);
  assert.ok(blind.change.kind === 'code' && /quantize_dynamic\(model, \{torch\.nn\.Linear\}, dtype=torch\.qint8\)/.test(blind.change.snippet));
  assert.ok(blind.warnings.some((w) => /recorded on another machine/.test(w)));
  assert.ok(blind.warnings.some((w) => /bmm, attention: 15\.0%/.test(w)));
  assert.equal(blind.estimate.accuracyRisk, 'medium');
  const cal: KernelCalibration = {
    executionProvider: 'cpu', ortVersion: 'test', cpu: 'test', cores: 2, threads: 2, optLevel: 'all', runId: run.id, createdAt: env.now.toISOString(),
    matmul: [{ input: [1, 128, 768], m: 128, k: 768, n: 768, bias: true, share: 1, fp32Us: 300, int8DynamicUs: 150, int8StaticUs: null, int4Us: null, samples: 10 }],
    threadScaling: null, batchScaling: null, elapsedMs: 1,
  };
  const s = outcome(run, 'torch-int8-dynamic', cal).fired!;
  near(s.estimate.speedup, 1 / (1 - 0.55 + 0.55 / 2));
  near(s.estimate.latencyMs, run.steps[0].durUs / 1000 / s.estimate.speedup!);
  assert.match(s.estimate.basis, /\[1×128×768\]·\[768×768\]\+bias \(0\.30 → 0\.15 ms/);
  // A calibration made for another document is not used (and the report says so).
  const other = outcome(run, 'torch-int8-dynamic', { ...cal, runId: 'another' });
  assert.equal(other.fired!.estimate.speedup, null);
  assert.ok(other.report.warnings.some((w) => /measured for run another/.test(w)));
});

test('torch-int8-dynamic: quiet on GPU, training, ONNX Runtime and non-linear CPU traces', () => {
  assert.match(outcome(resnet(), 'torch-int8-dynamic').quiet!, /GPU activity/);
  assert.match(outcome(cpuOnly(), 'torch-int8-dynamic').quiet!, /^0\.0% of host time is in linear layers/);
  const training = cpuInference();
  training.opTypes.push({ opType: 'autograd::engine::evaluate_function: AddmmBackward0', calls: 12, selfUs: 10, totalUs: 10, selfShare: 0.0001 });
  assert.match(outcome(training, 'torch-int8-dynamic').quiet!, /records training \(autograd::engine::evaluate_function: AddmmBackward0\)/);
  const ort = cpuInference();
  ort.source.format = 'ort';
  assert.match(outcome(ort, 'torch-int8-dynamic').quiet!, /ONNX Runtime profile: profile the model with twb profile/);
});

test('reports: source, baseline and warnings of a trace; every fixture\'s report validates; a bad code change does not', () => {
  for (const name of ['resnet50-v100', 'nccl-a100-rank0', 'cpu-only-rank34', 'tf-viewer-demo']) {
    const run = load(name);
    const r = validateSuggestionsReport(JSON.parse(JSON.stringify(adviseRun(doc(run), null, env))));
    assert.deepEqual(r.source, { kind: 'trace', id: run.id, model: run.source.name });
    assert.equal(r.quiet.length + r.suggestions.length, 6, `${name}: every trace rule fired or said why not`);
    assert.ok(r.warnings.some((w) => /recorded on another machine/.test(w)));
    if (run.steps.length > 0) near(r.baseline.latencyMs, meanStep(run) / 1000);
    else near(r.baseline.latencyMs, run.spanUs / 1000);
    assert.equal(r.baseline.memoryBytes, run.memory?.peakBytes ?? null);
    assert.equal(r.baseline.sizeBytes, null);
  }
  const r = adviseRun(doc(resnet()), null, env);
  assert.deepEqual(r.suggestions.map((s) => s.id), ['gpu-idle', 'fp32-gemm'], 'a bound of 1.65× first, the unestimated one after');
  const bad = JSON.parse(JSON.stringify(r));
  bad.suggestions[0].change.language = 'javascript';
  assert.throws(() => validateSuggestionsReport(bad), /suggestions\.suggestions\[0\]\.change\.language: expected "python"/);
  const noSnippet = JSON.parse(JSON.stringify(r));
  delete noSnippet.suggestions[0].change.snippet;
  assert.throws(() => validateSuggestionsReport(noSnippet), /change\.snippet/);
});

test('a code change is shown, never applied: apply refuses it, the card disables Apply with the reason', async () => {
  const r = adviseRun(doc(resnet()), null, env);
  const s = r.suggestions[0];
  assert.equal(commandFor(doc(resnet()), s.change), s.command);
  await assert.rejects(applySuggestion({} as InferenceRun, s, { cwd: dir }, { now: () => env.now }), (e: unknown) => e instanceof TwbError && e.code === 'usage' && /change to your PyTorch program \(resnet50_profiler_api\.py:42/.test(e.message) && /copy the snippet/.test(e.hint ?? ''));
  assert.deepEqual(applicableChange(s.change), { ok: false, reason: CODE_APPLY });
  assert.equal(applyBlocked({ mode: 'profiler', trusted: true, busy: false }, r, s), CODE_APPLY);
  assert.deepEqual(codeChange(s.change), { where: 'resnet50_profiler_api.py:42 (<module>)', language: 'python', snippet: (s.change as { snippet: string }).snippet });
  assert.equal(codeChange({ kind: 'config', patch: { threads: 2 } }), null);
  assert.equal(latencyLabel('trace'), 'mean step time');
  assert.match(suggestionsPickerLabel(r, 0), /^1\. resnet50_v100_worker0\.1623143089861\.pt\.trace\.json\.gz · imported trace · 2 suggestions · /);
});

const fakeDeps = (over: Partial<SuggestDeps> = {}): SuggestDeps => ({
  calibrate: async () => assert.fail('no inference calibration for a trace'),
  providers: async () => [],
  cores: 2,
  now: () => env.now,
  ...over,
});

test('suggestFor: a GPU or training trace is not timed (a note says why); a CPU inference trace is', async () => {
  const gpu = await suggestFor(doc(resnet()), {}, fakeDeps({ calibrateTrace: async () => assert.fail('GPU trace timed') }));
  assert.deepEqual(gpu.notes, ['kernels not timed: a GPU trace, and only CPU kernels can be timed on this machine']);
  let timed = 0;
  const run = cpuInference();
  const cpu = await suggestFor(doc(run), {}, fakeDeps({
    calibrateTrace: async (t) => {
      timed++;
      return { executionProvider: 'cpu', ortVersion: 't', cpu: 't', cores: 2, threads: 2, optLevel: 'all', runId: t.id, createdAt: '', matmul: [{ input: [1, 128, 768], m: 128, k: 768, n: 768, bias: true, share: 1, fp32Us: 200, int8DynamicUs: 100, int8StaticUs: null, int4Us: null, samples: 4 }], threadScaling: null, batchScaling: null, elapsedMs: 1 };
    },
  }));
  assert.equal(timed, 1);
  near(cpu.report.suggestions.find((s) => s.id === 'torch-int8-dynamic')!.estimate.speedup, 1 / (1 - 0.55 / 2));
  const off = await suggestFor(doc(run), { calibrate: false }, fakeDeps({ calibrateTrace: async () => assert.fail('timed despite --no-calibrate') }));
  assert.deepEqual(off.notes, ['kernels not timed (--no-calibrate)']);
  const none = await suggestFor(doc(run), {}, fakeDeps());
  assert.deepEqual(none.notes, ['kernels not timed: no trace calibration here']);
});

test('calibrateTraceKernels times the stand-in product in its fp32 and int8 forms on this machine', async () => {
  const c = await calibrateTraceKernels('trace-x', defaultCalibrationDeps({ budgetMs: 200, cores: 1 }));
  assert.equal(c.runId, 'trace-x');
  assert.equal(c.threads, 1);
  assert.equal(c.matmul.length, 1);
  const k = c.matmul[0];
  assert.deepEqual([k.input, k.k, k.n, k.bias], [TRACE_PROBE_SHAPE.input, 768, 768, true]);
  assert.ok(k.fp32Us > 0 && k.int8DynamicUs > 0 && k.samples >= 4, JSON.stringify(k));
  assert.equal(c.threadScaling, null);
});

const io = () => {
  const out: string[] = [];
  return { out, io: { stdout: (s: string) => out.push(s), stderr: () => {}, status: () => {}, cwd: dir } };
};
const suggest = async (args: string[], deps = fakeDeps()) => {
  const o = io();
  const code = await suggestCommand(parseArgs(args, SUGGEST_OPTIONS, 'suggest'), o.io, undefined, deps);
  return { code, stdout: o.out.join('\n') };
};

test('twb suggest on a kept trace prints the snippet under the card and writes a valid report', async () => {
  writeFileSync(path.join(dir, 'resnet.json'), readFileSync(path.join(TRACES, 'resnet50-v100.run.json')));
  const r = await suggest(['resnet.json', '--json', 'advice.json']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^Suggestions for resnet50_v100_worker0\.1623143089861\.pt\.trace\.json\.gz \(imported trace /);
  assert.match(r.stdout, /^1\. Keep the GPU fed: it is idle 39\.4% of the time {2}\[gpu-idle\]$/m);
  assert.match(r.stdout, /^ {3}code {6}python, at resnet50_profiler_api\.py:42 \(<module>\):\n {13}# Load and collate batches/m);
  assert.match(r.stdout, /^ {17}num_workers=8, /m);
  assert.match(r.stdout, /^ {3}estimate {2}1\.65× faster · step 175 ms → 106 ms · accuracy risk none$/m);
  assert.match(r.stdout, /^Note: kernels not timed: a GPU trace/m);
  const json = validateSuggestionsReport(JSON.parse(readFileSync(path.join(dir, 'advice.json'), 'utf8')));
  assert.equal(json.source.kind, 'trace');
});

test('twb suggest on a raw trace file imports it first (here a CPU training trace: int8 stays quiet)', async () => {
  const r = await suggest([path.join(TRACES, 'torch-encoder-cpu.pt.trace.json.gz')]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^Suggestions for torch-encoder-cpu\.pt\.trace\.json\.gz \(imported trace /);
  assert.match(r.stdout, /trace\/torch-int8-dynamic +the trace records training/);
  assert.match(r.stdout, /^Note: kernels not timed: a training trace/m);
});

test('the engine\'s advice/suggest takes a trace as well as a run, each checked by its own validator', () => {
  const check = engineParamValidators['advice/suggest'];
  const trace = load('resnet50-v100');
  assert.equal((check({ run: trace, calibrate: false }, 'params') as { run: TraceRun }).run.kind, 'trace');
  assert.throws(() => check({ run: { ...trace, opTypes: 'none' }, calibrate: false }, 'params'), /opTypes/);
  assert.throws(() => check({ run: { kind: 'inference' }, calibrate: false }, 'params'), /run\.schemaVersion/);
});
