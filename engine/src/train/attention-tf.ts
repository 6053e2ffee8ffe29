/**
 * Attention of the tfjs transformer, one function per variant of model/variants.ts. Each takes
 * per-head queries, keys and values [B, H, S, D] and returns the context [B, H, S, D], computing
 * what the ONNX builder's graph for the same variant computes, under the masks of
 * model/attention-masks.ts. Window and BigBird work block by block (cost linear in S), where the
 * ONNX export computes dense scores under the same mask. Adaptive span is dense attention whose
 * weights are faded by each head's span (adaptive-span-tf.ts). Rows of padded queries whose every
 * key is masked are unspecified (the two differ there); no token's output depends on them. Mixer
 * and dynamic convolution have no queries and keys: they are whole blocks, in mixing-tf.ts.
 */
import type { Tensor, Tensor2D, Tensor4D, Tf, Variable } from '../runtime/tfjs';
import type { TransformerSpec } from '../model/spec';
import { blockLayout, BlockLayout, queryBlocks } from '../model/attention-masks';
import { formatAttention } from '../model/variants';
import { MASK_VALUE } from '../model/transformer';
import type { TfOps } from './tf-ops';
import { applySpan } from './adaptive-span-tf';

export interface AttentionInputs {
  q: Tensor;
  k: Tensor;
  v: Tensor;
  /** Decoder: a query sees no later key. */
  causal: boolean;
  /** [B, S] 1 = token, 0 = padding (encoders). */
  keyMask?: Tensor2D;
  layer: number;
  /** A variant's own weights of this layer, by name relative to the layer (e.g. `attn/linformer_e`). */
  param: (name: string) => Variable;
}

export function attention(tf: Tf, ops: TfOps, spec: TransformerSpec, a: AttentionInputs): Tensor4D {
  const scale = 1 / Math.sqrt(spec.hidden / spec.heads);
  const kind = spec.attention?.kind ?? 'dense';
  if (kind === 'linformer') return linformerAttention(tf, ops, a, scale);
  if (kind === 'window' || kind === 'bigbird') return blockAttention(tf, ops, a, cachedLayout(spec, a.layer, a.q.shape[2]!), scale);
  if (kind === 'adaptive-span') return denseAttention(tf, ops, a, scale, (probs) => applySpan(tf, spec, a.param('attn/span'), probs, a.causal));
  if (kind !== 'dense') throw new Error(`--attention ${formatAttention(spec.attention)} has no queries and keys: it is a whole block (mixing-tf.ts)`);
  return denseAttention(tf, ops, a, scale);
}

/** Softmax attention over every allowed key; `reweigh` rescales the weights before they meet v. */
function denseAttention(tf: Tf, ops: TfOps, a: AttentionInputs, scale: number, reweigh?: (probs: Tensor) => Tensor): Tensor4D {
  const seq = a.q.shape[2]!;
  let scores = tf.mul(ops.matMul(a.q, tf.transpose(a.k, [0, 1, 3, 2])), scale);
  if (a.causal) {
    const lower = tf.linalg.bandPart(tf.ones([seq, seq]), -1, 0);
    scores = tf.add(scores, tf.mul(tf.sub(1, lower), MASK_VALUE));
  }
  if (a.keyMask) {
    const [b, s] = a.keyMask.shape;
    scores = tf.add(scores, tf.reshape(keyPenalty(tf, a.keyMask), [b, 1, 1, s]));
  }
  const probs = tf.softmax(scores, -1);
  return ops.matMul(reweigh ? reweigh(probs) : probs, a.v) as Tensor4D;
}

/** [B, S] additive: MASK_VALUE on padded keys. */
function keyPenalty(tf: Tf, keyMask: Tensor2D): Tensor {
  return tf.mul(tf.sub(1, keyMask), MASK_VALUE);
}

const penalties = new WeakMap<Uint8Array, Float32Array>();

/** Additive mask from a 0/1 table (of a cached layout, so its values are made once). */
function penalty(tf: Tf, allowed: Uint8Array, shape: number[]): Tensor {
  let values = penalties.get(allowed);
  if (!values) {
    values = new Float32Array(allowed.length);
    for (let i = 0; i < allowed.length; i++) values[i] = allowed[i] ? 0 : MASK_VALUE;
    penalties.set(allowed, values);
  }
  return tf.tensor(values, shape, 'float32');
}

/**
 * Window and BigBird attention by blocks (layout from attention-masks.ts). Global query rows
 * attend densely; each later query block [W] attends to the global keys, its neighbour blocks
 * (shifted copies of the blocked keys) and its random blocks (gathered), all under one softmax.
 * Batch and heads share one axis so no tensor has rank 5: on wasm a rank-5 Slice or Concat
 * gradient takes hundreds of times longer than the same copy at rank 4.
 */
