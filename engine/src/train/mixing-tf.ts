/**
 * The two attention blocks of the tfjs transformer that have no queries and keys: MLP-Mixer token
 * mixing and dynamic convolution (model/variants.ts). Each takes the layer-normed residual stream
 * h [B, S, H] and returns what the block adds to it [B, S, H], computing what the ONNX builder's
 * graph for the same variant computes (the maths is in the issue #9 design note). Every tensor has
 * rank ≤ 4: on wasm a rank-5 Slice or Concat gradient is hundreds of times slower (attention-tf.ts).
 */
import type { Tensor, Tensor2D, Tf } from '../runtime/tfjs';
import type { TransformerSpec } from '../model/spec';
import { formatAttention } from '../model/variants';
import { convTapsBefore } from '../model/attention-masks';
import type { TfOps } from './tf-ops';

export interface MixingInputs {
  /** LN1 of the residual stream, [B, S, H]. */
  h: Tensor;
  /** Decoder: position i reads no position after i. */
  causal: boolean;
  /** [B, S] 1 = token, 0 = padding (encoders): padded positions feed nothing. */
  keyMask?: Tensor2D;
  /** The block's weights of this layer, by name relative to the layer (`attn/v_proj/weight`). */
  param: (name: string) => Tensor;
}

/** The exact (erf) GELU of the FFN: 0.5·u·(1 + erf(u/√2)). */
export function gelu(tf: Tf, u: Tensor): Tensor {
  return tf.mul(tf.mul(u, tf.add(tf.erf(tf.div(u, Math.SQRT2)), 1)), 0.5);
}

/** x [..., in] · `${prefix}/weight` [in, out] + bias, as one 2-D product (the fast one on wasm). */
export function project(tf: Tf, ops: TfOps, x: Tensor, param: MixingInputs['param'], prefix: string): Tensor {
  const w = param(`${prefix}/weight`);
  const [inDim, outDim] = w.shape as [number, number];
  const y = ops.matMul(tf.reshape(x, [-1, inDim]), w);
  return tf.add(tf.reshape(y, [...x.shape.slice(0, -1), outDim]), param(`${prefix}/bias`));
}

/** h ⊙ m[:, :, None] for encoders with padding; h itself otherwise. */
function maskPadding(tf: Tf, h: Tensor, keyMask: Tensor2D | undefined): Tensor {
  if (!keyMask) return h;
  const [b, s] = keyMask.shape;
  return tf.mul(h, tf.reshape(keyMask, [b, s, 1]));
}

/**
 * MLP-Mixer token mixing: per channel, gelu(t·W1 + b1)·W2 + b2 across the sequence, with the
 * top-left S×S block of the maxSeq-sized weights. A decoder multiplies both weights by the upper
 * triangle (j ≤ i): output i then reads only inputs j ≤ i, through both layers.
 */
export function mixerBlock(tf: Tf, ops: TfOps, a: MixingInputs): Tensor {
  const [batch, seq, hidden] = a.h.shape as [number, number, number];
  const causal = a.causal ? tf.linalg.bandPart(tf.ones([seq, seq]), 0, -1) : undefined;
  const weight = (prefix: string) => {
    const w = tf.slice(a.param(`${prefix}/weight`), [0, 0], [seq, seq]);
    return causal ? tf.mul(w, causal) : w;
  };
  const bias = (prefix: string) => tf.slice(a.param(`${prefix}/bias`), [0], [seq]);
  // Channels as rows of one 2-D [B·H, S]·[S, S] product: batched MatMul is much slower on wasm.
  const t = tf.reshape(tf.transpose(maskPadding(tf, a.h, a.keyMask), [0, 2, 1]), [batch * hidden, seq]);
  const u = gelu(tf, tf.add(ops.matMul(t, weight('attn/token_up')), bias('attn/token_up')));
  const d = tf.add(ops.matMul(u, weight('attn/token_down')), bias('attn/token_down'));
  return tf.transpose(tf.reshape(d, [batch, hidden, seq]), [0, 2, 1]);
}

/**
 * Dynamic convolution: each position predicts `kernel` taps per head (softmax over the taps) that
 * weigh the value projections at positions i + j − before, j ∈ [0, K), zeros outside the sequence
 * (before = K − 1 for decoders, ⌊(K − 1)/2⌋ for encoders); the channels of a head share its taps.
 * Time and memory K·S·H: linear in S.
 */
export function dynamicConvBlock(tf: Tf, ops: TfOps, spec: TransformerSpec, a: MixingInputs): Tensor {
  const v0 = spec.attention;
  if (v0?.kind !== 'dynamic-conv') throw new Error(`dynamicConvBlock called for --attention ${formatAttention(v0)}`);
  const k = v0.kernel;
  const [batch, seq, hidden] = a.h.shape as [number, number, number];
  const heads = spec.heads;
  const dim = hidden / heads;
  const v = maskPadding(tf, project(tf, ops, a.h, a.param, 'attn/v_proj'), a.keyMask);
  const logits = project(tf, ops, a.h, a.param, 'attn/dynconv_kernel'); // [B, S, heads·K], head-major
  const w = tf.softmax(tf.reshape(logits, [batch, seq, heads, k]), -1);
  const before = convTapsBefore(spec.kind, k);
  const padded = tf.pad(v, [[0, 0], [before, k - 1 - before], [0, 0]]);
  // Tap by tap: shifted v [B, S, heads, D] times its weight [B, S, heads, 1], summed. Stacking the
  // K shifted copies into one [B·S, heads, D, K] tensor instead is ~10× slower on wasm (the
  // interleaving Concat and its gradient), measured at S = 256, K = 7.
  let ctx: Tensor | undefined;
  for (let j = 0; j < k; j++) {
    const tap = tf.reshape(tf.slice(padded, [0, j, 0], [batch, seq, hidden]), [batch, seq, heads, dim]);
    const term = tf.mul(tap, tf.slice(w, [0, 0, 0, j], [batch, seq, heads, 1]));
    ctx = ctx ? tf.add(ctx, term) : term;
  }
  return project(tf, ops, tf.reshape(ctx!, [batch, seq, hidden]), a.param, 'attn/out_proj');
}
