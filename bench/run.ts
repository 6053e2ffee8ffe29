/**
 * `npm run bench`: ratios measured side by side in one process, printed as a table.
 *  (a) engine p50 vs a bare InferenceSession.run loop on the same model and options (goal ≤ 1.05)
 *  (b) profiled vs unprofiled run time (goal ≤ 1.10)
 *  (c) builtin:tiny-gpt at batch 8: achieved GFLOP/s vs one 1024³ MatMul through ORT, and vs the
 *      CPU's theoretical fp32 peak (an estimate from the clock and AVX2 FMA width)
 *  (d) the webview's Timeline with 200k kernels in headless Chromium: first draw and ms per pan/zoom
 *      frame (goal ≤ 16 ms)
 *  (e) compression: INT8 dynamic speedup and size against fp32 on builtin:tiny-bert at batch 8 and
 *      on a realdata BERT (anchor: ONNX Runtime's own dynamic INT8 on BERT, ~1.6× on AVX2, 4×
 *      smaller), plus static INT8, INT4, fp16 and head pruning (bench/quant.ts)
 *  (f) training: tfjs step time against PyTorch on the CPU for the same configuration, and
 *      tokens/s per tfjs backend (bench/train.ts)
 *  (g) a real 2-stage pipeline of ORT workers against the whole model in one session, and against
 *      the simulator fed the measured stage times (bench/pipeline.ts)
 *  (h) the advisor's speed estimates (INT8, INT4, threads) against the measured change (bench/advisor.ts)
 *  (i) trace import: the 51 MiB realdata Kineto trace, unzipped, imported (streamed parse,
 *      analysis) against plain JSON.parse of the same file (goal ≤ 1.5×), with the .gz import and
 *      JSON.parse of the text already in memory beside it, and the import's peak memory against the
 *      unzipped size (bench/trace-import.ts)
 * No assertions: these machines are noisy, so figures are reported, not enforced.
 */
import * as os from 'node:os';
import { readFileSync } from 'node:fs';
import { encodeModel } from '../engine/src/onnx/codec';
import { tensorFromFloat32 } from '../engine/src/onnx/tensor-data';
import { DataType } from '../engine/src/onnx/types';
import { GraphBuilder } from '../engine/src/model/graph-builder';
import { buildTransformer } from '../engine/src/model/transformer';
import { PRESETS } from '../engine/src/model/spec';
import { defaultDeps, profileInference } from '../engine/src/profile/profiler';
import { ort } from '../engine/src/runtime/ort';
import { createRng } from '../engine/src/util/rng';
import { percentile } from '../engine/src/util/stats';
import { InferenceRun } from '../engine/src/schema/run';
import { BenchRow, runTimelineBench } from './timeline';
import { runQuantBench } from './quant';
import { runTrainBench } from './train';
import { runPipelineBench } from './pipeline';
import { runAdvisorBench } from './advisor';
import { runTraceImportBench } from './trace-import';

const THREADS = Number(process.env.TWB_BENCH_THREADS ?? os.availableParallelism());
const ROUNDS = Number(process.env.TWB_BENCH_ROUNDS ?? 3);
const RUNS = 40;

type Row = BenchRow;

/** p50 of `runs` plain `session.run` calls after `warmup`, on tensors made once. */
async function bareLoopP50(model: Uint8Array, feeds: Record<string, { type: 'int64' | 'float32'; data: BigInt64Array | Float32Array; dims: number[] }>, runs: number): Promise<number> {
  const o = ort();
  const session = await o.InferenceSession.create(model, { executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: THREADS, interOpNumThreads: 1 });
  const tensors = Object.fromEntries(Object.entries(feeds).map(([k, f]) => [k, new o.Tensor(f.type, f.data, f.dims)]));
  for (let i = 0; i < 5; i++) await session.run(tensors);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await session.run(tensors);
    times.push(performance.now() - t0);
  }
  await session.release();
  return percentile(times, 50);
}

function tokenFeed(batch: number, seq: number) {
  const rng = createRng(0);
  return { input_ids: { type: 'int64' as const, data: BigInt64Array.from({ length: batch * seq }, () => BigInt(rng.int(0, 1024))), dims: [batch, seq] } };
}

function matmulModel(n: number): Uint8Array {
  const g = new GraphBuilder();
  g.input('a', DataType.FLOAT, [n, n]);
  const rng = createRng(1);
  const w = g.init(tensorFromFloat32('b', [n, n], Float32Array.from({ length: n * n }, () => rng.normal())));
  g.output(g.op('matmul', 'MatMul', ['a', w]), 'c', DataType.FLOAT, [n, n]);
  return encodeModel({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }], graph: g.build('matmul') });
}

/** Theoretical fp32 peak: cores × clock × 32 FLOP/cycle (two 8-wide FMA units); an estimate. */
function cpuPeakGflops(): { gflops: number; basis: string } | undefined {
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    if (!/\bfma\b/.test(info) || !/\bavx2\b/.test(info)) return undefined;
    const mhz = Math.max(...[...info.matchAll(/cpu MHz\s*:\s*([\d.]+)/g)].map((m) => Number(m[1])));
    const cores = os.availableParallelism();
    return { gflops: (cores * mhz * 32) / 1000, basis: `${cores} cores × ${(mhz / 1000).toFixed(2)} GHz × 32 FLOP/cycle` };
  } catch {
    return undefined;
  }
}

