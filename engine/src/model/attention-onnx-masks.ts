/**
 * The masks and tables the ONNX attention blocks share across layers, made once per graph from
 * the inputs: additive score masks (causal, padding, window, BigBird), 0/1 multipliers of padded
 * tokens (Linformer, mixer, dynamic-conv) and [maxSeq, maxSeq] tables cut to the sequence (the
 * mixer's causal triangle, adaptive span's distances). Nodes are named `mask/…`, constants `const/…`.
 */
import { DataType } from '../onnx/types';
import { tensorFromFloat32 } from '../onnx/tensor-data';
import type { GraphBuilder } from './graph-builder';
import type { TransformerSpec } from './spec';
import { mixerTriangle, spanDistances, structuralMask } from './attention-masks';

/** Added to masked attention scores; large enough that softmax gives exactly 0 in fp32. */
export const MASK_VALUE = -1e9;

export type IntsFn = (name: string, values: number[], dims?: number[]) => string;
export type ScalarFn = (name: string, value: number) => string;

/** What one graph's attention blocks read besides their weights; absent where the variant needs none. */
export interface BlockMasks {
  /**
   * Additive mask of layer `layer`'s scores [.., S, S] (dense, window, BigBird, adaptive span):
   * causal for decoders, padding for encoders, the structure of window and BigBird on top.
   */
  scores(layer: number): string;
  /**
   * 0/1 float multiplier of padded positions (encoders): [B, 1, S, 1] on keys and values for
   * Linformer, [B, S, 1] on the block's tokens for the mixer and dynamic-conv.
   */
  keep?: string;
  /** int64 [2] = [S, S]: the ends that cut a [maxSeq, maxSeq] weight to the sequence (mixer). */
  square?: string;
  /** [S, S] triangle U[j, i] = 1 for j ≤ i, multiplied into a decoder mixer's token weights. */
  mixerCausal?: string;
  /** [S, S] distances (i − j decoder, |i − j| encoder) adaptive span's soft mask ramps over. */
  spanDistance?: string;
}

/**
 * Window and BigBird run here as dense attention plus the variant's mask, baked at maxSeq and cut
 * to [S, S] in the graph: ORT's cost therefore stays quadratic in S (the tfjs model computes only
 * the blocks the mask keeps) and the outputs are the same. BigBird's random blocks differ per
 * layer, so it has one mask per layer. Nodes are made in the order earlier builds made them, so a
 * model of the older variants stays byte-identical for the same seed.
 */
export function blockMasks(g: GraphBuilder, spec: TransformerSpec, seqLen: string, padMask: string | undefined, ints: IntsFn, scalar: ScalarFn): BlockMasks {
  const kind = spec.attention?.kind ?? 'dense';
  const noScores = (): string => {
    throw new Error(`${kind} attention has no score mask`);
  };
  if (kind === 'linformer') return { scores: noScores, keep: keyMultiplier(g, padMask!, ints) };
  if (kind === 'mixer' || kind === 'dynamic-conv') {
    const keep = padMask ? tokenMultiplier(g, padMask, ints) : undefined;
    if (kind === 'dynamic-conv') return { scores: noScores, keep };
    const square = squareEnds(g, seqLen);
    const causal = spec.kind === 'decoder' ? cutTable(g, 'mixer_causal', mixerTriangle(spec.maxSeq), spec.maxSeq, square, ints) : undefined;
    return { scores: noScores, keep, square, mixerCausal: causal };
  }
  if (kind === 'dense' || kind === 'adaptive-span') {
    const base = spec.kind === 'encoder' ? paddingMask(g, padMask!, ints, scalar) : causalMask(g, seqLen, ints);
    if (kind === 'dense') return { scores: () => base };
    const distance = cutTable(g, 'span_distance', spanDistances(spec.kind, spec.maxSeq), spec.maxSeq, squareEnds(g, seqLen), ints);
    return { scores: () => base, spanDistance: distance };
  }
  // Window and BigBird: a decoder's causality is part of the structure, so only encoders add padding.
  const extra = spec.kind === 'encoder' ? paddingMask(g, padMask!, ints, scalar) : undefined;
  const ends = squareEnds(g, seqLen);
  const made = new Map<string, string>();
  const scores = (layer: number): string => {
    const suffix = kind === 'bigbird' ? `/layer${layer}` : '';
    let out = made.get(suffix);
    if (!out) {
      const allowed = structuralMask(spec, layer, spec.maxSeq);
      const values = Float32Array.from(allowed, (a) => (a ? 0 : MASK_VALUE));
      const full = g.init(tensorFromFloat32(`const/attn_mask${suffix}`, [spec.maxSeq, spec.maxSeq], values));
      const cut = g.op(`mask/structure${suffix}`, 'Slice', [full, ints('const/zero_2d', [0, 0]), ends, ints('const/axes_01', [0, 1])]);
      out = extra ? g.op(`mask/combined${suffix}`, 'Add', [cut, extra]) : cut;
      made.set(suffix, out);
    }
    return out;
  };
  return { scores };
}

