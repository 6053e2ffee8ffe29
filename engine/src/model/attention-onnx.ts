/**
 * The attention block of one layer of the built-in transformer as ONNX nodes, one function per
 * variant: block(h) in x = x + block(LN1(x)). Dense, window and BigBird are dense attention under
 * an additive mask; Linformer projects keys and values along the sequence; the mixer mixes tokens
 * with an MLP across the sequence; dynamic-conv weighs K neighbouring value rows with kernels
 * predicted per position; adaptive span fades dense attention with a learned soft ramp. The maths
 * of the last three is the one the tfjs model (train/attention-tf.ts) follows, so the two agree.
 * Every weight comes from `attentionWeights(spec)` (name, shape, init) and is declared when first
 * used, so weights draw from the seed in the order they always did; nodes are named `layerN/attn/…`.
 */
import type { GraphBuilder, AttrValue } from './graph-builder';
import type { TransformerSpec } from './spec';
import { attentionWeights, formatAttention, weightLayer, WeightInit } from './variants';
import { convTapsBefore } from './attention-masks';
import type { BlockMasks, IntsFn, ScalarFn } from './attention-onnx-masks';

/** What the blocks of one graph share: the builder, its constant helpers and the masks. */
export interface AttentionGraph {
  g: GraphBuilder;
  spec: TransformerSpec;
  /** int64 [1]: the sequence length S. */
  seqLen: string;
  masks: BlockMasks;
  ints: IntsFn;
  scalar: ScalarFn;
  /** Declares a float tensor once under its full name and returns the name (later calls reuse it). */
  param: (name: string, dims: number[], init: () => Float32Array) => string;
  /** Fresh initial values for a weight of the list. */
  initial: (init: WeightInit, dims: number[]) => Float32Array;
  /** Exact (erf) GELU of `x` as nodes `${scope}/gelu_*`; the FFN uses the same. */
  gelu: (scope: string, x: string) => string;
}

/** One layer's view: its node scope, weight lookup and dense projections. */
interface Layer extends AttentionGraph {
  /** `layerN/attn`: the scope of the block's nodes. */
  scope: string;
  /** `Op` of a node named `layerN/attn/${name}`. */
  op: (name: string, opType: string, inputs: string[], attrs?: Record<string, AttrValue>) => string;
  /** The weight `attn/…` of this layer's weight-owning layer. */
  weight: (name: string) => string;
  /** input·`attn/${name}/weight` + `attn/${name}/bias`. */
  proj: (name: string, input: string) => string;
}

/** Constants of the head-split variants; declared up front by the builder to keep old models' layout. */
export function headConstants(c: Pick<AttentionGraph, 'spec' | 'ints' | 'scalar'>): { scale: string; split: string; merge: string } {
  const headDim = c.spec.hidden / c.spec.heads;
  return {
    scale: c.scalar('const/attn_scale', 1 / Math.sqrt(headDim)),
    split: c.ints('const/split_heads_shape', [0, 0, c.spec.heads, headDim]),
    merge: c.ints('const/merge_heads_shape', [0, 0, c.spec.hidden]),
  };
}

/** Whether the variant splits q/k/v into heads and scores them (everything but mixer and dynamic-conv). */
export function usesScores(spec: TransformerSpec): boolean {
  const kind = spec.attention?.kind ?? 'dense';
  return kind !== 'mixer' && kind !== 'dynamic-conv';
}

/** Adds layer `layer`'s attention block reading h = LN1(x) [B, S, H]; returns its output [B, S, H]. */
export function attentionBlock(c: AttentionGraph, layer: number, h: string): string {
  const p = `layer${layer}/attn`;
  const wp = `layer${weightLayer(layer, c.spec.shareLayers)}`;
  const list = new Map(attentionWeights(c.spec).map((w) => [w.name, w]));
  const used = new Set<string>();
  const weight = (name: string): string => {
    const w = list.get(name);
    if (!w) throw new Error(`"${name}" is not an attention weight of ${formatAttention(c.spec.attention)}: ${[...list.keys()].join(', ')}`);
    used.add(name);
    return c.param(`${wp}/${name}`, w.dims, () => c.initial(w.init, w.dims));
  };
  const op = (name: string, opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}) => c.g.op(`${p}/${name}`, opType, inputs, attrs);
  const proj = (name: string, input: string) => op(`${name}_bias`, 'Add', [op(name, 'MatMul', [input, weight(`attn/${name}/weight`)]), weight(`attn/${name}/bias`)]);
  const l: Layer = { ...c, scope: p, op, weight, proj };
  const kind = c.spec.attention?.kind ?? 'dense';
  const out = kind === 'mixer' ? mixer(l, h) : kind === 'dynamic-conv' ? dynamicConv(l, h) : scored(l, layer, h);
  const unused = [...list.keys()].filter((n) => !used.has(n));
  if (unused.length) throw new Error(`${formatAttention(c.spec.attention)} attention left weights unused: ${unused.join(', ')}`);
  return out;
}

