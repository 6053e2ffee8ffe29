/**
 * Attention of the tfjs transformer, one function per variant of model/variants.ts. Each takes
 * per-head queries, keys and values [B, H, S, D] and returns the context [B, H, S, D], computing
 * exactly what the ONNX builder's graph for the same variant computes.
 */
import type { Tensor, Tensor2D, Tensor4D, Tf, Variable } from '../runtime/tfjs';
import type { TransformerSpec } from '../model/spec';
import { MASK_VALUE } from '../model/transformer';
import type { TfOps } from './tf-ops';

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

/** Extra weights a variant adds per (weight-owning) layer: name relative to the layer → shape. */
export function attentionParamShapes(spec: TransformerSpec): Array<[string, number[]]> {
  void spec;
  return [];
}

export function attention(tf: Tf, ops: TfOps, spec: TransformerSpec, a: AttentionInputs): Tensor4D {
  const headDim = spec.hidden / spec.heads;
  const seq = a.q.shape[2]!;
  let scores = tf.mul(ops.matMul(a.q, tf.transpose(a.k, [0, 1, 3, 2])), 1 / Math.sqrt(headDim));
  if (a.causal) {
    const lower = tf.linalg.bandPart(tf.ones([seq, seq]), -1, 0);
    scores = tf.add(scores, tf.mul(tf.sub(1, lower), MASK_VALUE));
  }
  if (a.keyMask) {
    const [b, s] = a.keyMask.shape;
    scores = tf.add(scores, tf.reshape(tf.mul(tf.sub(1, a.keyMask), MASK_VALUE), [b, 1, 1, s]));
  }
  return ops.matMul(tf.softmax(scores, -1), a.v) as Tensor4D;
}
