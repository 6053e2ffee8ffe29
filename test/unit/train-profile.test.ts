import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadTf } from '../../engine/src/runtime/tfjs';
import type { TransformerSpec } from '../../engine/src/model/spec';
import { initialWeights } from '../../engine/src/model/transformer';
import { createTfTransformer } from '../../engine/src/train/tf-model';
import { createAdamW } from '../../engine/src/train/optimizer';
import { makeTask } from '../../engine/src/train/tasks';
import { attributeKernels, memoryBreakdown, recordStep, StepRecord, summarizeSteps } from '../../engine/src/train/step-profile';
import { mixedPrecision } from '../../engine/src/train/precision';
import { take, trainStep } from '../../engine/src/train/trainer';

const spec: TransformerSpec = { layers: 2, hidden: 32, heads: 4, ffn: 64, vocab: 32, maxSeq: 16, kind: 'decoder' };

test('attribution: block marks set the layer, phase marks the phase; wrapper entries are dropped', () => {
  const k = (name: string, registered = true) => ({ name, timeUs: 1, bytes: 0, registered });
  const record: StepRecord = {
    peakBytes: 0,
    kernels: [k('Embed'), k('A'), k('forward', false), k('B'), k('Head'), k('dB'), k('dA'), k('dEmbed'), k('Adam')],
    marks: [
      { at: 1, kind: 'block-start', layer: 0 },
      { at: 3, kind: 'block-end', layer: 0 },
      { at: 3, kind: 'block-start', layer: 1 },
      { at: 4, kind: 'block-end', layer: 1 },
      { at: 5, kind: 'forward-done' },
      { at: 5, kind: 'grad-block-end', layer: 1 },
      { at: 6, kind: 'grad-block-start', layer: 1 },
      { at: 6, kind: 'grad-block-end', layer: 0 },
      { at: 7, kind: 'grad-block-start', layer: 0 },
      { at: 8, kind: 'backward-done' },
    ],
  };
  assert.deepEqual(
    attributeKernels(record).map((x) => `${x.name}:${x.phase}:${x.layer}`),
    ['Embed:forward:null', 'A:forward:0', 'B:forward:1', 'Head:forward:null', 'dB:backward:1', 'dA:backward:0', 'dEmbed:backward:null', 'Adam:optimizer:null'],
  );
});

test('the memory timeline keeps at most N points and the peak', () => {
  const kernels = Array.from({ length: 10_001 }, (_, i) => ({ name: 'Add', timeUs: 2, bytes: i === 6_789 ? 1e9 : i, registered: true }));
  const s = summarizeSteps([{ kernels, marks: [], peakBytes: 1e9 }], 1000);
  assert.ok(s.timeline.length <= 1000);
  assert.ok(s.timeline.some((p) => p.bytes === 1e9 && p.tUs === 6_790 * 2), 'the peak point is kept with its time');
  assert.equal(s.peakBytes, 1e9);
  assert.deepEqual(memoryBreakdown(1000, 300, 600, []), { peakBytes: 1000, weightsBytes: 300, optimizerBytes: 600, activationsBytes: 100, timeline: [] });
});

test('a profiled training step: every phase, kernels attributed to each layer, exact memory accounting, no leaks', async () => {
  const { tf } = await loadTf('wasm');
  const model = createTfTransformer(tf, spec, initialWeights(spec, 3));
  const opt = createAdamW(tf, model.variables, { lr: 1e-3, warmupSteps: 0, totalSteps: 10, weightDecay: 0.01, clipNorm: 1 });
  const task = makeTask('sort', spec, 16, 3);
  try {
    const params = model.paramCount();
    const counts: number[] = [];
    const records: StepRecord[] = [];
    for (let s = 0; s < 4; s++) {
      const b = task.batch(s, 4);
      if (s % 2 === 1) records.push(await recordStep(tf, (probe) => take(trainStep(tf, model, opt, task, b, s, probe))));
      else take(trainStep(tf, model, opt, task, b, s));
      counts.push(tf.memory().numTensors);
    }
    assert.equal(new Set(counts).size, 1, `tensor count stays flat over steps: ${counts.join(', ')}`);

    const summary = summarizeSteps(records);
    assert.deepEqual(summary.phases.map((p) => p.phase), ['forward', 'backward', 'optimizer']);
    for (const p of summary.phases) assert.ok(p.totalUs > 0, `${p.phase} has kernel time`);
    const share = summary.ops.reduce((a, o) => a + o.share, 0);
    assert.ok(Math.abs(share - 1) < 1e-9, `op shares sum to 1 (${share})`);
    assert.ok(Math.abs(summary.phases.reduce((a, p) => a + p.share, 0) - 1) < 1e-9);
    const layers = (phase: string) => new Set(summary.ops.filter((o) => o.phase === phase).map((o) => o.layer));
    assert.deepEqual(layers('forward'), new Set([null, 0, 1]));
    assert.deepEqual(layers('backward'), new Set([null, 0, 1]));
    assert.deepEqual(layers('optimizer'), new Set([null]));
    for (const l of [0, 1]) {
      assert.ok(summary.ops.some((o) => o.layer === l && o.phase === 'forward' && o.opType === 'BatchMatMul'), `layer ${l} forward products`);
      assert.ok(summary.ops.some((o) => o.layer === l && o.phase === 'backward' && o.opType === 'BatchMatMul'), `layer ${l} backward products`);
      assert.ok(summary.ops.some((o) => o.layer === l && o.phase === 'forward' && o.opType === 'Softmax'), `layer ${l} attention softmax`);
    }
    // Each block's forward and backward cost the same: both layers have the same shapes.
    const calls = (l: number, phase: string) => summary.ops.filter((o) => o.layer === l && o.phase === phase).reduce((a, o) => a + o.calls, 0);
    assert.equal(calls(0, 'forward'), calls(1, 'forward'));
    assert.equal(calls(0, 'backward'), calls(1, 'backward'));
    assert.ok(summary.ops.every((o) => tf.getKernel(o.opType, 'wasm') !== undefined), 'only registered kernels');

    const memory = memoryBreakdown(summary.peakBytes, params * 4, opt.optimizerStateBytes(), summary.timeline);
    assert.equal(opt.optimizerStateBytes(), 8 * params);
    assert.equal(memory.weightsBytes, 4 * params);
    assert.ok(memory.activationsBytes > 0 && memory.peakBytes === memory.weightsBytes + memory.optimizerBytes + memory.activationsBytes);
    assert.ok(summary.timeline.length > 100 && summary.timeline.every((p, i) => i === 0 || p.tUs >= summary.timeline[i - 1].tUs), 'time runs forward');
    assert.equal(Math.max(...summary.timeline.map((p) => p.bytes)), summary.peakBytes, 'the timeline reaches the peak');
    assert.deepEqual([...new Set(summary.timeline.map((p) => p.phase))], ['forward', 'backward', 'optimizer']);

    const mp = mixedPrecision('wasm', memory);
    assert.equal(mp.ran, 'fp32');
    assert.match(mp.reason, /wasm/);
    assert.deepEqual(mp.estimates.map((e) => e.dtype), ['fp16', 'bf16']);
    for (const e of mp.estimates) {
      assert.equal(e.estimate, true);
      assert.equal(e.weightsBytes, 6 * params, '16-bit weights plus an fp32 master copy');
      assert.equal(e.optimizerBytes, 8 * params);
      assert.equal(e.activationsBytes, memory.activationsBytes / 2);
      assert.equal(e.peakBytes, e.weightsBytes + e.optimizerBytes + e.activationsBytes);
    }
  } finally {
    opt.dispose();
    model.dispose();
  }
});