/** Dense attention, under the variant's mask (dense, window, BigBird, adaptive span) or Linformer's projections. */
function scored(l: Layer, layer: number, h: string): string {
  const { spec, op } = l;
  const k = headConstants(l);
  const heads = (n: 'q' | 'k' | 'v', perm: number[]) => {
    const split = op(`${n}_split`, 'Reshape', [l.proj(`${n}_proj`, h), k.split]);
    return op(`${n}_transpose`, 'Transpose', [split], { perm });
  };
  const q = heads('q', [0, 2, 1, 3]); // [B, H, S, D]
  let ctx: string;
  const v = spec.attention;
  if (v?.kind === 'linformer') {
    // E ~ N(0, 1/K) (init 'linformer'): a Johnson–Lindenstrauss projection, which keeps each key
    // and value column's norm in expectation, drawn from its own stream of the seed so that every
    // other weight equals the dense model's: the variants start from the same point.
    const slice = op('linformer_e_slice', 'Slice', [l.weight('attn/linformer_e'), l.ints('const/zero_1d', [0]), l.seqLen, l.ints('const/axis0', [0])]);
    const eT = op('linformer_e_t', 'Transpose', [slice], { perm: [1, 0] }); // [K, S]
    // Padded keys and values are zeroed, then projected along the sequence: [K, S]·[B, H, S, D].
    const project = (n: 'k' | 'v') => op(`${n}_project`, 'MatMul', [eT, op(`${n}_keep`, 'Mul', [heads(n, [0, 2, 1, 3]), l.masks.keep!])]);
    const kp = op('k_project_t', 'Transpose', [project('k')], { perm: [0, 1, 3, 2] }); // [B, H, D, K]
    const vp = project('v'); // [B, H, K, D]
    const scaled = op('scale', 'Mul', [op('qk_matmul', 'MatMul', [q, kp]), k.scale]);
    ctx = op('av_matmul', 'MatMul', [op('softmax', 'Softmax', [scaled], { axis: -1 }), vp]);
  } else {
    const keys = heads('k', [0, 2, 3, 1]); // [B, H, D, S]
    const values = heads('v', [0, 2, 1, 3]); // [B, H, S, D]
    const scaled = op('scale', 'Mul', [op('qk_matmul', 'MatMul', [q, keys]), k.scale]);
    const probs = op('softmax', 'Softmax', [op('mask_add', 'Add', [scaled, l.masks.scores(layer)])], { axis: -1 });
    ctx = op('av_matmul', 'MatMul', [v?.kind === 'adaptive-span' ? spanFade(l, probs, v) : probs, values]);
  }
  const merged = op('merge_transpose', 'Transpose', [ctx], { perm: [0, 2, 1, 3] });
  return l.proj('out_proj', op('merge_reshape', 'Reshape', [merged, k.merge]));
}

/**
 * Adaptive span: probs [B, heads, S, S] times the soft mask clip((ramp + z − dist) / ramp, 0, 1)
 * with z = maxSpan · clip(span, 0, 1) per head, renormalised over the keys; the 1e-8 keeps a row
 * whose keys all faded (a padded query far from every token) finite.
 */
function spanFade(l: Layer, probs: string, v: { maxSpan: number; ramp: number }): string {
  const { op, scalar } = l;
  const zero = scalar('const/float_zero', 0);
  const one = scalar('const/one', 1);
  const ramp = scalar('const/span_ramp', v.ramp);
  const z = op('span_z', 'Mul', [op('span_clip', 'Clip', [l.weight('attn/span'), zero, one]), scalar('const/span_max', v.maxSpan)]);
  const reach = op('span_reach', 'Reshape', [op('span_ramp_add', 'Add', [ramp, z]), l.ints('const/span_heads_shape', [l.spec.heads, 1, 1])]); // [heads, 1, 1]
  const ramped = op('span_ramp_div', 'Div', [op('span_left', 'Sub', [reach, l.masks.spanDistance!]), ramp]); // [heads, S, S]
  const faded = op('span_fade', 'Mul', [probs, op('span_mask', 'Clip', [ramped, zero, one])]);
  const total = op('span_total', 'ReduceSum', [faded, l.ints('const/last_axis', [-1])], { keepdims: 1 });
  return op('span_norm', 'Div', [faded, op('span_total_eps', 'Add', [total, scalar('const/span_eps', 1e-8)])]);
}

