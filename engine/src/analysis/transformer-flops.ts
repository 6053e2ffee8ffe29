/**
 * FLOPs of the built-in transformer for a batch and length, per attention variant, counted as
 * analysis/flops.ts counts them: the matrix products only, a multiply-add as two operations.
 * Embeddings are table lookups and LayerNorm, softmax, GELU and residual adds are element-wise, so
 * none of them counts. Attention is counted as the tfjs model computes it: window and BigBird by
 * blocks (including the masked entries inside the blocks it computes and the rows padding the last
 * block), Linformer with its two sequence projections. The ONNX export of window and BigBird runs
 * dense attention under a mask, so ORT's count there is the dense one.
 */
import type { TransformerSpec } from '../model/spec';
import { blockLayout, queryBlocks } from '../model/attention-masks';

export interface TransformerFlops {
  /** One forward pass, FLOPs. */
  forward: number;
  /** Attention scores (q·kᵀ) and context (p·v) of every layer, plus Linformer's projections. */
  attention: number;
  /** Q, K, V and output projections of every layer. */
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
  const projections = 4 * 2 * tokens * h * h;
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

/** Scores and context of one layer: 2 products of 2·(query rows)·(key columns)·hidden each. */
function attentionFlops(spec: TransformerSpec, layer: number, batch: number, seq: number): number {
  const v = spec.attention ?? { kind: 'dense' };
  const pair = (rows: number, cols: number) => 2 * 2 * batch * rows * cols * spec.hidden;
  if (v.kind === 'dense') return pair(seq, seq);
  if (v.kind === 'linformer') {
    // Keys and values projected to K positions ([K, S]·[S, hidden] each), then attention over K.
    return 2 * 2 * batch * v.k * seq * spec.hidden + pair(seq, v.k);
  }
  const layout = blockLayout(spec, layer, seq);
  return pair(layout.globalRows, seq) + pair(queryBlocks(layout) * layout.block, layout.cols);
}
