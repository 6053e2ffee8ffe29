import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GraphBuilder } from '../../engine/src/model/graph-builder';
import { DataType, ModelProto } from '../../engine/src/onnx/types';
import { tensorFromFloat32 } from '../../engine/src/onnx/tensor-data';
import { analyzeError } from '../../engine/src/compress/error-analysis';
import { boundaryTensors, exposeTensors, localCut } from '../../engine/src/compress/expose';
import { errorMetrics, histogram, top1Agreement } from '../../engine/src/analysis/error-metrics';

/** x[1,2] → MatMul W1 [2,2] → "h" → MatMul W2 [2,1] → "out". */
function twoLayer(w1: number[], w2: number[]): ModelProto {
  const g = new GraphBuilder();
  g.input('x', DataType.FLOAT, [1, 2]);
  const h = g.op('h', 'MatMul', ['x', g.init(tensorFromFloat32('w1', [2, 2], Float32Array.from(w1)))]);
  const out = g.op('mm2', 'MatMul', [h, g.init(tensorFromFloat32('w2', [2, 1], Float32Array.from(w2)))]);
  g.output(out, 'out', DataType.FLOAT, [1, 1]);
  return { irVersion: 8, opsetImport: [{ domain: '', version: 17 }], graph: g.build('two') };
}

test('error metrics match hand-computed values', () => {
  // ref [1, 2], approx [1, 1]: signal 5, noise 1.
  const m = errorMetrics([1, 2], [1, 1]);
  assert.ok(Math.abs(m.sqnrDb - 10 * Math.log10(5)) < 1e-12);
  assert.equal(m.mse, 0.5);
  assert.ok(Math.abs(m.cosine - 3 / Math.sqrt(10)) < 1e-12);
  assert.equal(m.maxAbs, 1);
  assert.equal(errorMetrics([1, 2], [1, 2]).sqnrDb, Infinity);
  assert.equal(top1Agreement([0, 1, 5, 0, 2, 1], [0, 2, 9, 3, 0, 1], 3), 0.5);
  assert.deepEqual(histogram([0, 0.5, 1, 1], 2).counts, [1, 3]);
});

test('local error isolates a layer; cumulative error follows the whole model (hand-computed)', async () => {
  const original = twoLayer([1, 0, 0, 1], [1, 1]);
  // Layer h loses half of its second output; mm2 doubles its second weight. On the original's
  // input h = [1, 2]: local h error = ([1,2] vs [1,1]) → 6.99 dB; local mm2 = 3 vs 5 → 3.52 dB.
  // In the whole transformed model the two errors cancel: out = 1 + 2·1 = 3 = original.
  const transformed = twoLayer([1, 0, 0, 0.5], [1, 2]);
  const r = await analyzeError({
    original,
    transformed,
    changed: [
      { node: 'h', opType: 'MatMul', output: 'h', weight: { name: 'w1', before: Float32Array.from([1, 0, 0, 1]), after: Float32Array.from([1, 0, 0, 0.5]) } },
      { node: 'mm2', opType: 'MatMul', output: 'out' },
    ],
    batches: [{ x: { type: 'float32', dims: [1, 2], data: Float32Array.from([1, 2]) } }],
    spec: { executionProvider: 'cpu', threads: 1, optLevel: 'all' },
  });
  const [h, mm2] = r.layers;
  assert.ok(Math.abs(h!.sqnrDb! - 10 * Math.log10(5)) < 1e-5, `local h ${h!.sqnrDb}`);
  assert.ok(Math.abs(h!.cumulativeSqnrDb! - 10 * Math.log10(5)) < 1e-5);
  assert.equal(h!.mse, 0.5);
  assert.ok(Math.abs(h!.cosine - 3 / Math.sqrt(10)) < 1e-6);
  assert.ok(Math.abs(mm2!.sqnrDb! - 10 * Math.log10(9 / 4)) < 1e-5, `local mm2 ${mm2!.sqnrDb}`);
  assert.equal(mm2!.mse, 4);
  assert.equal(mm2!.cumulativeSqnrDb, null, 'errors cancel end to end: identical');
  assert.equal(r.output.sqnrDb, null);
  assert.equal(r.output.top1Agreement, 1);
  // weight [1,0,0,1] vs [1,0,0,0.5]: signal 2, noise 0.25 → 9.03 dB
  assert.ok(Math.abs(h!.weightSqnrDb! - 10 * Math.log10(8)) < 1e-6);
  assert.equal(h!.weightHistogram!.before.reduce((a, b) => a + b, 0), 4);
});

test('local cuts stop at tensors the original has and include new initializers', () => {
  const original = twoLayer([1, 0, 0, 1], [1, 1]);
  const cut = localCut(twoLayer([1, 0, 0, 0.5], [1, 2]), 'out', boundaryTensors(original));
  assert.deepEqual(cut?.nodes.map((n) => n.name), ['mm2']);
  assert.deepEqual(cut?.inputs, ['h']);
  const exposed = exposeTensors(original, ['h', 'out', 'x']);
  assert.deepEqual(exposed.graph.output.map((o) => o.name), ['out', 'h'], 'graph inputs and existing outputs are not added twice');
  assert.equal(original.graph.output.length, 1, 'the original is not modified');
});

test('labels that do not fit the output are a clear error', async () => {
  const original = twoLayer([1, 0, 0, 1], [1, 1]);
  await assert.rejects(
    analyzeError({
      original,
      transformed: original,
      changed: [],
      batches: [{ x: { type: 'float32', dims: [1, 2], data: Float32Array.from([1, 2]) } }],
      labels: [{ dims: [1, 1], data: Int32Array.from([0]) }],
      spec: { executionProvider: 'cpu', threads: 1, optLevel: 'all' },
    }),
    /labels have shape \[1, 1\] but the first output is \[1, 1\]; labels need \[1\]/,
  );
});