/**
 * MLP-Mixer token mixing: per channel, gelu(t·W1 + b1)·W2 + b2 over the positions, t = hᵀ [B, H, S].
 * The weights are [maxSeq, maxSeq]; a length S uses their top-left block, and a decoder's are
 * masked by the triangle U[j, i] = (j ≤ i) so output i reads inputs j ≤ i only.
 */
function mixer(l: Layer, h: string): string {
  const { op, ints, masks } = l;
  const input = masks.keep ? op('token_keep', 'Mul', [h, masks.keep]) : h; // padding feeds nothing
  const t = op('token_transpose', 'Transpose', [input], { perm: [0, 2, 1] }); // [B, H, S]
  const square = (name: string) => {
    const cut = op(`${name}_weight`, 'Slice', [l.weight(`attn/${name}/weight`), ints('const/zero_2d', [0, 0]), masks.square!, ints('const/axes_01', [0, 1])]);
    return masks.mixerCausal ? op(`${name}_causal`, 'Mul', [cut, masks.mixerCausal]) : cut;
  };
  const bias = (name: string) => op(`${name}_bias_cut`, 'Slice', [l.weight(`attn/${name}/bias`), ints('const/zero_1d', [0]), l.seqLen, ints('const/axis0', [0])]);
  const mix = (name: string, x: string) => op(`${name}_bias`, 'Add', [op(name, 'MatMul', [x, square(name)]), bias(name)]);
  const up = l.gelu(`${l.scope}/token_up`, mix('token_up', t));
  return op('token_out', 'Transpose', [mix('token_down', up)], { perm: [0, 2, 1] });
}

/**
 * Dynamic convolution: each position's K-tap kernel per head (softmax of a projection of h) weighs
 * the value rows i + t − before, t ∈ [0, K), read as K slices of the zero-padded values and taken
 * as a [1, K]·[K, D] product per position and head: K·S·H work, linear in S.
 */
function dynamicConv(l: Layer, h: string): string {
  const { op, ints, spec } = l;
  const kernel = (spec.attention as { kernel: number }).kernel;
  const headDim = spec.hidden / spec.heads;
  const before = convTapsBefore(spec.kind, kernel);
  let values = l.proj('v_proj', h); // [B, S, H]
  if (l.masks.keep) values = op('v_keep', 'Mul', [values, l.masks.keep]);
  const logits = op('kernel_split', 'Reshape', [l.proj('dynconv_kernel', h), ints('const/dynconv_kernel_shape', [0, 0, spec.heads, kernel])]); // [B, S, heads, K] head-major
  const weights = op('kernel_unsqueeze', 'Unsqueeze', [op('kernel_softmax', 'Softmax', [logits], { axis: -1 }), ints('const/axis3', [3])]); // [B, S, heads, 1, K]
  const padded = op('v_pad', 'Pad', [values, ints('const/dynconv_pads', [0, before, 0, 0, kernel - 1 - before, 0])]); // [B, S + K − 1, H]
  const taps: string[] = [];
  for (let t = 0; t < kernel; t++) {
    // Tap t of position i is padded row i + t: rows [t, S + t), the end counted from the back.
    const end = t === kernel - 1 ? Number.MAX_SAFE_INTEGER : t - (kernel - 1);
    taps.push(op(`tap${t}`, 'Slice', [padded, ints(`const/dynconv_tap${t}_start`, [t]), ints(`const/dynconv_tap${t}_end`, [end]), ints('const/axis1', [1])]));
  }
  const stacked = op('taps_reshape', 'Reshape', [op('taps', 'Concat', taps, { axis: 2 }), ints('const/dynconv_taps_shape', [0, 0, kernel, spec.heads, headDim])]); // [B, S, K, heads, D]
  const perHead = op('taps_transpose', 'Transpose', [stacked], { perm: [0, 1, 3, 2, 4] }); // [B, S, heads, K, D]
  const ctx = op('conv_matmul', 'MatMul', [weights, perHead]); // [B, S, heads, 1, D]
  return l.proj('out_proj', op('merge_reshape', 'Reshape', [ctx, ints('const/merge_heads_shape', [0, 0, spec.hidden])]));
}
