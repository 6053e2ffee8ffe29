import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compressRequestOf, jobLabel, outputFileFor, outputSuffix, parseAmount, resolveModelRef } from '../../extension/src/compress-target';
import type { CompressForm } from '../../engine/src/protocol/webview';

const MODELS = '/ws/.twb/models';

test('output files: beside the model as <name>.<mode>.onnx; built-ins under .twb/models', () => {
  assert.equal(outputFileFor({ model: '/ws/m/distilbert.onnx', mode: 'int8-dynamic' }, MODELS), '/ws/m/distilbert.int8-dynamic.onnx');
  assert.equal(outputFileFor({ model: '/ws/m/Model.ONNX', mode: 'fp16' }, MODELS), '/ws/m/Model.fp16.onnx');
  assert.equal(outputFileFor({ model: 'builtin:tiny-bert', mode: 'int4-weight' }, MODELS), '/ws/.twb/models/tiny-bert.int4-weight.onnx');
  assert.equal(outputFileFor({ model: '/ws/m/bert.onnx', mode: 'magnitude', amount: 0.5 }, MODELS), '/ws/m/bert.magnitude-0.5.onnx');
  assert.equal(outputFileFor({ model: '/ws/m/bert.onnx', mode: 'heads', amount: 0.25 }, MODELS), '/ws/m/bert.heads-0.25.onnx');
  assert.equal(outputFileFor({ model: 'builtin:tiny-gpt', mode: '2:4' }, MODELS), '/ws/.twb/models/tiny-gpt.2of4-0.5.onnx', 'no colon in a file name');
  assert.equal(outputSuffix({ mode: 'int8-static' }), 'int8-static');
});

test('the output is never the input model', () => {
  // A model already named like the output of an earlier run gets one more suffix, never itself.
  const again = outputFileFor({ model: '/ws/m/bert.int8-dynamic.onnx', mode: 'int8-dynamic' }, MODELS);
  assert.equal(again, '/ws/m/bert.int8-dynamic.int8-dynamic.onnx');
  assert.notEqual(again, '/ws/m/bert.int8-dynamic.onnx');
});

test('requests: relative models resolve against the workspace; the host adds out and provider', () => {
  assert.equal(resolveModelRef('models/a.onnx', '/ws'), '/ws/models/a.onnx');
  assert.equal(resolveModelRef('/abs/a.onnx', '/ws'), '/abs/a.onnx');
  assert.equal(resolveModelRef('builtin:tiny-bert', '/ws'), 'builtin:tiny-bert');
  const form: CompressForm = { model: '/ws/a.onnx', mode: 'int8-dynamic', perChannel: true, exclude: ['n1'], batch: 1, seq: 64, threads: 2, runs: 10 };
  const req = compressRequestOf(form, '/ws/a.int8-dynamic.onnx', 'cpu');
  assert.deepEqual(req, { ...form, out: '/ws/a.int8-dynamic.onnx', executionProvider: 'cpu' });
  assert.notStrictEqual(req.exclude, form.exclude, 'the request owns its exclude list');
  assert.equal(jobLabel(form), 'int8-dynamic a');
  assert.equal(jobLabel({ model: 'builtin:tiny-bert', mode: 'magnitude', amount: 0.3 }), 'magnitude 30% tiny-bert');
});

test('pruning amounts: fractions or percentages in [0, 1)', () => {
  assert.equal(parseAmount('0.5'), 0.5);
  assert.equal(parseAmount(' .25 '), 0.25);
  assert.equal(parseAmount('30%'), 0.3);
  assert.equal(parseAmount('0'), 0);
  for (const bad of ['1', '100%', '-0.1', 'half', '', '0.5.1', '1e-1']) assert.equal(parseAmount(bad), undefined, bad);
});
