/**
 * Training benchmark (issue #5): one training step of a built-in transformer through the same path
 * as `twb train`, against PyTorch on the CPU for the same configuration, measured in one run.
 *  (f) engine step p50 (tfjs, each backend that runs here) / PyTorch step p50, same threads
 *  (f) tokens/s per backend
 * PyTorch is Debian's python3-torch run by /usr/bin/python3 (bench/torch_train.py: the same
 * architecture, AdamW and clipping). With its default reference BLAS it is ~16× slower than with
 * OpenBLAS, so install libopenblas0-pthread too; the row says which BLAS ran. tfjs's wasm backend is
 * single-threaded in Node, so the like-for-like PyTorch figure is at 1 thread; the all-cores figure
 * is reported beside it.
 *
 * Run alone: `node --import tsx bench/train.ts`; `runTrainBench()` is for bench/run.ts.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { PRESETS, TransformerSpec } from '../engine/src/model/spec';
import { trainModel } from '../engine/src/train/trainer';
import { percentile } from '../engine/src/util/stats';
import { BenchRow } from './timeline';

const PYTHON = '/usr/bin/python3';
const SCRIPT = path.join(__dirname, 'torch_train.py');
const STEPS = Number(process.env.TWB_BENCH_TRAIN_STEPS ?? 6);

interface Config {
  model: 'tiny-gpt' | 'tiny-bert';
  batch: number;
  seq: number;
}

const CONFIGS: Config[] = [
  { model: 'tiny-gpt', batch: 8, seq: 128 },
  { model: 'tiny-bert', batch: 8, seq: 128 },
];

/** Which BLAS Debian's alternatives give PyTorch (`openblas-pthread`, or `blas` for the reference one). */
function blasName(): string {
  try {
    return path.basename(path.dirname(realpathSync('/usr/lib/x86_64-linux-gnu/libblas.so.3')));
  } catch {
    return 'unknown';
  }
}

function torchStepMs(spec: TransformerSpec, c: Config, threads: number): { p50: number; version: string; blas: string } | { error: string } {
  try {
    const out = execFileSync(PYTHON, [SCRIPT, JSON.stringify(spec), String(c.batch), String(c.seq), String(STEPS), String(threads)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const r = JSON.parse(out.trim().split('\n').pop()!) as { torch: string; stepMs: number[] };
    return { p50: percentile(r.stepMs, 50), version: r.torch, blas: blasName() };
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    return { error: /No module named 'torch'/.test(msg) ? 'PyTorch not installed (apt-get install python3-torch libopenblas0-pthread)' : msg.split('\n')[0] };
  }
}

async function engineStep(c: Config, backend: 'wasm' | 'cpu', steps: number) {
  const task = PRESETS[c.model].kind === 'encoder' ? 'count-compare' : 'sort';
  const run = await trainModel({ model: `builtin:${c.model}`, task, backend, steps, batch: c.batch, seq: c.seq, evalEvery: 1_000_000, evalExamples: c.batch, profiledSteps: 0, seed: 0 });
  return { p50: run.stepMs.p50, tokensPerSecond: run.tokensPerSecond, backend: run.backend };
}

export async function runTrainBench(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const c of CONFIGS) {
    const spec = PRESETS[c.model];
    const label = `${c.model} b${c.batch}×s${c.seq}`;
    const wasm = await engineStep(c, 'wasm', STEPS + 2);
    const torch1 = torchStepMs(spec, c, 1);
    const torchN = torchStepMs(spec, c, os.availableParallelism());
    if ('error' in torch1 || 'error' in torchN) {
      rows.push({ name: `(f) tfjs wasm step / PyTorch step, ${label}`, value: 'n/a', goal: 'report', detail: 'error' in torch1 ? torch1.error : (torchN as { error: string }).error });
    } else {
      rows.push({ name: `(f) tfjs wasm step / PyTorch 1-thread step, ${label}`, value: (wasm.p50 / torch1.p50).toFixed(2), goal: 'report', detail: `tfjs ${wasm.p50.toFixed(0)} ms vs PyTorch ${torch1.version} (${torch1.blas} BLAS) ${torch1.p50.toFixed(0)} ms; both single-threaded` });
      rows.push({ name: `(f) tfjs wasm step / PyTorch ${os.availableParallelism()}-thread step, ${label}`, value: (wasm.p50 / torchN.p50).toFixed(2), goal: 'report', detail: `PyTorch ${torchN.p50.toFixed(0)} ms on all cores; tfjs wasm cannot use threads in Node` });
    }
    rows.push({ name: `(f) tokens/s, tfjs wasm, ${label}`, value: wasm.tokensPerSecond.toFixed(0), goal: 'report', detail: `step p50 ${wasm.p50.toFixed(0)} ms` });
  }
  // The pure-JS cpu backend is an order of magnitude slower: one small configuration only.
  const small: Config = { model: 'tiny-bert', batch: 2, seq: 64 };
  const cpu = await engineStep(small, 'cpu', 4);
  const wasm = await engineStep(small, 'wasm', 4);
  rows.push({ name: '(f) tokens/s, tfjs cpu vs wasm, tiny-bert b2×s64', value: (cpu.tokensPerSecond / wasm.tokensPerSecond).toFixed(2), goal: 'report', detail: `cpu ${cpu.tokensPerSecond.toFixed(0)} tokens/s, wasm ${wasm.tokensPerSecond.toFixed(0)} tokens/s; tensorflow and webgpu: not installable/usable here (see twb train --backend)` });
  return rows;
}

if (require.main === module) {
  void runTrainBench().then((rows) => {
    for (const r of rows) console.log(`${r.name}  ${r.value}  ${r.goal}  ${r.detail}`);
  });
}