/** int64 [2] = [S, S]: the ends that cut a [maxSeq, maxSeq] table to the sequence. */
function squareEnds(g: GraphBuilder, seqLen: string): string {
  return g.op('mask/ends', 'Concat', [seqLen, seqLen], { axis: 0 });
}

/** A [maxSeq, maxSeq] constant table cut to its top-left [S, S] block. */
function cutTable(g: GraphBuilder, name: string, values: Float32Array, maxSeq: number, ends: string, ints: IntsFn): string {
  const full = g.init(tensorFromFloat32(`const/${name}`, [maxSeq, maxSeq], values));
  return g.op(`mask/${name}`, 'Slice', [full, ints('const/zero_2d', [0, 0]), ends, ints('const/axes_01', [0, 1])]);
}

/**
 * [S, S] additive mask: 0 on and below the diagonal, MASK_VALUE above it. Made from the
 * sequence's shape (not a maxSeq table) so a decoder runs at any length its positions allow.
 */
function causalMask(g: GraphBuilder, seqLen: string, ints: IntsFn): string {
  const shape = g.op('mask/shape', 'Concat', [seqLen, seqLen], { axis: 0 });
  const filled = g.op('mask/fill', 'ConstantOfShape', [shape], { value: { tensor: tensorFromFloat32('value', [1], new Float32Array([MASK_VALUE])) } });
  return g.op('mask/causal', 'Trilu', [filled, ints('const/one_i64', [1], [])], { upper: 1 });
}

/** [B, 1, S, 1] float 0/1 from attention_mask: multiplies keys and values (Linformer). */
function keyMultiplier(g: GraphBuilder, attentionMask: string, ints: IntsFn): string {
  const asFloat = g.op('mask/cast', 'Cast', [attentionMask], { to: DataType.FLOAT });
  return g.op('mask/keys', 'Unsqueeze', [asFloat, ints('const/key_mask_axes', [1, 3])]);
}

/** [B, S, 1] float 0/1 from attention_mask: zeroes padded tokens before they are mixed (mixer, dynamic-conv). */
function tokenMultiplier(g: GraphBuilder, attentionMask: string, ints: IntsFn): string {
  const asFloat = g.op('mask/cast', 'Cast', [attentionMask], { to: DataType.FLOAT });
  return g.op('mask/tokens', 'Unsqueeze', [asFloat, ints('const/token_mask_axes', [2])]);
}

/** [B, 1, 1, S] additive mask from a 0/1 attention_mask: padded keys get MASK_VALUE. */
function paddingMask(g: GraphBuilder, attentionMask: string, ints: IntsFn, scalar: ScalarFn): string {
  const asFloat = g.op('mask/cast', 'Cast', [attentionMask], { to: DataType.FLOAT });
  const inverted = g.op('mask/invert', 'Sub', [scalar('const/mask_one', 1), asFloat]);
  const additive = g.op('mask/scale', 'Mul', [inverted, scalar('const/mask_value', MASK_VALUE)]);
  return g.op('mask/padding', 'Unsqueeze', [additive, ints('const/mask_axes', [1, 2])]);
}
