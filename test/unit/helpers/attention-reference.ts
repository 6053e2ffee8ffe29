/**
 * The attention blocks of issue #9 as plain loops in float64, straight from the design note's
 * formulas: the independent reference for the ONNX builder and the tfjs model. Block by block
 * (`blockReference`: mixer and dynamic convolution from h = LN1(x) [B, S, H] and their weights;
 * adaptive span from per-head q, k, v [B, heads, S, D] and the span parameters), and for a whole
 * layer 0 (`referenceAttentionResidual`: x + block(LN1(x)) from a model's weights). Slow and clear
 * on purpose; tiny shapes only.
 */
import type { TransformerSpec } from '../../../engine/src/model/spec';

/** Named inputs of a block: dims and row-major values. */
export type Values = Map<string, { dims: number[]; data: Float32Array }>;

/** Span parameters p of the test's two heads: both interior, each with distances on its ramp. */
export const ADAPTIVE_SPANS = [0.6, 0.9];

/** erf to ~1e-7 (Numerical Recipes' erfc fit): JavaScript has no Math.erf. */
export function erf(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const poly = -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const erfc = t * Math.exp(poly);
  return x >= 0 ? 1 - erfc : erfc - 1;
}

const gelu = (u: number) => 0.5 * u * (1 + erf(u / Math.SQRT2));
const clip01 = (x: number) => Math.min(1, Math.max(0, x));

/** The block's output: [B, S, H] for mixer and dynamic-conv, the context [B, heads, S, D] for adaptive span. */
export function blockReference(spec: TransformerSpec, x: Values, keyMask: Float32Array | undefined, batch: number, seq: number): Float64Array {
  const get = (n: string) => {
    const v = x.get(n);
    if (!v) throw new Error(`reference: no input ${n}`);
    return v.data;
  };
  const keep = (b: number, j: number) => (keyMask ? keyMask[b * seq + j] : 1);
  const v = spec.attention;
  if (v?.kind === 'mixer') return mixer(spec, get, keep, batch, seq);
  if (v?.kind === 'dynamic-conv') return dynamicConv(spec, v.kernel, get, keep, batch, seq);
  if (v?.kind === 'adaptive-span') return adaptiveSpan(spec, v.maxSpan, v.ramp, get, keep, batch, seq);
  throw new Error(`reference: no block for ${v?.kind}`);
}

type Get = (n: string) => Float32Array;
type Keep = (b: number, j: number) => number;

/** hm = h ⊙ m; per channel d = gelu(t·W1 + b1)·W2 + b2 over positions, W ⊙ U (j ≤ i) for decoders. */
function mixer(spec: TransformerSpec, get: Get, keep: Keep, batch: number, seq: number): Float64Array {
  const [H, n] = [spec.hidden, spec.maxSeq];
  const h = get('h');
  const out = new Float64Array(batch * seq * H);
  const layer = (name: string, input: number[], i: number) => {
    const w = get(`attn/${name}/weight`);
    let s = get(`attn/${name}/bias`)[i];
    for (let j = 0; j < seq; j++) if (spec.kind === 'encoder' || j <= i) s += input[j] * w[j * n + i];
    return s;
  };
  for (let b = 0; b < batch; b++) {
    for (let c = 0; c < H; c++) {
      const t = Array.from({ length: seq }, (_, j) => h[(b * seq + j) * H + c] * keep(b, j));
      const u = Array.from({ length: seq }, (_, i) => gelu(layer('token_up', t, i)));
      for (let i = 0; i < seq; i++) out[(b * seq + i) * H + c] = layer('token_down', u, i);
    }
  }
  return out;
}

/** rows × in · [in, out] + bias. */
function affine(x: ArrayLike<number>, rows: number, w: Float32Array, bias: Float32Array): Float64Array {
  const outDim = bias.length;
  const inDim = w.length / outDim;
  const y = new Float64Array(rows * outDim);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outDim; o++) {
      let s = bias[o];
      for (let i = 0; i < inDim; i++) s += x[r * inDim + i] * w[i * outDim + o];
      y[r * outDim + o] = s;
    }
  }
  return y;
}

/** ctx[b,i,g,d] = Σ_j softmax_j(logits[b,i,g,:]) · v[b, i+j−before, g·D+d], then out_proj. */
function dynamicConv(spec: TransformerSpec, K: number, get: Get, keep: Keep, batch: number, seq: number): Float64Array {
  const { hidden: H, heads } = spec;
  const D = H / heads;
  const rows = batch * seq;
  const before = spec.kind === 'decoder' ? K - 1 : Math.floor((K - 1) / 2);
  const h = get('h');
  const v = affine(h, rows, get('attn/v_proj/weight'), get('attn/v_proj/bias')).map((val, i) => val * keep(Math.floor(i / H / seq), Math.floor(i / H) % seq));
  const logits = affine(h, rows, get('attn/dynconv_kernel/weight'), get('attn/dynconv_kernel/bias'));
  const ctx = new Float64Array(rows * H);
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < seq; i++) {
      const r = b * seq + i;
      for (let g = 0; g < heads; g++) {
        const e = Array.from({ length: K }, (_, j) => Math.exp(logits[r * heads * K + g * K + j]));
        const sum = e.reduce((a, z) => a + z, 0);
        for (let j = 0; j < K; j++) {
          const src = i + j - before;
          if (src < 0 || src >= seq) continue;
          for (let d = 0; d < D; d++) ctx[r * H + g * D + d] += (e[j] / sum) * v[(b * seq + src) * H + g * D + d];
        }
      }
    }
  }
  return affine(ctx, rows, get('attn/out_proj/weight'), get('attn/out_proj/bias'));
}

