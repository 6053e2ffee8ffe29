/**
 * The built-in transformer in TensorFlow.js: the same spec, the same weight names and the same
 * arithmetic as the ONNX builder (model/transformer.ts), so a model trained here exports to ONNX
 * and ORT computes the same logits. Weights are tf.Variables keyed by ONNX initializer name; a
 * shared layer (ALBERT) reads the variables of the first layer of its group.
 */
import type { Tensor, Tensor2D, Tf, Variable } from '../runtime/tfjs';
import type { TransformerSpec } from '../model/spec';
import { attentionWeights, validateAttention, weightLayer } from '../model/variants';
import { TwbError } from '../util/errors';
import { attention } from './attention-tf';
import { dynamicConvBlock, gelu, mixerBlock, project } from './mixing-tf';
import { tfOps } from './tf-ops';

const LN_EPSILON = 1e-5;

/**
 * Called at the edges of each transformer block with the residual stream; returns the tensor to go
 * on with. The step profiler wraps it in an identity with a custom gradient to mark where a
 * block's kernels start and end, forward and backward.
 */
export type BlockHook = (x: Tensor, layer: number, edge: 'start' | 'end') => Tensor;

export interface TfTransformer {
  readonly spec: TransformerSpec;
  /** Trainable variables by ONNX initializer name; shared layers appear once. */
  readonly variables: ReadonlyMap<string, Variable>;
  /**
   * Logits: decoder [B, S, vocab], encoder [B, classes]. `ids` int32 [B, S]; `keyMask` [B, S] of
   * 1 (token) / 0 (padding), encoders only (absent: no padding).
   */
  forward(ids: Tensor2D, keyMask?: Tensor2D, hook?: BlockHook): Tensor;
  /** Current weights by initializer name, for the ONNX builder. */
  readWeights(): Map<string, Float32Array>;
  /** Distinct trainable parameters. */
  paramCount(): number;
  dispose(): void;
}

/**
 * Shapes of every float weight a spec has, by initializer name (shared layers once); the attention
 * block's from `attentionWeights`, the list the ONNX builder follows too. Checks the variant against
 * the spec first, so a model cannot be made with an invalid one.
 */
export function weightShapes(spec: TransformerSpec): Map<string, number[]> {
  validateAttention(spec);
  const shapes = new Map<string, number[]>();
  const { hidden: h, ffn, vocab } = spec;
  shapes.set('embed/token/weight', [vocab, h]);
  shapes.set('embed/position/weight', [spec.maxSeq, h]);
  const block = attentionWeights(spec);
  // Projections, then the FFN, then a variant's own tables: the order of the variables (and so of
  // the optimizer's sums) the existing variants had, which keeps their runs number for number.
  const projection = (name: string) => /\/(weight|bias)$/.test(name);
  for (let l = 0; l < spec.layers; l++) {
    const wl = weightLayer(l, spec.shareLayers);
    if (wl !== l) continue;
    const p = `layer${l}`;
    for (const ln of ['ln1', 'ln2']) {
      shapes.set(`${p}/${ln}/scale`, [h]);
      shapes.set(`${p}/${ln}/bias`, [h]);
    }
    for (const w of block.filter((x) => projection(x.name))) shapes.set(`${p}/${w.name}`, w.dims);
    for (const [n, i, o] of [['ffn/up', h, ffn], ['ffn/down', ffn, h]] as const) {
      shapes.set(`${p}/${n}/weight`, [i, o]);
      shapes.set(`${p}/${n}/bias`, [o]);
    }
    for (const w of block.filter((x) => !projection(x.name))) shapes.set(`${p}/${w.name}`, w.dims);
  }
  shapes.set('final_ln/scale', [h]);
  shapes.set('final_ln/bias', [h]);
  if (spec.kind === 'decoder') shapes.set('head/lm/weight', [h, vocab]);
  else {
    const classes = spec.numClasses ?? 2;
    shapes.set('head/pooler/weight', [h, h]);
    shapes.set('head/pooler/bias', [h]);
    shapes.set('head/classifier/weight', [h, classes]);
    shapes.set('head/classifier/bias', [classes]);
  }
  return shapes;
}

