/**
 * Adaptive attention span (Sukhbaatar et al. 2019) in the tfjs trainer: the soft mask that fades
 * each head's attention beyond its span, the penalty that pushes spans down, the projection of the
 * span parameters back into [0, 1] after each step, and the spans a run reports. Each head g has
 * a parameter p_g (`layer{N}/attn/span`, init 1) and spans z_g = maxSpan · clip(p_g, 0, 1):
 *
 *   soft[g, i, j] = clip((ramp + z_g − dist[i, j]) / ramp, 0, 1),  dist = i − j (decoder), |i − j| (encoder)
 *   a = probs ⊙ soft;  a = a / (Σ_j a + 1e-8)
 *
 * tfjs's ClipByValue passes the gradient on the closed interval [min, max], so a head sitting at
 * p = 1 (where every head starts and where the projection puts a head pushed past it) still gets
 * the penalty's gradient and can shrink.
 */
import type { Tensor, Tf, Variable } from '../runtime/tfjs';
import type { TransformerSpec } from '../model/spec';
import type { LearnedSpans } from '../schema/training';
import { formatAttention } from '../model/variants';

/**
 * Weight of the span penalty on the loss: SPAN_PENALTY · mean over (weight-owning layer, head) of
 * clip(p, 0, 1). Measured on the default `twb train builtin:tiny-gpt --attention adaptive-span:32`
 * run (sort, 150 steps, wasm): at 0.01 the spans end ~13–14 in layer 0, 4–10 in layer 1, 0–8 in
 * layer 2 and 0–2 in layer 3 (accuracy 0.96); at 0.05 layers 1–3 all fall to ≤ 1.2, so the heads
 * of a layer no longer differ. The task's own gradient only reaches a span once it is shorter than
 * the distances the task uses (15 here): until then the penalty alone moves every head alike.
 */
export const SPAN_PENALTY = 0.01;

/**
 * Learning-rate multiplier of the span parameters. AdamW moves a weight by about lr per step
 * whatever its gradient's size, and p must cross [0, 1] (maxSpan positions) within a run of a
 * few hundred steps at lr 1e-3: without it a 150-step run moves a span by ~3 of 32 positions.
 */
export const SPAN_LR_SCALE = 20;

/** Keeps the weights of a head whose every key faded out (e.g. a padded row) finite. */
const RENORM_EPSILON = 1e-8;

/** Whether an initializer name is a span parameter of adaptive span. */
export function isSpanWeight(name: string): boolean {
  return /(^|\/)attn\/span$/.test(name);
}

/** The span parameters among a model's variables (none unless the variant is adaptive span). */
export function spanVariables(variables: ReadonlyMap<string, Variable>): Variable[] {
  return [...variables].filter(([name]) => isSpanWeight(name)).map(([, v]) => v);
}

const distances = new Map<string, Float32Array>();

/** dist[i, j] as a [S, S] table, made once per (length, direction). */
function distanceTable(tf: Tf, seq: number, causal: boolean): Tensor {
  const key = `${seq}|${causal}`;
  let values = distances.get(key);
  if (!values) {
    if (distances.size >= 64) distances.clear();
    values = new Float32Array(seq * seq);
    for (let i = 0; i < seq; i++) for (let j = 0; j < seq; j++) values[i * seq + j] = causal ? i - j : Math.abs(i - j);
    distances.set(key, values);
  }
  return tf.tensor2d(values, [seq, seq]);
}

function spanSettings(spec: TransformerSpec): { maxSpan: number; ramp: number } {
  const v = spec.attention;
  if (v?.kind !== 'adaptive-span') throw new Error(`adaptive span asked of --attention ${formatAttention(v)}`);
  return { maxSpan: v.maxSpan, ramp: v.ramp };
}

/** The soft span mask [1, heads, S, S] of one layer's span parameters `span` [heads]. */
export function softSpanMask(tf: Tf, spec: TransformerSpec, span: Tensor, seq: number, causal: boolean): Tensor {
  const { maxSpan, ramp } = spanSettings(spec);
  const z = tf.reshape(tf.mul(tf.clipByValue(span, 0, 1), maxSpan), [1, spec.heads, 1, 1]);
  return tf.clipByValue(tf.div(tf.sub(tf.add(z, ramp), distanceTable(tf, seq, causal)), ramp), 0, 1);
}

/** Attention weights `probs` [B, heads, S, S] faded by the span mask and renormalised over keys. */
export function applySpan(tf: Tf, spec: TransformerSpec, span: Tensor, probs: Tensor, causal: boolean): Tensor {
  const a = tf.mul(probs, softSpanMask(tf, spec, span, probs.shape[2]!, causal));
  return tf.div(a, tf.add(tf.sum(a, -1, true), RENORM_EPSILON));
}

/** SPAN_PENALTY · mean of clip(p, 0, 1) over every head of every weight-owning layer (a scalar). */
export function spanPenalty(tf: Tf, spans: readonly Variable[]): Tensor {
  const all = spans.length === 1 ? spans[0] : tf.concat(spans.map((s) => tf.reshape(s, [-1])));
  return tf.mul(tf.mean(tf.clipByValue(all, 0, 1)), SPAN_PENALTY);
}

/** Projects each span parameter back into [0, 1] (after an optimizer step). */
export function clampSpans(tf: Tf, spans: readonly Variable[]): void {
  for (const s of spans) tf.tidy(() => s.assign(tf.clipByValue(s, 0, 1)));
}

/**
 * The spans z = maxSpan · clip(p, 0, 1) of each weight-owning layer's heads, from weights by
 * initializer name; undefined unless the spec's attention is adaptive span.
 */
export function learnedSpans(spec: TransformerSpec, weights: ReadonlyMap<string, ArrayLike<number>>): LearnedSpans | undefined {
  if (spec.attention?.kind !== 'adaptive-span') return undefined;
  const { maxSpan, ramp } = spanSettings(spec);
  const layers: LearnedSpans['layers'] = [];
  for (let l = 0; l < spec.layers; l++) {
    const p = weights.get(`layer${l}/attn/span`);
    if (p) layers.push({ layer: l, heads: Array.from(p, (x) => maxSpan * Math.min(1, Math.max(0, x))) });
  }
  return { maxSpan, ramp, layers };
}
