/**
 * Training tasks that need no download: two seeded synthetic tasks with a crisp accuracy bar and a
 * character-level language model on a text file the user names. A task hands out batches as plain
 * arrays (the trainer makes the tensors) and owns its loss and accuracy.
 *
 * Every batch comes from its own seed: training batch `step` and held-out batch `i` draw from
 * seeds whose lowest bit differs (0 train, 1 held out), so the two streams never share a seed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Scalar, Tensor, Tensor1D, Tf } from '../runtime/tfjs';
import type { TransformerSpec } from '../model/spec';
import { PRESETS, BUILTIN_PREFIX } from '../model/spec';
import type { TrainTaskName } from '../schema/training';
import { TRAIN_TASKS } from '../schema/training';
import type { TrainRequest } from './request';
import { createRng, Rng } from '../util/rng';
import { TwbError, choices } from '../util/errors';

/** One batch as arrays, row-major. */
export interface TaskBatch {
  batch: number;
  seq: number;
  /** Token ids [batch, seq]. */
  ids: Int32Array;
  /** [batch, seq] 1 = token, 0 = padding (encoder tasks). */
  keyMask?: Float32Array;
  /** Encoder: the class of each example [batch]. Decoder: the next token at each position [batch, seq]. */
  targets: Int32Array;
  /** Weight of each target in the loss and the accuracy (0: not counted), shaped like `targets`. */
  weights: Float32Array;
}

/** Training settings a task suggests; `trainDefaults` starts from these. */
export type TrainSettings = Required<Pick<TrainRequest, 'steps' | 'batch' | 'seq' | 'lr' | 'warmupSteps' | 'weightDecay' | 'clipNorm' | 'evalEvery' | 'evalExamples' | 'profiledSteps'>>;

export interface TrainTask {
  name: TrainTaskName;
  /** Training batch of step `step` (0-based): the same step and seed give the same batch. */
  batch(step: number, batchSize: number): TaskBatch;
  /** The held-out examples, in batches of at most `batchSize`. */
  evalSet(examples: number, batchSize: number): TaskBatch[];
  /** Mean cross-entropy over the weighted targets (a scalar tensor). */
  loss(tf: Tf, logits: Tensor, batch: TaskBatch): Scalar;
  /** Weighted targets whose arg-max logit is right, and how many were counted. */
  accuracy(logits: Float32Array, batch: TaskBatch): { correct: number; total: number };
  /** What the accuracy measures, in words. */
  metric: string;
  /** Accuracy a model trained with the default settings reaches. */
  bar?: number;
  /** Base name of the char-lm corpus. */
  textFile?: string;
}

/**
 * Defaults per task, tuned on the 2-core machine with the tiny presets on wasm (figures at
 * trainer.ts `trainDefaults`). Short sequences keep a step near a second.
 */
export const TASK_DEFAULTS: Readonly<Record<TrainTaskName, TrainSettings>> = {
  'count-compare': { steps: 100, batch: 16, seq: 32, lr: 1e-3, warmupSteps: 10, weightDecay: 0.01, clipNorm: 1, evalEvery: 25, evalExamples: 256, profiledSteps: 2 },
  sort: { steps: 150, batch: 32, seq: 16, lr: 1e-3, warmupSteps: 15, weightDecay: 0.01, clipNorm: 1, evalEvery: 25, evalExamples: 256, profiledSteps: 2 },
  'char-lm': { steps: 300, batch: 16, seq: 64, lr: 1e-3, warmupSteps: 30, weightDecay: 0.01, clipNorm: 1, evalEvery: 50, evalExamples: 256, profiledSteps: 2 },
};

/** The model kind each task trains. */
export const TASK_KIND: Readonly<Record<TrainTaskName, TransformerSpec['kind']>> = { 'count-compare': 'encoder', sort: 'decoder', 'char-lm': 'decoder' };

/** Largest `--text` file read, bytes. */
export const MAX_TEXT_BYTES = 64 * 1024 * 1024;

/** Share of the corpus trained on; the rest is held out. */
const TRAIN_FRACTION = 0.9;

/** Letters of the synthetic tasks: few, so that a token repeats and counts matter. */
const COUNT_ALPHABET = 8;
const SORT_ALPHABET = 16;

