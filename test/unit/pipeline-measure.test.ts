import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHook } from 'node:async_hooks';
import { buildTransformer } from '../../engine/src/model/transformer';
import { builtinSpec } from '../../engine/src/profile/model-source';
import { valueInfo } from '../../engine/src/model/graph-builder';
import { DataType, ModelProto } from '../../engine/src/onnx/types';
import { tensorFromInt64 } from '../../engine/src/onnx/tensor-data';
import type { TimelineBlock } from '../../engine/src/schema/parallel';
import { measurePipeline, MeasureRequest } from '../../engine/src/pipeline/measure';
import { TwbError } from '../../engine/src/util/errors';

// Worker threads alive in this process, seen through async_hooks (they are not "active resources").
const liveWorkers = new Set<number>();
createHook({
  init(id, type) {
    if (type === 'WORKER') liveWorkers.add(id);
  },
  destroy(id) {
    liveWorkers.delete(id);
  },
}).enable();

const tinyGpt = (): ModelProto => buildTransformer(builtinSpec('builtin:tiny-gpt'), { seed: 0 });
const M = 4;
const P = 2;

/** GPipe's forward order: every stage takes the micro-batches in turn. */
const gpipe = (chunks = 1) => Array.from({ length: P }, () => Array.from({ length: M * chunks }, (_, i) => ({ microbatch: i % M, chunk: Math.floor(i / M) })));

/** Megatron's interleaved forward order: P micro-batches through chunk 0, then chunk 1, then the next P. */
function interleaved(V: number): MeasureRequest['order'] {
  const list: Array<{ microbatch: number; chunk: number }> = [];
  for (let g = 0; g < M; g += P) for (let c = 0; c < V; c++) for (let m = g; m < Math.min(M, g + P); m++) list.push({ microbatch: m, chunk: c });
  return Array.from({ length: P }, () => list.map((b) => ({ ...b })));
}

function request(over: Partial<MeasureRequest> = {}): MeasureRequest {
  return {
    model: tinyGpt(),
    virtualStages: [[0, 1, 2], [3, 4, 5]],
    stages: P,
    order: gpipe(),
    microbatches: M,
    batch: 1,
    seq: 32,
    executionProvider: 'cpu',
    threadsPerStage: 1,
    seed: 0,
    repeats: 2,
    ...over,
  };
}

/** No stage runs two blocks at once, and virtual stage j's block for m starts after j-1's ended. */
function assertPipelineOrder(timeline: TimelineBlock[], V: number): void {
  for (let p = 0; p < P; p++) {
    const mine = timeline.filter((b) => b.stage === p).sort((a, b) => a.startUs - b.startUs);
    assert.equal(mine.length, M * V, `stage ${p} ran M × V blocks`);
    for (let c = 0; c < V; c++) assert.equal(mine.filter((b) => b.chunk === c).length, M, `stage ${p} chunk ${c} ran M blocks`);
    for (let i = 1; i < mine.length; i++) assert.ok(mine[i].startUs >= mine[i - 1].endUs, `stage ${p} overlaps itself at block ${i}`);
    for (const b of mine) assert.ok(b.endUs > b.startUs && b.kind === 'F');
  }
  const block = (j: number, m: number) => timeline.find((b) => b.stage === j % P && b.chunk === Math.floor(j / P) && b.microbatch === m)!;
  for (let j = 1; j < P * V; j++) {
    for (let m = 0; m < M; m++) {
      assert.ok(block(j, m).startUs >= block(j - 1, m).endUs, `virtual stage ${j} started micro-batch ${m} before stage ${j - 1} finished it`);
    }
  }
}

test('GPipe on tiny-gpt, 2 stages × 4 micro-batches: a real timeline, a bubble, the whole model\'s output', async () => {
  const r = await measurePipeline(request());
  assert.equal(r.timeline.length, P * M);
  assertPipelineOrder(r.timeline, 1);
  assert.equal(Math.min(...r.timeline.map((b) => b.startUs)), 0, 'times from the first start');
  assert.equal(r.makespanUs, Math.max(...r.timeline.map((b) => b.endUs)));
  assert.ok(r.bubbleFraction > 0 && r.bubbleFraction < 1, `bubble ${r.bubbleFraction}`);
  const busy = r.timeline.reduce((s, b) => s + b.endUs - b.startUs, 0);
  assert.ok(Math.abs(r.bubbleFraction - (1 - busy / (P * r.makespanUs))) < 1e-9, 'bubble = idle ÷ (P × makespan)');
  assert.equal(r.stageUs.length, P);
  for (const us of r.stageUs) assert.ok(us > 0);
  assert.ok(r.commUs >= 0 && Number.isFinite(r.commUs));
  assert.ok(r.maxAbsDiff <= 1e-5, `max |diff| ${r.maxAbsDiff}`);
  assert.deepEqual([r.batch, r.seq, r.executionProvider, r.threadsPerStage], [1, 32, 'cpu', 1]);
});

test('interleaved, 2 stages × 2 chunks: virtual stage j runs on stage j mod 2 as chunk j div 2', async () => {
  const r = await measurePipeline(request({ virtualStages: [[0, 1], [2], [3], [4, 5]], order: interleaved(2) }));
  assert.equal(r.timeline.length, P * M * 2);
  assertPipelineOrder(r.timeline, 2);
  assert.equal(r.stageUs.length, 4);
  assert.ok(r.bubbleFraction > 0 && r.bubbleFraction < 1);
  assert.ok(r.maxAbsDiff <= 1e-5, `max |diff| ${r.maxAbsDiff}`);
});

