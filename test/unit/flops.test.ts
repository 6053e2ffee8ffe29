import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countFlops } from '../../engine/src/analysis/flops';

// Hand-computed: a multiply-add is 2 operations.
test('MatMul [2,8,256]x[256,1024] = 2*2*8*256*1024', () => {
  assert.equal(countFlops({ opType: 'MatMul', domain: '', inputs: [[2, 8, 256], [256, 1024]], outputs: [[2, 8, 1024]] }), 2 * 2 * 8 * 256 * 1024);
});

test('batched attention MatMul QKᵀ [1,4,128,64]x[1,4,64,128]', () => {
  assert.equal(countFlops({ opType: 'MatMul', domain: '', inputs: [[1, 4, 128, 64], [1, 4, 64, 128]], outputs: [[1, 4, 128, 128]] }), 2 * 4 * 128 * 128 * 64);
});

test('MatMul with the weight shape missing (ORT prepacked it) still counts from A and the output', () => {
  assert.equal(countFlops({ opType: 'MatMul', domain: '', inputs: [[4, 16]], outputs: [[4, 32]] }), 2 * 4 * 16 * 32);
});

test('Gemm honours transA', () => {
  assert.equal(countFlops({ opType: 'Gemm', domain: '', inputs: [[3, 5], [5, 7]], outputs: [[3, 7]] }), 2 * 3 * 5 * 7);
  assert.equal(countFlops({ opType: 'Gemm', domain: '', inputs: [[5, 3], [5, 7]], outputs: [[3, 7]], attrs: { transA: 1 } }), 2 * 3 * 5 * 7);
});

test('MatMulNBits uses its K attribute', () => {
  assert.equal(countFlops({ opType: 'MatMulNBits', domain: 'com.microsoft', inputs: [[1, 10, 64]], outputs: [[1, 10, 32]], attrs: { K: 64, N: 32 } }), 2 * 10 * 32 * 64);
});

test('com.microsoft Attention: QKV projection + QKᵀ + AV, with past', () => {
  const b = 2, s = 3, hin = 16, h = 16, past = 5;
  const f = countFlops({ opType: 'Attention', domain: 'com.microsoft', inputs: [[b, s, hin], [hin, 3 * h], [3 * h], [], [2, b, 4, past, 4]], outputs: [[b, s, h]] });
  const kv = s + past;
  assert.equal(f, 2 * b * s * hin * 3 * h + 2 * 2 * b * s * kv * h);
});

test('MultiHeadAttention counts QKᵀ and AV over the key length', () => {
  assert.equal(countFlops({ opType: 'MultiHeadAttention', domain: 'com.microsoft', inputs: [[1, 4, 32], [1, 6, 32], [1, 6, 32]], outputs: [[1, 4, 32]] }), 2 * 4 * 6 * 32 * 2);
});

test('Conv: 2 · output elements · Cin/groups · kernel area', () => {
  assert.equal(countFlops({ opType: 'Conv', domain: '', inputs: [[1, 3, 32, 32], [8, 3, 3, 3]], outputs: [[1, 8, 30, 30]] }), 2 * 8 * 30 * 30 * 3 * 3 * 3);
});

test('elementwise ops and unknown shapes count 0', () => {
  assert.equal(countFlops({ opType: 'Add', domain: '', inputs: [[4], [4]], outputs: [[4]] }), 0);
  assert.equal(countFlops({ opType: 'MatMul', domain: '', inputs: [], outputs: [] }), 0);
});
