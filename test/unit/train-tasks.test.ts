import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, ftruncateSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadTf } from '../../engine/src/runtime/tfjs';
import type { TransformerSpec } from '../../engine/src/model/spec';
import { batchSeed, COUNT_TOKENS, crossEntropy, makeTask, MAX_TEXT_BYTES, SORT_TOKENS, TaskBatch } from '../../engine/src/train/tasks';
import { TwbError } from '../../engine/src/util/errors';

const encoder: TransformerSpec = { layers: 1, hidden: 16, heads: 2, ffn: 32, vocab: 64, maxSeq: 64, kind: 'encoder', numClasses: 2 };
const decoder: TransformerSpec = { ...encoder, kind: 'decoder' };

const row = (a: ArrayLike<number>, r: number, width: number) => Array.from(a).slice(r * width, (r + 1) * width);

test('count-compare: CLS, the markers A and B, letters, padding masked; label = A more frequent than B', () => {
  const seq = 24;
  const task = makeTask('count-compare', encoder, seq, 7);
  const b = task.batch(0, 200);
  const A = COUNT_TOKENS.firstLetter;
  const B = COUNT_TOKENS.firstLetter + 1;
  let ones = 0;
  const lengths = new Set<number>();
  for (let r = 0; r < b.batch; r++) {
    const ids = row(b.ids, r, seq);
    const mask = row(b.keyMask!, r, seq);
    assert.deepEqual(ids.slice(0, 3), [COUNT_TOKENS.cls, A, B]);
    const len = mask.filter((m) => m === 1).length;
    lengths.add(len);
    assert.ok(mask.slice(0, len).every((m) => m === 1) && mask.slice(len).every((m) => m === 0), 'tokens first, then padding');
    assert.ok(ids.slice(len).every((t) => t === COUNT_TOKENS.pad));
    const rest = ids.slice(3, len);
    assert.ok(rest.every((t) => t >= COUNT_TOKENS.firstLetter && t < encoder.vocab));
    const ca = rest.filter((t) => t === A).length;
    const cb = rest.filter((t) => t === B).length;
    assert.notEqual(ca, cb, 'ties are redrawn');
    assert.equal(b.targets[r], ca > cb ? 1 : 0);
    assert.equal(b.weights[r], 1);
    ones += b.targets[r];
  }
  assert.ok(ones > 60 && ones < 140, `both labels occur (${ones} of 200 are 1)`);
  assert.ok(lengths.size > 3, 'lengths vary');
});

test('sort: BOS, values, SEP, the values sorted; loss and accuracy only where the sorted half is predicted', () => {
  const seq = 20;
  const n = 9;
  const task = makeTask('sort', decoder, seq, 3);
  const b = task.batch(5, 30);
  for (let r = 0; r < b.batch; r++) {
    const ids = row(b.ids, r, seq);
    assert.equal(ids[0], SORT_TOKENS.bos);
    assert.equal(ids[n + 1], SORT_TOKENS.sep);
    const x = ids.slice(1, n + 1);
    assert.deepEqual(ids.slice(n + 2), [...x].sort((p, q) => p - q));
    const targets = row(b.targets, r, seq);
    const weights = row(b.weights, r, seq);
    for (let t = 0; t + 1 < seq; t++) assert.equal(targets[t], ids[t + 1], 'targets are the next tokens');
    assert.deepEqual(weights, Array.from({ length: seq }, (_, t) => (t >= n + 1 && t <= 2 * n ? 1 : 0)));
  }
});

test('batches are reproducible by (seed, step); held-out batches come from disjoint seeds', () => {
  const task = makeTask('count-compare', encoder, 24, 11);
  assert.deepEqual(task.batch(3, 8), task.batch(3, 8));
  assert.notDeepEqual(task.batch(3, 8).ids, task.batch(4, 8).ids);
  assert.notDeepEqual(makeTask('count-compare', encoder, 24, 12).batch(3, 8).ids, task.batch(3, 8).ids);
  for (let i = 0; i < 100; i++) {
    assert.equal(batchSeed(11, 'train', i) & 1, 0);
    assert.equal(batchSeed(11, 'eval', i) & 1, 1);
  }
  const evalSet = task.evalSet(100, 32);
  assert.deepEqual(evalSet.map((b) => b.batch), [32, 32, 32, 4]);
  assert.deepEqual(task.evalSet(100, 32), evalSet, 'the same held-out set every time');
  const key = (b: TaskBatch, r: number) => row(b.ids, r, b.seq).join(',');
  const train = new Set<string>();
  for (let s = 0; s < 50; s++) {
    const b = task.batch(s, 16);
    for (let r = 0; r < b.batch; r++) train.add(key(b, r));
  }
  for (const b of evalSet) for (let r = 0; r < b.batch; r++) assert.ok(!train.has(key(b, r)), 'no held-out example was trained on');
});