/** Masked softmax(q·kᵀ/√D), faded by clip((ramp + z − dist)/ramp, 0, 1), renormalised (+1e-8), times v. */
function adaptiveSpan(spec: TransformerSpec, maxSpan: number, ramp: number, get: Get, keep: Keep, batch: number, seq: number): Float64Array {
  const { heads } = spec;
  const D = spec.hidden / heads;
  const [q, k, v, span] = [get('q'), get('k'), get('v'), get('attn/span')];
  const ctx = new Float64Array(batch * heads * seq * D);
  for (let b = 0; b < batch; b++) {
    for (let g = 0; g < heads; g++) {
      const base = (b * heads + g) * seq * D;
      const z = maxSpan * clip01(span[g]);
      for (let i = 0; i < seq; i++) {
        const allowed = (j: number) => (spec.kind === 'decoder' ? j <= i : keep(b, j) === 1);
        const scores = Array.from({ length: seq }, (_, j) => {
          let s = 0;
          for (let d = 0; d < D; d++) s += q[base + i * D + d] * k[base + j * D + d];
          return s / Math.sqrt(D);
        });
        const top = Math.max(...scores.filter((_, j) => allowed(j)));
        const e = scores.map((s, j) => (allowed(j) ? Math.exp(s - top) : 0));
        const sum = e.reduce((a, s) => a + s, 0);
        const a = e.map((p, j) => (p / sum) * clip01((ramp + z - (spec.kind === 'decoder' ? i - j : Math.abs(i - j))) / ramp));
        const total = a.reduce((s, y) => s + y, 0) + 1e-8;
        for (let j = 0; j < seq; j++) for (let d = 0; d < D; d++) ctx[base + i * D + d] += (a[j] / total) * v[base + j * D + d];
      }
    }
  }
  return ctx;
}

/**
 * x + block(LN1(x)) after layer 0's attention block, [batch, seq, hidden] row-major, from a model's
 * weights by initializer name. `mask` is the encoder's attention_mask [batch, seq] (1 token / 0
 * padding); decoders pass none.
 */
export function referenceAttentionResidual(spec: TransformerSpec, weights: ReadonlyMap<string, Float32Array>, ids: number[], mask: number[] | undefined, batch: number, seq: number): Float64Array {
  const H = spec.hidden;
  const W = (n: string) => {
    const w = weights.get(n);
    if (!w) throw new Error(`reference: no weight ${n}`);
    return w;
  };
  const tok = W('embed/token/weight');
  const pos = W('embed/position/weight');
  const rows = batch * seq;
  const x = new Float64Array(rows * H);
  for (let r = 0; r < rows; r++) for (let c = 0; c < H; c++) x[r * H + c] = tok[ids[r] * H + c] + pos[(r % seq) * H + c];
  const h = new Float64Array(x.length);
  const [lnScale, lnBias] = [W('layer0/ln1/scale'), W('layer0/ln1/bias')];
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    for (let c = 0; c < H; c++) mean += x[r * H + c] / H;
    let variance = 0;
    for (let c = 0; c < H; c++) variance += (x[r * H + c] - mean) ** 2 / H;
    for (let c = 0; c < H; c++) h[r * H + c] = ((x[r * H + c] - mean) / Math.sqrt(variance + 1e-5)) * lnScale[c] + lnBias[c];
  }
  const values: Values = new Map();
  const put = (name: string, dims: number[], data: ArrayLike<number>) => values.set(name, { dims, data: Float32Array.from(data) });
  for (const [name, w] of weights) if (name.startsWith('layer0/attn/')) put(name.slice('layer0/'.length), [w.length], w);
  put('h', [batch, seq, H], h);
  const keyMask = mask ? Float32Array.from(mask) : undefined;
  if (spec.attention?.kind !== 'adaptive-span') return x.map((v, i) => v + blockReference(spec, values, keyMask, batch, seq)[i]);
  // Adaptive span works on heads: split the projections to [B, heads, S, D], merge the context back.
  const { heads } = spec;
  const D = H / heads;
  const toHeads = (flat: Float64Array) => {
    const out = new Float64Array(flat.length);
    for (let b = 0; b < batch; b++) for (let i = 0; i < seq; i++) for (let g = 0; g < heads; g++) for (let d = 0; d < D; d++) out[((b * heads + g) * seq + i) * D + d] = flat[(b * seq + i) * H + g * D + d];
    return out;
  };
  for (const n of ['q', 'k', 'v']) put(n, [batch, heads, seq, D], toHeads(affine(h, rows, W(`layer0/attn/${n}_proj/weight`), W(`layer0/attn/${n}_proj/bias`))));
  const ctx = blockReference(spec, values, keyMask, batch, seq);
  const merged = new Float64Array(rows * H);
  for (let b = 0; b < batch; b++) for (let g = 0; g < heads; g++) for (let i = 0; i < seq; i++) for (let d = 0; d < D; d++) merged[(b * seq + i) * H + g * D + d] = ctx[((b * heads + g) * seq + i) * D + d];
  const out = affine(merged, rows, W('layer0/attn/out_proj/weight'), W('layer0/attn/out_proj/bias'));
  return x.map((v, i) => v + out[i]);
}