function blockAttention(tf: Tf, ops: TfOps, a: AttentionInputs, L: BlockLayout, scale: number): Tensor4D {
  const [batch, heads, seq, dim] = a.q.shape as [number, number, number, number];
  const bh = batch * heads;
  const w = L.block;
  const nq = queryBlocks(L);
  const keyAdd = a.keyMask && keyPenalty(tf, a.keyMask);
  const parts: Tensor[] = [];

  if (L.globalRows > 0) {
    const qg = tf.slice(a.q, [0, 0, 0, 0], [batch, heads, L.globalRows, dim]);
    let scores = tf.add(tf.mul(ops.matMul(qg, tf.transpose(a.k, [0, 1, 3, 2])), scale), penalty(tf, L.globalAllowed, [L.globalRows, seq]));
    if (keyAdd) scores = tf.add(scores, tf.reshape(keyAdd, [batch, 1, 1, seq]));
    parts.push(tf.reshape(ops.matMul(tf.softmax(scores, -1), a.v), [bh, L.globalRows, dim]));
  }

  if (nq > 0) {
    const [q, k, v] = [a.q, a.k, a.v].map((x) => tf.reshape(x, [bh, seq, dim]));
    const padded = L.blocks * w;
    const blocked = (x: Tensor) => tf.reshape(padded === seq ? x : tf.pad(x, [[0, 0], [0, padded - seq], [0, 0]]), [bh, L.blocks, w, dim]);
    const first = L.globalBlocks;
    const qb = tf.slice(blocked(q), [0, first, 0, 0], [bh, nq, w, dim]);
    const globalCols = first * w;
    // Local keys of each query block: neighbours, then random blocks → [BH, nq, cols − global, D].
    const local = (x: Tensor): Tensor => {
      const xb = blocked(x);
      const framed = tf.pad(xb, [[0, 0], [1, 1], [0, 0], [0, 0]]); // one empty block on each side
      const pieces = L.offsets.map((o) => tf.slice(framed, [0, first + o + 1, 0, 0], [bh, nq, w, dim]));
      if (L.randomSlots > 0) pieces.push(tf.reshape(gatherBlocks(tf, xb, L.random), [bh, nq, L.randomSlots * w, dim]));
      return tf.concat(pieces, 2);
    };
    const vLocal = local(v);
    let scores = tf.mul(ops.matMul(qb, tf.transpose(local(k), [0, 1, 3, 2])), scale); // [BH, nq, W, local]
    if (globalCols > 0) {
      // One [nq·W, D]·[D, G·W] product per head instead of copying the global keys to every block.
      const kGlobal = tf.slice(k, [0, 0, 0], [bh, globalCols, dim]);
      const g = ops.matMul(tf.reshape(qb, [bh, nq * w, dim]), tf.transpose(kGlobal, [0, 2, 1]));
      scores = tf.concat([tf.mul(tf.reshape(g, [bh, nq, w, globalCols]), scale), scores], 3);
    }
    scores = tf.add(scores, penalty(tf, L.allowed, [nq, w, L.cols]));
    if (keyAdd) {
      const cols = tf.tensor1d(Int32Array.from(L.keyPos, (p) => Math.max(p, 0)), 'int32'); // empty slots are masked already
      const perBatch = tf.reshape(tf.gather(keyAdd, cols, 1), [batch, 1, nq * L.cols]);
      scores = tf.add(scores, tf.reshape(tf.tile(perBatch, [1, heads, 1]), [bh, nq, 1, L.cols]));
    }
    const probs = tf.softmax(scores, -1);
    const pLocal = globalCols > 0 ? tf.slice(probs, [0, 0, 0, globalCols], [bh, nq, w, L.cols - globalCols]) : probs;
    let ctx = tf.reshape(ops.matMul(pLocal, vLocal), [bh, nq * w, dim]);
    if (globalCols > 0) {
      const vGlobal = tf.slice(v, [0, 0, 0], [bh, globalCols, dim]);
      const pGlobal = tf.reshape(tf.slice(probs, [0, 0, 0, 0], [bh, nq, w, globalCols]), [bh, nq * w, globalCols]);
      ctx = tf.add(ctx, ops.matMul(pGlobal, vGlobal));
    }
    parts.push(ctx);
  }
  const out = parts.length === 1 ? parts[0] : tf.concat(parts, 1);
  const rows = out.shape[1] === seq ? out : tf.slice(out, [0, 0, 0], [bh, seq, dim]);
  return tf.reshape(rows, [batch, heads, seq, dim]) as Tensor4D;
}