/** Seed of batch `index` of a stream: lowest bit 0 for training, 1 for held-out batches. */
export function batchSeed(seed: number, stream: 'train' | 'eval', index: number): number {
  let h = 0x9e3779b9;
  for (const part of [seed, stream === 'train' ? 1 : 2, index]) {
    h = Math.imul(h ^ (part >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return ((h & ~1) | (stream === 'eval' ? 1 : 0)) >>> 0;
}

export function parseTask(text: string): TrainTaskName {
  if ((TRAIN_TASKS as readonly string[]).includes(text)) return text as TrainTaskName;
  throw new TwbError('usage', `--task "${text}" is unknown; ${choices([...TRAIN_TASKS])}`);
}

/** Builds the named task for a model spec and sequence length; `textFile` is char-lm's corpus. */
export function makeTask(name: TrainTaskName, spec: TransformerSpec, seq: number, seed: number, textFile?: string): TrainTask {
  const kind = TASK_KIND[name];
  if (kind === undefined) throw new TwbError('usage', `task "${name}" is unknown; ${choices([...TRAIN_TASKS])}`);
  if (spec.kind !== kind) {
    const fits = Object.keys(PRESETS).filter((p) => PRESETS[p].kind === kind).map((p) => BUILTIN_PREFIX + p);
    throw new TwbError('usage', `task "${name}" trains ${kind === 'encoder' ? 'an encoder' : 'a decoder'} such as ${fits.join(', ')}; this model is ${spec.kind === 'encoder' ? 'an encoder' : 'a decoder'}`);
  }
  if (name === 'char-lm') {
    if (!textFile) throw new TwbError('usage', 'task "char-lm" needs a text file (--text FILE)');
    return charLmTask(readCorpus(textFile), spec, seq, seed, path.basename(textFile));
  }
  if (textFile) throw new TwbError('usage', `--text is for the char-lm task; task "${name}" makes its own data`);
  return name === 'count-compare' ? countCompareTask(spec, seq, seed) : sortTask(spec, seq, seed);
}

interface Generator {
  /** Fills example `row` of `b` from `rng`. */
  example(rng: Rng, b: TaskBatch, row: number): void;
  perPosition: boolean;
  encoder: boolean;
}

function syntheticTask(name: TrainTaskName, gen: Generator, seq: number, seed: number, metric: string, bar: number): TrainTask {
  const make = (rng: Rng, size: number): TaskBatch => {
    const b = emptyBatch(size, seq, gen.encoder, gen.perPosition);
    for (let row = 0; row < size; row++) gen.example(rng, b, row);
    return b;
  };
  return {
    name,
    batch: (step, size) => make(createRng(batchSeed(seed, 'train', step)), size),
    evalSet: (examples, size) => evalBatches(examples, size, (i, n) => make(createRng(batchSeed(seed, 'eval', i)), n)),
    loss: crossEntropy,
    accuracy,
    metric,
    bar,
  };
}

/** Token ids of count-compare: padding, the pooled first token, then the letters. */
export const COUNT_TOKENS = { pad: 0, cls: 1, firstLetter: 2 } as const;

/**
 * count-compare (encoders): `[CLS, A, B, x…, PAD…]`. A and B are the first two letters of a small
 * alphabet and stand at positions 1 and 2 as markers; the x are random letters of that alphabet, of
 * random length (the rest padded and masked). Label 1 iff A occurs more often than B among the x;
 * ties are redrawn. The classifier reads the pooled CLS position, so the model must count.
 */
export function countCompareTask(spec: TransformerSpec, seq: number, seed: number): TrainTask {
  if (seq < 6) throw new TwbError('usage', `task "count-compare" needs --seq ≥ 6, got ${seq}`);
  const letters = Math.min(COUNT_ALPHABET, spec.vocab - COUNT_TOKENS.firstLetter);
  if (letters < 3) throw new TwbError('usage', `task "count-compare" needs a vocabulary of at least ${COUNT_TOKENS.firstLetter + 3} tokens, the model has ${spec.vocab}`);
  const maxRest = seq - 3;
  const minRest = Math.max(2, Math.ceil(maxRest / 2));
  const [a, bb] = [0, 1];
  const example = (rng: Rng, b: TaskBatch, row: number) => {
    const len = rng.int(minRest, maxRest + 1);
    const rest = new Int32Array(len);
    let diff = 0;
    do {
      diff = 0;
      for (let i = 0; i < len; i++) {
        rest[i] = rng.int(0, letters);
        diff += rest[i] === a ? 1 : rest[i] === bb ? -1 : 0;
      }
    } while (diff === 0);
    const o = row * seq;
    b.ids[o] = COUNT_TOKENS.cls;
    b.ids[o + 1] = COUNT_TOKENS.firstLetter + a;
    b.ids[o + 2] = COUNT_TOKENS.firstLetter + bb;
    for (let i = 0; i < len; i++) b.ids[o + 3 + i] = COUNT_TOKENS.firstLetter + rest[i];
    b.keyMask!.fill(1, o, o + 3 + len);
    b.targets[row] = diff > 0 ? 1 : 0;
    b.weights[row] = 1;
  };
  return syntheticTask('count-compare', { example, perPosition: false, encoder: true }, seq, seed, 'held-out sequences classified right (is A more frequent than B)', 0.9);
}

export const SORT_TOKENS = { pad: 0, bos: 1, sep: 2, firstValue: 3 } as const;

/**
 * sort (decoders): `[BOS, x1…xn, SEP, sorted(x)…]` with n = ⌊(seq−2)/2⌋ values of a small
 * alphabet. Loss and accuracy count only the positions that predict the sorted half.
 */
export function sortTask(spec: TransformerSpec, seq: number, seed: number): TrainTask {
  const n = Math.floor((seq - 2) / 2);
  if (n < 1) throw new TwbError('usage', `task "sort" needs --seq ≥ 4, got ${seq}`);
  const values = Math.min(SORT_ALPHABET, spec.vocab - SORT_TOKENS.firstValue);
  if (values < 2) throw new TwbError('usage', `task "sort" needs a vocabulary of at least ${SORT_TOKENS.firstValue + 2} tokens, the model has ${spec.vocab}`);
  const example = (rng: Rng, b: TaskBatch, row: number) => {
    const x = Array.from({ length: n }, () => SORT_TOKENS.firstValue + rng.int(0, values));
    const ids = [SORT_TOKENS.bos, ...x, SORT_TOKENS.sep, ...[...x].sort((p, q) => p - q)];
    const o = row * seq;
    b.ids.set(ids, o);
    for (let t = 0; t + 1 < ids.length; t++) b.targets[o + t] = ids[t + 1];
    // Position n+1 (SEP) predicts the first sorted value, position 2n the last.
    b.weights.fill(1, o + n + 1, o + 2 * n + 1);
  };
  return syntheticTask('sort', { example, perPosition: true, encoder: false }, seq, seed, 'tokens of the sorted half right', 0.9);
}

/** Reads a `--text` corpus: UTF-8 text of at most MAX_TEXT_BYTES. */
export function readCorpus(file: string): string {
  let size: number;
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) throw new TwbError('usage', `--text "${file}" is not a file`);
    size = st.size;
  } catch (e) {
    if (e instanceof TwbError) throw e;
    throw new TwbError('io', `--text "${file}" cannot be read: ${(e as Error).message}`);
  }
  if (size > MAX_TEXT_BYTES) throw new TwbError('usage', `--text "${file}" is ${(size / 2 ** 20).toFixed(1)} MiB; the char-lm task reads at most ${MAX_TEXT_BYTES / 2 ** 20} MiB`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(fs.readFileSync(file));
  } catch {
    throw new TwbError('usage', `--text "${file}" is not UTF-8 text`);
  }
  if (text.includes('\0')) throw new TwbError('usage', `--text "${file}" holds NUL bytes: it looks binary, not text`);
  return text;
}

/**
 * char-lm (decoders): next-character prediction. The vocabulary is the text's distinct characters
 * in code-point order (token id = rank, so ids stay below the spec's vocab); the first 90% of the
 * text trains, the last 10% is held out.
 */
export function charLmTask(text: string, spec: TransformerSpec, seq: number, seed: number, label = 'text'): TrainTask {
  if (text.length === 0) throw new TwbError('usage', `--text "${label}" is empty`);
  const distinct = new Set<string>();
  let length = 0;
  for (const ch of text) {
    distinct.add(ch);
    length++;
  }
  if (distinct.size > spec.vocab) throw new TwbError('usage', `--text "${label}" has ${distinct.size} distinct characters, more than the model's vocabulary of ${spec.vocab}`);
  const index = new Map([...distinct].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!).map((ch, i) => [ch, i]));
  const tokens = new Int32Array(length);
  let k = 0;
  for (const ch of text) tokens[k++] = index.get(ch)!;
  const cut = Math.floor(tokens.length * TRAIN_FRACTION);
  const fits = (n: number) => Math.min(Math.floor(n * TRAIN_FRACTION), n - Math.floor(n * TRAIN_FRACTION)) >= seq + 1;
  if (!fits(tokens.length)) {
    let need = seq + 1;
    while (!fits(need)) need++;
    throw new TwbError('usage', `--text "${label}" has ${tokens.length} characters; with --seq ${seq} it needs at least ${need} (90% to train on, 10% held out, each at least seq+1 characters)`);
  }
  const window = (b: TaskBatch, row: number, start: number) => {
    b.ids.set(tokens.subarray(start, start + seq), row * seq);
    b.targets.set(tokens.subarray(start + 1, start + seq + 1), row * seq);
    b.weights.fill(1, row * seq, (row + 1) * seq);
  };
  const heldOut = tokens.length - cut - seq - 1;
  return {
    name: 'char-lm',
    batch: (step, size) => {
      const rng = createRng(batchSeed(seed, 'train', step));
      const b = emptyBatch(size, seq, false, true);
      for (let row = 0; row < size; row++) window(b, row, rng.int(0, cut - seq));
      return b;
    },
    // Evenly spaced windows over the held-out part: the same text for every eval.
    evalSet: (examples, size) =>
      evalBatches(examples, size, (i, n) => {
        const b = emptyBatch(n, seq, false, true);
        for (let row = 0; row < n; row++) {
          const k = i * size + row;
          window(b, row, cut + Math.floor((k * heldOut) / Math.max(1, examples - 1)));
        }
        return b;
      }),
    loss: crossEntropy,
    accuracy,
    metric: 'held-out next characters right',
    textFile: label,
  };
}