test('a task for the other kind of model is a usage error naming the model to use', () => {
  assert.throws(() => makeTask('sort', encoder, 16, 0), (e: unknown) => e instanceof TwbError && e.code === 'usage' && /builtin:tiny-gpt/.test(e.message));
  assert.throws(() => makeTask('count-compare', decoder, 16, 0), /builtin:tiny-bert/);
  assert.throws(() => makeTask('char-lm', decoder, 16, 0), /--text/);
  assert.throws(() => makeTask('count-compare', { ...encoder, vocab: 4 }, 16, 0), /vocabulary/);
});

test('char-lm: characters as tokens, 90% trained on, held-out windows from the last 10%', (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'twb-text-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'corpus.txt');
  // Characters 'a'..'e' in the first 90%, 'x' (a token never trained on) in the last 10%.
  const text = 'abcde'.repeat(180) + 'x'.repeat(100) + 'é';
  writeFileSync(file, text);
  const seq = 8;
  const task = makeTask('char-lm', decoder, seq, 1, file);
  assert.equal(task.textFile, 'corpus.txt');
  const b = task.batch(0, 16);
  for (let r = 0; r < b.batch; r++) {
    const ids = row(b.ids, r, seq);
    assert.ok(ids.every((i) => i <= 4), 'training windows lie in the first 90% (a..e = 0..4)');
    assert.deepEqual(row(b.targets, r, seq).slice(0, -1), ids.slice(1));
  }
  const held = task.evalSet(10, 4);
  assert.equal(held.reduce((a, x) => a + x.batch, 0), 10);
  for (const h of held) assert.ok(Array.from(h.ids).every((i) => i >= 5), 'held-out windows lie in the last 10% (x = 5, é = 6)');
});

test('char-lm refuses empty, short, binary, too varied and too large files with clear messages', (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'twb-text-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, data: string | Uint8Array) => {
    const f = path.join(dir, name);
    writeFileSync(f, data);
    return f;
  };
  assert.throws(() => makeTask('char-lm', decoder, 8, 0, write('empty.txt', '')), /is empty/);
  assert.throws(() => makeTask('char-lm', decoder, 8, 0, write('short.txt', 'abcdefghij')), /has 10 characters; with --seq 8 it needs at least 81 /);
  assert.throws(() => makeTask('char-lm', decoder, 8, 0, write('latin1.txt', new Uint8Array([0x61, 0xe9, 0x62]))), /not UTF-8 text/);
  assert.throws(() => makeTask('char-lm', decoder, 8, 0, write('nul.txt', 'ab\0cd'.repeat(100))), /binary/);
  const varied = Array.from({ length: 100 }, (_, i) => String.fromCodePoint(0x4e00 + i)).join('').repeat(5);
  assert.throws(() => makeTask('char-lm', decoder, 8, 0, write('varied.txt', varied)), /100 distinct characters, more than the model's vocabulary of 64/);
  const big = path.join(dir, 'big.txt');
  const fd = openSync(big, 'w');
  ftruncateSync(fd, MAX_TEXT_BYTES + 1);
  closeSync(fd);
  assert.throws(() => makeTask('char-lm', decoder, 8, 0, big), /reads at most 64 MiB/);
  assert.throws(() => makeTask('char-lm', decoder, 8, 0, path.join(dir, 'missing.txt')), /cannot be read/);
});

test('cross-entropy averages over the weighted targets; accuracy counts their arg-max', async () => {
  const { tf } = await loadTf('wasm');
  const task = makeTask('sort', decoder, 4, 0);
  const b: TaskBatch = { batch: 1, seq: 3, ids: new Int32Array(3), targets: Int32Array.from([2, 0, 1]), weights: Float32Array.from([1, 0, 1]) };
  const logits = [
    [0, 1, 2],
    [5, 0, 0],
    [1, 3, 0],
  ];
  const lse = (r: number[]) => Math.log(r.reduce((a, x) => a + Math.exp(x), 0));
  const want = (lse(logits[0]) - 2 + (lse(logits[2]) - 3)) / 2;
  const loss = tf.tidy(() => crossEntropy(tf, tf.tensor3d([logits]), b));
  assert.ok(Math.abs(loss.dataSync()[0] - want) < 1e-5);
  loss.dispose();
  assert.deepEqual(task.accuracy(Float32Array.from(logits.flat()), b), { correct: 2, total: 2 });
  assert.deepEqual(task.accuracy(Float32Array.from(logits.flat()), { ...b, targets: Int32Array.from([0, 0, 1]) }), { correct: 1, total: 2 });
});