/**
 * Blocks of `x` [BH, nb, W, D] picked by `table` along axis 1 → [BH, table.length, W, D]; an
 * empty slot (−1) reads block 0, which the mask hides. GatherNd, because on wasm it copies whole
 * blocks ~10× faster than GatherV2; and a gradient of our own, because tf.gather's needs
 * UnsortedSegmentSum, which wasm lacks: it sums, for each block, the slots that read it, through a
 * second gather over the inverted table (so both directions stay linear in the length).
 */
function gatherBlocks(tf: Tf, x: Tensor, table: Int32Array): Tensor {
  const [bh, nb, w, d] = x.shape as number[];
  const readers: number[][] = Array.from({ length: nb }, () => []);
  table.forEach((block, slot) => block >= 0 && readers[block].push(slot));
  const width = Math.max(1, ...readers.map((r) => r.length));
  // Slot table.length is a zero block appended to the gradient: the padding of blocks read less.
  const inverse = new Int32Array(nb * width).fill(table.length);
  readers.forEach((slots, b) => slots.forEach((slot, i) => (inverse[b * width + i] = slot)));
  const rows = (blocks: Int32Array, n: number) => {
    const idx = new Int32Array(bh * n * 2);
    for (let r = 0; r < bh; r++) {
      for (let i = 0; i < n; i++) {
        idx[(r * n + i) * 2] = r;
        idx[(r * n + i) * 2 + 1] = Math.max(blocks[i], 0);
      }
    }
    return tf.tensor3d(idx, [bh, n, 2], 'int32');
  };
  const gather = tf.customGrad(((input: Tensor) => {
    const flat = tf.reshape(input, [bh, nb, w * d]);
    return {
      value: tf.reshape(tf.gatherND(flat, rows(table, table.length)), [bh, table.length, w, d]),
      gradFunc: (dy: Tensor) => {
        const withZero = tf.pad(tf.reshape(dy, [bh, table.length, w * d]), [[0, 0], [0, 1], [0, 0]]);
        const picked = tf.gatherND(withZero, rows(inverse, inverse.length)); // [BH, nb·width, W·D]
        return tf.reshape(tf.sum(tf.reshape(picked, [bh * nb, width, w * d]), 1), [bh, nb, w, d]);
      },
    };
  }) as unknown as Parameters<Tf['customGrad']>[0]) as unknown as (t: Tensor) => Tensor;
  return gather(x);
}

/**
 * Linformer: keys and values (padded positions zeroed) projected along the sequence by
 * E[:S]ᵀ [K, S] to [B, H, K, D]; queries attend to the K projected positions.
 */
function linformerAttention(tf: Tf, ops: TfOps, a: AttentionInputs, scale: number): Tensor4D {
  const [batch, heads, seq, dim] = a.q.shape as [number, number, number, number];
  const e = a.param('attn/linformer_e');
  const k = e.shape[1]!;
  const eT = tf.transpose(tf.slice(e, [0, 0], [seq, k]));
  const keep = a.keyMask && tf.reshape(a.keyMask, [batch, 1, seq, 1]);
  // As one 2-D [K, S]·[S, B·H·D] product: batched MatMul is much slower than 2-D on wasm.
  const project = (x: Tensor): Tensor => {
    const flat = tf.reshape(tf.transpose(keep ? tf.mul(x, keep) : x, [2, 0, 1, 3]), [seq, batch * heads * dim]);
    return tf.transpose(tf.reshape(ops.matMul(eT, flat), [k, batch, heads, dim]), [1, 2, 0, 3]);
  };
  const kp = project(a.k);
  const vp = project(a.v);
  const scores = tf.mul(ops.matMul(a.q, tf.transpose(kp, [0, 1, 3, 2])), scale);
  return ops.matMul(tf.softmax(scores, -1), vp) as Tensor4D;
}

/** Layouts are pure functions of (spec, layer, length); a training run asks for the same few. */
const layouts = new Map<string, BlockLayout>();
const MAX_LAYOUTS = 256;

function cachedLayout(spec: TransformerSpec, layer: number, seq: number): BlockLayout {
  const key = `${formatAttention(spec.attention)}|${spec.kind}|${spec.maxSeq}|${layer}|${seq}`;
  let layout = layouts.get(key);
  if (!layout) {
    if (layouts.size >= MAX_LAYOUTS) layouts.clear();
    layout = blockLayout(spec, layer, seq);
    layouts.set(key, layout);
  }
  return layout;
}
