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
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { buildTransformer } from '../engine/src/model/transformer';
import { encodeModel } from '../engine/src/onnx/codec';
import { GraphBuilder } from '../engine/src/model/graph-builder';
import { DataType } from '../engine/src/onnx/types';
import { tensorFromFloat32 } from '../engine/src/onnx/tensor-data';
import { createRng } from '../engine/src/util/rng';
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

/** One MatMul [m, k] × [k, n] with a constant weight: what int8 buys one product, run-time activation quantization included. */
function matmulModel(m: number, k: number, n: number): Uint8Array {
  const g = new GraphBuilder();
  g.input('x', DataType.FLOAT, [m, k]);
  const rng = createRng(3);
  const w = g.init(tensorFromFloat32('w', [k, n], Float32Array.from({ length: k * n }, () => rng.normal() * 0.02)));
  g.output(g.op('mm', 'MatMul', ['x', w]), 'y', DataType.FLOAT, [m, n]);
  return encodeModel({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }], graph: g.build('matmul') });
}

/**
 * Extra models written to the temp folder: single MatMuls at tiny-bert's b8×s128 shapes and at
 * BERT-base's (what the 1.6× anchor was measured on), and a 2-layer transformer of BERT-base width.
 */
function extraCases(dir: string): Case[] {
  const file = (name: string, bytes: Uint8Array) => {
    const f = path.join(dir, name);
    writeFileSync(f, bytes);
    return f;
  };
  const base = buildTransformer({ layers: 2, hidden: 768, heads: 12, ffn: 3072, vocab: 1024, maxSeq: 128, kind: 'encoder', numClasses: 2 }, { name: 'bert-base-width' });
  return [
    { name: '(e) one MatMul [1024×256]·[256×1024] (tiny-bert FFN shape), int8 dynamic', request: { model: file('mm-256.onnx', matmulModel(1024, 256, 1024)), mode: 'int8-dynamic' }, goal: 'report' },
    { name: '(e) one MatMul [1024×768]·[768×3072] (BERT-base FFN shape), int8 dynamic', request: { model: file('mm-768.onnx', matmulModel(1024, 768, 3072)), mode: 'int8-dynamic' }, goal: 'report' },
    { name: '(e) INT8 dynamic, 2-layer BERT-base width (768/3072) b8×s128', request: { model: file('bert-base-width.onnx', encodeModel(base)), mode: 'int8-dynamic', batch: 8, seq: 128 }, goal: '≥ 1.6×' },
  ];
}

export async function runQuantBench(runs = 40): Promise<BenchRow[]> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'twb-bench-quant-'));
  const rows: BenchRow[] = [];
  try {
    for (const [i, c] of [...CASES, ...extraCases(dir)].entries()) {
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