/** A batch of uniformly random tokens and targets for timing a step (the sweep). */
export function randomBatch(spec: TransformerSpec, batchSize: number, seq: number, seed: number): TaskBatch {
  const rng = createRng(seed);
  const encoder = spec.kind === 'encoder';
  const b = emptyBatch(batchSize, seq, encoder, !encoder);
  for (let i = 0; i < b.ids.length; i++) b.ids[i] = rng.int(0, spec.vocab);
  const classes = encoder ? (spec.numClasses ?? 2) : spec.vocab;
  for (let i = 0; i < b.targets.length; i++) b.targets[i] = rng.int(0, classes);
  b.keyMask?.fill(1);
  b.weights.fill(1);
  return b;
}

function emptyBatch(size: number, seq: number, encoder: boolean, perPosition: boolean): TaskBatch {
  const targets = perPosition ? size * seq : size;
  return {
    batch: size,
    seq,
    ids: new Int32Array(size * seq),
    ...(encoder ? { keyMask: new Float32Array(size * seq) } : {}),
    targets: new Int32Array(targets),
    weights: new Float32Array(targets),
  };
}

function evalBatches(examples: number, size: number, make: (index: number, n: number) => TaskBatch): TaskBatch[] {
  const out: TaskBatch[] = [];
  for (let i = 0, done = 0; done < examples; i++, done += size) out.push(make(i, Math.min(size, examples - done)));
  return out;
}

