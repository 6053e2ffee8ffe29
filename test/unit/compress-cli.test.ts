import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REALDATA, REPO_ROOT } from './helpers/paths';
import { builtinModel, feedsFor, runModel } from './helpers/models';
import { argmaxRows } from '../../engine/src/analysis/error-metrics';
import { compressModel, defaultCompressDeps } from '../../engine/src/compress/lab';
import { CompressionReport } from '../../engine/src/schema/compression';
import { decodeModel } from '../../engine/src/onnx/codec';

const CLI = path.join(REPO_ROOT, JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')).bin.twb);

function twb(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'twb-compress-'));

/** An eval file whose labels are the fp32 model's own predictions: accuracy before must be exactly 1. */
async function selfLabelledEval(file: string): Promise<void> {
  const model = builtinModel('tiny-bert');
  const feeds = feedsFor(model, 6, 16, 7);
  const out = await runModel(model, feeds);
  const labels = [...argmaxRows(out.logits!.data, 2)];
  const nested = (name: string) => {
    const data = [...(feeds[name]!.data as BigInt64Array)].map(Number);
    return Array.from({ length: 6 }, (_, b) => data.slice(b * 16, b * 16 + 16));
  };
  writeFileSync(file, JSON.stringify({ inputs: { input_ids: nested('input_ids'), attention_mask: nested('attention_mask') }, labels }));
}

