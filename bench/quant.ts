/**
 * Compression benchmark: each pass through the same path as `twb quantize|prune`, so size, latency
 * (original and new model interleaved in one process, same provider and threads) and agreement are
 * measured side by side. The anchor is ONNX Runtime's own dynamic INT8 on BERT: about 1.6× on AVX2
 * CPUs (2.2× with VNNI), 4× smaller, under one point of accuracy lost.
 *
 * Run alone: `node --import tsx bench/quant.ts`; `runQuantBench()` is for bench/run.ts.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { compressModel, CompressRequest, defaultCompressDeps } from '../engine/src/compress/lab';
import { CompressionReport } from '../engine/src/schema/compression';
import { BenchRow } from './timeline';

const THREADS = Number(process.env.TWB_BENCH_THREADS ?? os.availableParallelism());
const REALDATA = path.resolve(__dirname, '../../shared/realdata/onnx');

interface Case {
  name: string;
  request: Omit<CompressRequest, 'out'>;
  goal: string;
}

const CASES: Case[] = [
  { name: '(e) INT8 dynamic per-channel, tiny-bert b8×s128', request: { model: 'builtin:tiny-bert', mode: 'int8-dynamic', perChannel: true, batch: 8, seq: 128 }, goal: '≥ 1.6×' },
  { name: '(e) INT8 dynamic per-tensor, tiny-bert b8×s128', request: { model: 'builtin:tiny-bert', mode: 'int8-dynamic', batch: 8, seq: 128 }, goal: '≥ 1.6×' },
  { name: '(e) INT8 dynamic, realdata bert_toy_optimized b8', request: { model: path.join(REALDATA, 'onnxruntime/testdata/bert_toy_optimized.onnx'), mode: 'int8-dynamic', perChannel: true, batch: 8, seq: 128 }, goal: '≥ 1.6×' },
  { name: '(e) INT8 static QDQ minmax, tiny-bert b8×s128', request: { model: 'builtin:tiny-bert', mode: 'int8-static', batch: 8, seq: 128 }, goal: 'report' },
  { name: '(e) INT4 weight-only RTN, tiny-gpt b8×s128', request: { model: 'builtin:tiny-gpt', mode: 'int4-weight', batch: 8, seq: 128 }, goal: 'report' },
  { name: '(e) fp16, tiny-bert b8×s128', request: { model: 'builtin:tiny-bert', mode: 'fp16', batch: 8, seq: 128 }, goal: 'report' },
  { name: '(e) 50% head pruning, tiny-bert b8×s128', request: { model: 'builtin:tiny-bert', mode: 'heads', amount: 0.5, batch: 8, seq: 128 }, goal: 'report' },
];

export async function runQuantBench(runs = 40): Promise<BenchRow[]> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'twb-bench-quant-'));
  const rows: BenchRow[] = [];
  try {
    for (const [i, c] of CASES.entries()) {
      let r: CompressionReport;
      try {
        r = await compressModel({ ...c.request, out: path.join(dir, `m${i}.onnx`), threads: THREADS, runs }, defaultCompressDeps());
      } catch (e) {
        rows.push({ name: c.name, value: 'failed', goal: c.goal, detail: e instanceof Error ? e.message : String(e) });
        continue;
      }
      const size = r.sizeBytes.before / r.sizeBytes.after;
      const sqnr = r.output.sqnrDb === null ? 'exact' : `${r.output.sqnrDb.toFixed(1)} dB`;
      rows.push({
        name: `${c.name}: speedup`,
        value: `${r.speedup.toFixed(2)}×`,
        goal: c.goal,
        detail: `p50 ${r.latencyMs.before.toFixed(2)} → ${r.latencyMs.after.toFixed(2)} ms (${runs} interleaved runs each)`,
      });
      rows.push({
        name: `${c.name}: size ratio`,
        value: `${size.toFixed(2)}×`,
        goal: c.request.mode === 'int8-dynamic' ? '≈ 4×' : 'report',
        detail: `${(r.sizeBytes.before / 1024).toFixed(0)} → ${(r.sizeBytes.after / 1024).toFixed(0)} KiB; output SQNR ${sqnr}, top-1 agreement ${(r.output.top1Agreement * 100).toFixed(1)}% on ${r.analysis.examples} generated examples`,
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

if (require.main === module) {
  runQuantBench().then(
    (rows) => {
      for (const r of rows) console.log(`${r.name.padEnd(64)} ${r.value.padStart(7)}  ${r.goal.padEnd(7)}  ${r.detail}`);
    },
    (e: unknown) => {
      console.error(`bench failed: ${e instanceof Error ? e.message : String(e)}`);
      process.exitCode = 1;
    },
  );
}