/** Mean cross-entropy of the weighted targets; logits [..., classes] flatten to one row per target. */
export function crossEntropy(tf: Tf, logits: Tensor, b: TaskBatch): Scalar {
  const classes = logits.shape[logits.shape.length - 1]!;
  const flat = tf.reshape(logits, [-1, classes]);
  // wasm's OneHot writes int32 whatever dtype it is asked for: cast instead.
  const oneHot = tf.cast(tf.oneHot(tf.tensor1d(b.targets, 'int32') as Tensor1D, classes), 'float32');
  const nll = tf.neg(tf.sum(tf.mul(oneHot, tf.logSoftmax(flat)), -1));
  const total = b.weights.reduce((a, w) => a + w, 0);
  return tf.div(tf.sum(tf.mul(nll, tf.tensor1d(b.weights))), Math.max(total, 1e-9)) as Scalar;
}

function accuracy(logits: Float32Array, b: TaskBatch): { correct: number; total: number } {
  const rows = b.targets.length;
  const classes = logits.length / rows;
  let correct = 0;
  let total = 0;
  for (let r = 0; r < rows; r++) {
    if (b.weights[r] === 0) continue;
    let best = 0;
    for (let c = 1; c < classes; c++) if (logits[r * classes + c] > logits[r * classes + best]) best = c;
    total += b.weights[r];
    if (best === b.targets[r]) correct += b.weights[r];
  }
  return { correct, total };
}