const median = (xs: number[]) => percentile(xs, 50);

async function main(): Promise<void> {
  const rows: Row[] = [];
  const model = encodeModel(buildTransformer(PRESETS['tiny-gpt']));
  const batch1 = tokenFeed(1, 128);

  // (a) + (b): alternate engine and bare loop so drift hits both sides alike.
  const engine: number[] = [];
  const bare: number[] = [];
  const overhead: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const run = await profileInference({ model: 'builtin:tiny-gpt', threads: THREADS, batch: 1, seq: 128, runs: RUNS, profiledRuns: RUNS, warmup: 5 }, defaultDeps());
    engine.push(run.latencyMs.p50);
    overhead.push(run.profiledLatencyMs.p50 / run.latencyMs.p50);
    bare.push(await bareLoopP50(model, batch1, RUNS));
  }
  const ratioA = median(engine) / median(bare);
  rows.push({ name: '(a) engine p50 / bare ORT loop p50', value: ratioA.toFixed(3), goal: '≤ 1.05', detail: `tiny-gpt b1×s128: engine ${median(engine).toFixed(2)} ms, bare ${median(bare).toFixed(2)} ms (median of ${ROUNDS} rounds × ${RUNS} runs)` });
  rows.push({ name: '(b) profiled p50 / unprofiled p50, batch 1', value: median(overhead).toFixed(3), goal: '≤ 1.10', detail: `same sessions' options; profiled session records every kernel and its memory` });

  // (b) at batch 8 and (c): rounds again, medians, so one noisy moment does not decide a figure.
  const n = 1024;
  const matmul = matmulModel(n);
  const matFeed = { a: { type: 'float32' as const, data: Float32Array.from({ length: n * n }, (_, i) => (i % 7) / 7), dims: [n, n] } };
  const bigGflops: number[] = [];
  const bigOverhead: number[] = [];
  const perKernel: number[] = [];
  const matGflopsRounds: number[] = [];
  let big: InferenceRun | undefined;
  for (let r = 0; r < ROUNDS; r++) {
    big = await profileInference({ model: 'builtin:tiny-gpt', threads: THREADS, batch: 8, seq: 128, runs: 20, profiledRuns: 5, warmup: 3 }, defaultDeps());
    bigGflops.push(big.compute.gflops);
    bigOverhead.push(big.profiledLatencyMs.p50 / big.latencyMs.p50);
    const kernelsPerRun = big.trace.op.length / Math.max(1, big.trace.runUs.length);
    perKernel.push(((big.profiledLatencyMs.p50 - big.latencyMs.p50) * 1000) / kernelsPerRun);
    matGflopsRounds.push((2 * n ** 3) / ((await bareLoopP50(matmul, matFeed, 20)) * 1e6));
  }
  const matGflops = median(matGflopsRounds);
  const modelGflops = median(bigGflops);
  rows.push({ name: '(b) profiled p50 / unprofiled p50, batch 8', value: median(bigOverhead).toFixed(3), goal: '≤ 1.10', detail: median(perKernel) > 0 ? `ORT's profiler costs ≈ ${median(perKernel).toFixed(1)} µs per kernel (${big!.trace.op.length / big!.trace.runUs.length} kernels a run), so short runs pay more` : 'no measurable profiler cost at this size (difference within noise)' });
  rows.push({ name: '(c) tiny-gpt b8 GFLOP/s / 1024³ MatMul GFLOP/s', value: (modelGflops / matGflops).toFixed(3), goal: 'report', detail: `model ${modelGflops.toFixed(1)} GFLOP/s (${(big!.compute.flops / 1e9).toFixed(2)} GFLOP per run); MatMul ${matGflops.toFixed(1)} GFLOP/s; medians of ${ROUNDS} rounds` });
  const peak = cpuPeakGflops();
  if (peak) {
    rows.push({ name: '(c) 1024³ MatMul / CPU fp32 peak (estimate)', value: (matGflops / peak.gflops).toFixed(3), goal: 'report', detail: `peak ≈ ${peak.gflops.toFixed(0)} GFLOP/s = ${peak.basis}` });
    rows.push({ name: '(c) tiny-gpt b8 / CPU fp32 peak (estimate)', value: (modelGflops / peak.gflops).toFixed(3), goal: 'report', detail: '' });
  }

  rows.push(...(await runTimelineBench()));
  rows.push(...(await runQuantBench()));
  rows.push(...(await runTrainBench()));
  rows.push(...(await runPipelineBench()));
  rows.push(...(await runAdvisorBench()));
  rows.push(...(await runTraceImportBench()));

  const w = [Math.max(...rows.map((r) => r.name.length)), Math.max(...rows.map((r) => r.value.length)), 7];
  console.log(`Transformer Workbench benchmarks · ${os.cpus()[0]?.model ?? 'cpu'} · ${THREADS} threads · ONNX Runtime ${ort().env.versions.node}`);
  console.log(`${'ratio'.padEnd(w[0])}  ${'value'.padStart(w[1])}  ${'goal'.padEnd(w[2])}  detail`);
  for (const r of rows) console.log(`${r.name.padEnd(w[0])}  ${r.value.padStart(w[1])}  ${r.goal.padEnd(w[2])}  ${r.detail}`);
}

main().catch((e) => {
  console.error(`bench failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
});