async function assertNoWorkers(): Promise<void> {
  // Worker handles are destroyed on the loop turn after they exit.
  for (let i = 0; i < 20 && liveWorkers.size > 0; i++) await new Promise((resolve) => setImmediate(resolve));
  assert.equal(liveWorkers.size, 0, 'every stage worker has ended');
}

test('cancelling mid-way rejects with "cancelled" and ends every worker', async () => {
  const controller = new AbortController();
  const seen: string[] = [];
  const run = measurePipeline(
    request({
      signal: controller.signal,
      onProgress: (message) => {
        seen.push(message);
        if (message.startsWith('timed pass 1')) controller.abort();
      },
    }),
  );
  await assert.rejects(run, (e: unknown) => e instanceof TwbError && e.code === 'cancelled');
  assert.ok(seen.some((m) => m.startsWith('warm-up')), 'the workers had started');
  assert.ok(!seen.includes('done'));
  await assertNoWorkers();
});

/** tiny-gpt with its cut tensors declared, so the split needs no whole-model run and a broken stage fails in its worker. */
function declaredCuts(model: ModelProto): ModelProto {
  model.graph.valueInfo.push(valueInfo('layer1/ffn/residual', DataType.FLOAT, ['batch', 'sequence', 256]), valueInfo('mask/causal', DataType.FLOAT, ['sequence', 'sequence']));
  return model;
}

test('a sub-model ORT cannot load fails naming the stage and ORT\'s message, and ends the workers', async () => {
  const model = declaredCuts(tinyGpt());
  model.graph.node.find((n) => n.name === 'layer3/ffn/gelu_erf')!.opType = 'NoSuchOp';
  await assert.rejects(measurePipeline(request({ model })), (e: unknown) => {
    assert.ok(e instanceof TwbError, String(e));
    assert.match(e.message, /^pipeline stage 1: virtual stage 1 \(layer 2, layer 3, head\): ONNX Runtime cannot load the model/);
    assert.match(e.message, /NoSuchOp/);
    return true;
  });
  await assertNoWorkers();
});

test('a sub-model that fails while the other stage runs ends the measurement cleanly with ORT\'s message', async () => {
  const model = declaredCuts(tinyGpt());
  // [B, S, 4, 64] cannot become [B, S, 7]. An overridable initializer (also a graph input) is not
  // a constant to ORT, so it fails in the run, not at load.
  model.graph.initializer.push(tensorFromInt64('bad_merge_shape', [3], [0n, 0n, 7n]));
  model.graph.input.push(valueInfo('bad_merge_shape', DataType.INT64, [3]));
  model.graph.node.find((n) => n.name === 'layer3/attn/merge_reshape')!.input[1] = 'bad_merge_shape';
  await assert.rejects(measurePipeline(request({ model, microbatches: 8, order: Array.from({ length: P }, () => Array.from({ length: 8 }, (_, m) => ({ microbatch: m, chunk: 0 }))) })), (e: unknown) => {
    assert.ok(e instanceof TwbError, String(e));
    assert.equal(e.code, 'run-failed');
    assert.match(e.message, /^pipeline stage 1: virtual stage 1 \(layer 2, layer 3, head\): op Reshape \(node "layer3\/attn\/merge_reshape"\) failed/);
    return true;
  });
  await assertNoWorkers();
});

test('a model ORT cannot run at all fails with its own error before any worker starts', async () => {
  const model = tinyGpt();
  model.graph.node.find((n) => n.name === 'layer0/attn/softmax')!.opType = 'NoSuchOp';
  await assert.rejects(measurePipeline(request({ model })), (e: unknown) => e instanceof TwbError && /NoSuchOp/.test(e.message));
  await assertNoWorkers();
});

test('requests that cannot run are refused with a usage error', async () => {
  const refused = async (over: Partial<MeasureRequest>, pattern: RegExp) =>
    assert.rejects(measurePipeline(request(over)), (e: unknown) => e instanceof TwbError && e.code === 'usage' && pattern.test(e.message));
  await refused({ virtualStages: [[0, 1], [2, 3], [4, 5]] }, /3 virtual stages cannot be spread over 2 pipeline stages/);
  await refused({ executionProvider: 'cuda2' }, /unknown execution provider "cuda2"; expected one of/);
  await refused({ microbatches: 0 }, /microbatches must be a positive integer/);
  await refused({ order: [gpipe()[0]] }, /forward orders for 1 stages, expected 2/);
  // Stage 1 starts with micro-batch 3 of chunk 1 (virtual stage 3), which needs virtual stage 2 on stage 0, which waits
  // for stage 1's chunk 0 at the end of its list.
  const stuck = interleaved(2);
  stuck[1] = [...stuck[1]].reverse();
  await refused({ virtualStages: [[0, 1], [2], [3], [4, 5]], order: stuck }, /the forward order cannot run: stage 0 waits at micro-batch 0, chunk 1; stage 1 waits at micro-batch 3, chunk 1, for blocks/);
  await refused({ virtualStages: [[0, 1, 2], [2, 3, 4, 5]] }, /unit 2 \(layer 1\) is in stage 0 and stage 1/);
  await assertNoWorkers();
});