test('twb quantize writes the model and a report with every field the schema promises', async () => {
  const dir = tmp();
  try {
    await selfLabelledEval(path.join(dir, 'eval.json'));
    const r = twb(['quantize', 'builtin:tiny-bert', '--mode', 'int8-dynamic', '--per-channel', '--out', 'q.onnx', '--json', 'q.json', '--eval', 'eval.json', '--runs', '3', '--batch', '2', '--seq', '16', '--quiet'], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Quantized builtin:tiny-bert: int8-dynamic · per-channel/);
    assert.match(r.stdout, /accuracy\s+100\.0%/);
    const report = JSON.parse(readFileSync(path.join(dir, 'q.json'), 'utf8')) as CompressionReport;
    assert.equal(report.schemaVersion, 1);
    assert.equal(report.kind, 'quantization');
    assert.ok(report.sizeBytes.after < report.sizeBytes.before / 3, `int8 is about 4× smaller: ${JSON.stringify(report.sizeBytes)}`);
    assert.ok(report.latencyMs.before > 0 && report.latencyMs.after > 0);
    assert.ok(Math.abs(report.speedup - report.latencyMs.before / report.latencyMs.after) < 1e-9);
    assert.equal(report.layers.filter((l) => l.opType === 'MatMul').length, 26, 'every MatMul: 4 layers × 6 + pooler + classifier');
    assert.ok(report.layers.some((l) => l.opType === 'Gather' && l.detail === 'int8 per-tensor embedding table'), 'the token embedding table');
    for (const l of report.layers) {
      assert.ok(l.node && l.opType && typeof l.mse === 'number' && typeof l.cosine === 'number', JSON.stringify(l));
      assert.ok(l.sqnrDb !== undefined && l.cumulativeSqnrDb !== undefined, `${l.node} has local and cumulative SQNR`);
      assert.ok((l.sqnrDb ?? Infinity) > 15, `${l.node}: local SQNR ${l.sqnrDb} dB`);
      assert.ok(l.weightHistogram && l.activationHistogram);
    }
    assert.ok(report.layers.some((l) => (l.latencyShare ?? 0) > 0), 'time shares from a profile of the original');
    assert.ok((report.output.sqnrDb ?? Infinity) > 15, `output SQNR ${report.output.sqnrDb}`);
    assert.equal(report.eval?.accuracyBefore, 1, 'labels are the original model’s own predictions');
    assert.equal(report.eval?.accuracyAfter, report.output.top1Agreement, 'on the eval inputs, accuracy after = top-1 agreement');
    assert.equal(report.analysis.inputs, 'eval file');
    const html = twb(['report', 'q.json'], dir);
    assert.equal(html.code, 0, html.stderr);
    const boot = JSON.parse(/<script type="application\/json" id="twb-boot">([\s\S]*?)<\/script>/.exec(readFileSync(path.join(dir, 'q.html'), 'utf8'))?.[1] ?? '{}');
    assert.equal(boot.view, 'quantization', 'the HTML report opens on the Quantization view');
    assert.equal(boot.compressions[0].id, report.id);
    const written = decodeModel(readFileSync(path.join(dir, 'q.onnx')));
    assert.ok(written.graph.node.some((n) => n.opType === 'DynamicQuantizeLinear' || n.opType === 'DynamicQuantizeMatMul'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('twb prune heads reports kind pruning and a faster model', () => {
  const dir = tmp();
  try {
    const r = twb(['prune', 'builtin:tiny-bert', '--method', 'heads', '--amount', '0.5', '--out', 'p.onnx', '--json', 'p.json', '--runs', '3', '--batch', '2', '--seq', '16', '--quiet'], dir);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(readFileSync(path.join(dir, 'p.json'), 'utf8')) as CompressionReport;
    assert.equal(report.kind, 'pruning');
    assert.equal(report.config.amount, 0.5);
    assert.ok(report.sizeBytes.after < report.sizeBytes.before);
    assert.equal(report.layers.length, 4, 'one record per attention block');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('quantize usage errors exit 2 and name the problem; nothing is written', () => {
  const dir = tmp();
  try {
    const model = path.join(dir, 'm.onnx');
    assert.equal(twb(['model', 'builtin:tiny-gpt', '--out', model], dir).code, 0);
    for (const [args, message] of [
      [['quantize', 'builtin:tiny-bert', '--out', 'x.onnx'], /needs --mode int8-dynamic\|int8-static\|int4-weight\|fp16/],
      [['quantize', 'builtin:tiny-bert', '--mode', 'int8-dynamic'], /needs --out FILE.onnx/],
      [['quantize', 'builtin:tiny-bert', '--mode', 'int2', '--out', 'x.onnx'], /unknown mode "int2"/],
      [['quantize', 'builtin:tiny-bert', '--mode', 'int4-weight', '--block-size', '20', '--out', 'x.onnx'], /--block-size must be a power of two/],
      [['quantize', model, '--mode', 'fp16', '--out', model], /is the input model; the original is never overwritten/],
      [['prune', 'builtin:tiny-bert', '--method', 'heads', '--out', 'x.onnx'], /needs --amount X/],
      [['prune', 'builtin:tiny-bert', '--method', 'heads', '--amount', 'half', '--out', 'x.onnx'], /--amount expects a non-negative number/],
    ] as Array<[string[], RegExp]>) {
      const r = twb(args, dir);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
    assert.ok(!existsSync(path.join(dir, 'x.onnx')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a bad eval file fails with exit 1 naming the file and the field', async () => {
  const dir = tmp();
  try {
    writeFileSync(path.join(dir, 'eval.json'), JSON.stringify({ inputs: { input_ids: [[1, 2]] }, labels: [0] }));
    const r = twb(['quantize', 'builtin:tiny-bert', '--mode', 'int8-dynamic', '--out', 'q.onnx', '--eval', 'eval.json', '--quiet'], dir);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /eval file ".*eval.json": missing input "attention_mask"/);
    assert.match(r.stderr, /hint: Expected JSON \{"inputs"/);
    assert.ok(!existsSync(path.join(dir, 'q.onnx')), 'fails before writing anything');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('weights fed as graph inputs are reported as not quantizable', async () => {
  const dir = tmp();
  try {
    const model = path.join(REALDATA, 'onnx/onnxruntime/testdata/attention_mask1d_fp32.onnx');
    const report = await compressModel({ model, mode: 'int8-dynamic', out: path.join(dir, 'q.onnx'), runs: 2, seq: 4 }, defaultCompressDeps());
    assert.ok(report.skipped.some((s) => s.opType === 'Gemm' && /graph input/.test(s.reason)), JSON.stringify(report.skipped));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a cancelled quantization stops with the cancelled code and leaves no model behind', async () => {
  const dir = tmp();
  try {
    const controller = new AbortController();
    const out = path.join(dir, 'q.onnx');
    const run = compressModel(
      { model: 'builtin:tiny-bert', mode: 'int8-dynamic', out, runs: 1000, batch: 1, seq: 16 },
      defaultCompressDeps({ signal: controller.signal, onProgress: (p) => { if (p.phase === 'transform') controller.abort(); } }),
    );
    await assert.rejects(run, (e: { code?: string }) => e.code === 'cancelled');
    assert.ok(!existsSync(out), 'cancelled before writing');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
