import { test } from 'node:test';
import assert from 'node:assert/strict';
import { summarizeModel } from '../../engine/src/onnx/summary';
import { tensorFromFloat32, tensorFromInt64 } from '../../engine/src/onnx/tensor-data';
import { DataType, ModelProto } from '../../engine/src/onnx/types';

test('params skip int64 and string tensors; weight bytes count them all; contrib ops keep their domain', () => {
  const vocab = { name: 'vocab', dataType: DataType.STRING, dims: [2], stringData: [new TextEncoder().encode('hello'), new TextEncoder().encode('hi')] };
  const model: ModelProto = {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }, { domain: 'com.microsoft', version: 1 }],
    producerName: 'p',
    producerVersion: '2',
    graph: {
      name: 'g',
      node: [
        { name: 'a', opType: 'MatMul', domain: '', input: [], output: [], attribute: [] },
        { name: 'b', opType: 'Attention', domain: 'com.microsoft', input: [], output: [], attribute: [] },
      ],
      initializer: [tensorFromFloat32('w', [2, 3], new Float32Array(6)), tensorFromInt64('shape', [2], [1n, 2n]), vocab],
      input: [],
      output: [],
      valueInfo: [],
    },
  };
  const s = summarizeModel(model);
  assert.equal(s.params, 6);
  assert.equal(s.weightsBytes, 6 * 4 + 2 * 8 + 7);
  assert.deepEqual(s.opCounts, { MatMul: 1, 'com.microsoft::Attention': 1 });
  assert.deepEqual(s.opsets, { '': 17, 'com.microsoft': 1 });
  assert.equal(s.producer, 'p 2');
});
