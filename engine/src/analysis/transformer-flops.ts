/**
 * FLOPs of the built-in transformer for a batch and length, per attention variant, counted as
 * analysis/flops.ts counts them: the matrix products only, a multiply-add as two operations.
 * Embeddings are table lookups and LayerNorm, softmax, GELU and residual adds are element-wise, so
 * none of them counts. Attention is counted as the tfjs model computes it: window and BigBird by
 * blocks (including the masked entries inside the blocks it computes and the rows padding the last
 * block), Linformer with its two sequence projections. The ONNX export of window and BigBird runs
 * dense attention under a mask, so ORT's count there is the dense one. The mixer's token MLP
 * ([B·H, S]·[S, S] twice) and dynamic-conv's convolution (K taps per position: 2·B·S·K·H) count as
 * attention, since they replace it; adaptive span costs what dense attention does (its soft mask
 * is element-wise). The ONNX graph computes all three with exactly these products.
 */
import type { TransformerSpec } from '../model/spec';
import { blockLayout, queryBlocks } from '../model/attention-masks';

export interface TransformerFlops {
  /** One forward pass, FLOPs. */
  forward: number;
  /**
   * Attention scores (q·kᵀ) and context (p·v) of every layer, plus Linformer's projections; the
   * mixer's two token-mixing products; dynamic-conv's weighted sum over its K taps.
   */
  attention: number;
  /**
   * The attention block's dense projections of every layer: Q, K, V and output (dense, window,
   * BigBird, Linformer, adaptive span); V, kernel prediction (hidden → heads·K) and output
   * (dynamic-conv); none (mixer).
   */
  projections: number;
  /** Feed-forward up and down products of every layer. */
  ffn: number;
  /** LM head (decoder) or pooler + classifier (encoder). */
  head: number;
  /** Attention + projections + FFN of each layer (BigBird's random blocks differ per layer). */
  perLayer: number[];
  /**
   * One training step: forward plus backward, taken as 3 × forward (the backward pass computes
   * two products, for the input and the weight gradient, for each product of the forward pass).
   */
  trainingStep: number;
}

export function transformerFlops(spec: TransformerSpec, batch: number, seq: number): TransformerFlops {
  const h = spec.hidden;
  const tokens = batch * seq;
  const projections = projectionFlops(spec, tokens);
  const ffn = 2 * 2 * tokens * h * spec.ffn;
  const perLayer: number[] = [];
  let attention = 0;
  for (let l = 0; l < spec.layers; l++) {
    const a = attentionFlops(spec, l, batch, seq);
    attention += a;
    perLayer.push(a + projections + ffn);
  }
  const head = spec.kind === 'decoder' ? 2 * tokens * h * spec.vocab : 2 * batch * h * h + 2 * batch * h * (spec.numClasses ?? 2);
  const forward = attention + spec.layers * (projections + ffn) + head;
  return { forward, attention, projections: spec.layers * projections, ffn: spec.layers * ffn, head, perLayer, trainingStep: 3 * forward };
}

/** One layer's dense projections of the attention block over `tokens` = batch·seq positions. */
function projectionFlops(spec: TransformerSpec, tokens: number): number {
  const v = spec.attention ?? { kind: 'dense' };
  const h = spec.hidden;
  if (v.kind === 'mixer') return 0;
  if (v.kind === 'dynamic-conv') return 2 * 2 * tokens * h * h + 2 * tokens * h * spec.heads * v.kernel;
  return 4 * 2 * tokens * h * h;
}

/** Scores and context of one layer: 2 products of 2·(query rows)·(key columns)·hidden each. */
function attentionFlops(spec: TransformerSpec, layer: number, batch: number, seq: number): number {
  const v = spec.attention ?? { kind: 'dense' };
  const pair = (rows: number, cols: number) => 2 * 2 * batch * rows * cols * spec.hidden;
  if (v.kind === 'dense' || v.kind === 'adaptive-span') return pair(seq, seq);
  // Per channel (B·H rows), [S]·[S, S] up and down: the same count as dense's pair.
  if (v.kind === 'mixer') return 2 * 2 * batch * spec.hidden * seq * seq;
  // Each position and channel: a K-long dot product of kernel taps and value rows.
  if (v.kind === 'dynamic-conv') return 2 * batch * seq * v.kernel * spec.hidden;
  if (v.kind === 'linformer') {
    // Keys and values projected to K positions ([K, S]·[S, hidden] each), then attention over K.
    return 2 * 2 * batch * v.k * seq * spec.hidden + pair(seq, v.k);
  }
  const layout = blockLayout(spec, layer, seq);
  return pair(layout.globalRows, seq) + pair(queryBlocks(layout) * layout.block, layout.cols);
}
