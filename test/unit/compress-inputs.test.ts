import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chunkFeeds, parseEvalData } from '../../engine/src/compress/eval-file';
import { resolveCompressionConfig } from '../../engine/src/compress/config';
import { builtinModel } from './helpers/models';

const bert = builtinModel('tiny-bert');
const gpt = builtinModel('tiny-gpt');

test('an eval file becomes typed feeds and labels', () => {
  const d = parseEvalData({ inputs: { input_ids: [[1, 2, 3], [4, 5, 6]], attention_mask: [[1, 1, 1], [1, 1, 0]] }, labels: [0, 1] }, bert);
  assert.equal(d.examples, 2);
  assert.equal(d.feeds.input_ids!.type, 'int64');
  assert.deepEqual(d.feeds.input_ids!.dims, [2, 3]);
  assert.deepEqual([...(d.feeds.input_ids!.data as BigInt64Array)], [1n, 2n, 3n, 4n, 5n, 6n]);
  assert.deepEqual([...d.labels!.data], [0, 1]);
  const chunks = chunkFeeds(d.feeds, d.examples, 1);
  assert.equal(chunks.length, 2);
  assert.deepEqual([...(chunks[1]!.attention_mask!.data as BigInt64Array)], [1n, 1n, 0n]);
});

test('eval files that do not fit the model are refused with the field named', () => {
  const bad: Array<[unknown, RegExp, typeof bert]> = [
    [[], /top level must be an object with an "inputs" object/, bert],
    [{ inputs: { input_ids: [[1]] } }, /missing input "attention_mask"/, bert],
    [{ inputs: { input_ids: [[1]], attention_mask: [[1]], tokens: [[1]] } }, /inputs "tokens" are not inputs of the model; it has: input_ids, attention_mask/, bert],
    [{ inputs: { input_ids: [1, 2] }, labels: [0] }, /inputs.input_ids has rank 1 .*declares \[batch, sequence\]/, gpt],
    [{ inputs: { input_ids: [[1, 2], [3]] } }, /inputs.input_ids\[1\] is not rectangular/, gpt],
    [{ inputs: { input_ids: [[1.5]] } }, /must hold integers for a int64 input/, gpt],
    [{ inputs: { input_ids: [['a']] } }, /inputs.input_ids\[0\]\[0\] is "a", not a finite number/, gpt],
    [{ inputs: { input_ids: [[1]] }, labels: [0, 1] }, /labels have 2 examples, inputs have 1/, gpt],
    [{ inputs: { input_ids: [[1]] }, labels: [0.5] }, /labels must be integers/, gpt],
    [{ inputs: { input_ids: [[1]] }, extra: 1 }, /unknown top-level field "extra"/, gpt],
  ];
  for (const [json, message, model] of bad) assert.throws(() => parseEvalData(json, model), message, JSON.stringify(json));
});

test('compression options are checked and defaulted', () => {
  const c = resolveCompressionConfig({ mode: 'int4-weight' });
  assert.equal(c.method, 'rtn');
  assert.equal(c.blockSize, 32);
  assert.equal(resolveCompressionConfig({ mode: 'int8-static' }).calibrate, 'minmax');
  assert.equal(resolveCompressionConfig({ mode: '2:4' }).amount, 0.5);
  const bad: Array<[object, RegExp]> = [
    [{ mode: 'int3' }, /unknown mode "int3"; expected one of: int8-dynamic, int8-static, int4-weight, fp16, magnitude, 2:4, heads/],
    [{ mode: 'int4-weight', blockSize: 512 }, /--block-size must be a power of two from 16 to 256 \(16, 32, 64, 128, 256\), got 512/],
    [{ mode: 'int4-weight', blockSize: 24 }, /--block-size must be a power of two from 16 to 256/],
    [{ mode: 'int4-weight', method: 'awq' }, /unknown int4 method "awq"; expected one of: rtn, gptq/],
    [{ mode: 'int8-static', calibrate: 'mse' }, /unknown calibration method "mse"/],
    [{ mode: 'fp16', perChannel: true }, /--per-channel applies to int8-dynamic, int8-static, not to fp16/],
    [{ mode: 'int8-dynamic', method: 'gptq' }, /--method\/--block-size applies to int4-weight/],
    [{ mode: 'heads' }, /needs --amount X/],
    [{ mode: 'magnitude', amount: 1 }, /--amount must be a fraction in \[0, 1\), got 1/],
    [{ mode: '2:4', amount: 0.3 }, /2:4 sparsity removes exactly half/],
    [{ mode: 'fp16', amount: 0.3 }, /--amount applies to pruning/],
    [{ mode: 'fp16', executionProvider: 'tpu' }, /unknown execution provider "tpu"/],
  ];
  for (const [req, message] of bad) assert.throws(() => resolveCompressionConfig(req as { mode: string }), message, JSON.stringify(req));
});