export function createTfTransformer(tf: Tf, spec: TransformerSpec, weights: ReadonlyMap<string, Float32Array>): TfTransformer {
  const shapes = weightShapes(spec);
  const variables = new Map<string, Variable>();
  for (const [name, dims] of shapes) {
    const data = weights.get(name);
    const n = dims.reduce((a, b) => a * b, 1);
    if (!data) throw new TwbError('usage', `weights: "${name}" [${dims.join(', ')}] is missing`);
    if (data.length !== n) throw new TwbError('usage', `weights: "${name}" has ${data.length} values, expected ${n}`);
    // Unnamed: tfjs variable names are global, and two models (or tests) may hold the same weights.
    const initial = tf.tensor(data, dims, 'float32');
    variables.set(name, tf.variable(initial, true));
    initial.dispose();
  }
  const v = (name: string): Variable => {
    const x = variables.get(name);
    if (!x) throw new Error(`no variable "${name}"`);
    return x;
  };
  const headDim = spec.hidden / spec.heads;
  const ops = tfOps(tf);

  const layerNorm = (x: Tensor, prefix: string): Tensor => {
    const { mean, variance } = tf.moments(x, -1, true);
    const normed = tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, LN_EPSILON)));
    return tf.add(tf.mul(normed, v(`${prefix}/scale`)), v(`${prefix}/bias`));
  };
  const dense = (x: Tensor, prefix: string): Tensor => project(tf, ops, x, v, prefix);

  const forward = (ids: Tensor2D, keyMask?: Tensor2D, hook?: BlockHook): Tensor => {
    const [batch, seq] = ids.shape;
    if (seq > spec.maxSeq) throw new TwbError('usage', `sequence length ${seq} is longer than the model's position table (${spec.maxSeq})`);
    const tok = ops.embed(v('embed/token/weight'), ids);
    const pos = tf.slice(v('embed/position/weight'), [0, 0], [seq, spec.hidden]);
    let x: Tensor = tf.add(tok, pos);
    const causal = spec.kind === 'decoder';
    const kind = spec.attention?.kind ?? 'dense';
    const split = (t: Tensor) => tf.transpose(tf.reshape(t, [batch, seq, spec.heads, headDim]), [0, 2, 1, 3]);
    // The attention block's output [B, S, H] from h = LN1(x): mixer and dynamic convolution are
    // whole blocks without queries and keys; every other variant attends per head.
    const block = (h: Tensor, l: number, wp: string): Tensor => {
      const param = (n: string) => v(`${wp}/${n}`);
      if (kind === 'mixer') return mixerBlock(tf, ops, { h, causal, keyMask, param });
      if (kind === 'dynamic-conv') return dynamicConvBlock(tf, ops, spec, { h, causal, keyMask, param });
      const q = split(dense(h, `${wp}/attn/q_proj`));
      const k = split(dense(h, `${wp}/attn/k_proj`));
      const vv = split(dense(h, `${wp}/attn/v_proj`));
      const ctx = attention(tf, ops, spec, { q, k, v: vv, causal, keyMask, layer: l, param });
      const merged = tf.reshape(tf.transpose(ctx, [0, 2, 1, 3]), [batch, seq, spec.hidden]);
      return dense(merged, `${wp}/attn/out_proj`);
    };
    for (let l = 0; l < spec.layers; l++) {
      if (hook) x = hook(x, l, 'start');
      const wp = `layer${weightLayer(l, spec.shareLayers)}`;
      x = tf.add(x, block(layerNorm(x, `${wp}/ln1`), l, wp));
      const f = layerNorm(x, `${wp}/ln2`);
      x = tf.add(x, dense(gelu(tf, dense(f, `${wp}/ffn/up`)), `${wp}/ffn/down`));
      if (hook) x = hook(x, l, 'end');
    }
    const final = layerNorm(x, 'final_ln');
    if (spec.kind === 'decoder') {
      const logits = ops.matMul(tf.reshape(final, [-1, spec.hidden]), v('head/lm/weight'));
      return tf.reshape(logits, [batch, seq, spec.vocab]);
    }
    const first = tf.reshape(tf.slice(final, [0, 0, 0], [batch, 1, spec.hidden]), [batch, spec.hidden]);
    const pooled = tf.tanh(tf.add(ops.matMul(first, v('head/pooler/weight')), v('head/pooler/bias')));
    return tf.add(ops.matMul(pooled, v('head/classifier/weight')), v('head/classifier/bias'));
  };

  return {
    spec,
    variables,
    forward,
    readWeights: () => {
      const out = new Map<string, Float32Array>();
      for (const [name, variable] of variables) out.set(name, variable.dataSync() as Float32Array);
      return out;
    },
    paramCount: () => [...variables.values()].reduce((a, x) => a + x.size, 0),
    dispose: () => {
      for (const x of variables.values()) x.dispose();
    },
  };
}
