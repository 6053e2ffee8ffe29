import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DimChoices, DimResolution, parseDimAssignment, resolveDim } from '../../engine/src/runtime/dims';

const choices: DimChoices = { batch: 4, seq: 16, past: 8, named: { odd_dim: 3 } };
const fresh = (): DimResolution => ({ values: {}, defaulted: [] });

test('batch, sequence and past names resolve from the choices', () => {
  const r = fresh();
  assert.equal(resolveDim('batch', choices, r), 4);
  assert.equal(resolveDim('batch_size', choices, r), 4);
  assert.equal(resolveDim('sequence_length', choices, r), 16);
  assert.equal(resolveDim('seq_len', choices, r), 16);
  assert.equal(resolveDim('past_sequence_length', choices, r), 8);
  assert.equal(resolveDim('total_sequence_length', choices, r), 24);
  assert.deepEqual(r.defaulted, []);
});

test('expressions exporters write are evaluated', () => {
  const r = fresh();
  assert.equal(resolveDim('past_sequence_length + sequence_length', choices, r), 24);
  assert.equal(resolveDim('sequence_length*2', choices, r), 32);
});

test('explicit names win; unknown names default to 1 and are reported', () => {
  const r = fresh();
  assert.equal(resolveDim('odd_dim', choices, r), 3);
  assert.equal(resolveDim('unk__42', choices, r), 1);
  assert.deepEqual(r.defaulted, ['unk__42']);
});

test('--dim parsing', () => {
  assert.deepEqual(parseDimAssignment('past_len=12'), ['past_len', 12]);
  assert.throws(() => parseDimAssignment('past_len'), /NAME=N/);
  assert.throws(() => parseDimAssignment('x=-1'), /NAME=N/);
});
