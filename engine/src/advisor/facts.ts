/**
 * What the rules and the calibration read off an inference profile: which nodes are products with a
 * constant weight (what the int8/int4 passes rewrite), which bias Adds ORT would fold into the int8
 * kernels, which time is attention, convolution or already-quantized work. ORT's profile reports no
 * weight bytes for MatMul, so a product counts as weighted when its second input is 2-D (a matrix
 * shared by every row), which is how the passes' targets look after ORT has run them; products of
 * two activations (attention scores, context) have batched 3-D/4-D second inputs.
 */
import type { InferenceRun, OpStat } from '../schema/run';

/** A product `[..., K] · [K, N]` with a constant weight, as ORT ran it. */
export interface WeightProduct {
  op: OpStat;
  /** Activation shape. */
  input: number[];
  /** Rows: product of the activation's leading dimensions. */
  m: number;
  k: number;
  n: number;
  /** The standalone bias Add after it, when there is one (ORT folds it into the int8 kernels). */
  bias?: OpStat;
  /** Share of kernel time of the product plus its bias Add, 0..1. */
  share: number;
  /** fp32 weight bytes (K·N·4). */
  weightBytes: number;
}

export interface InferenceFacts {
  products: WeightProduct[];
  /** Share in weighted products (bias Adds included). */
  productShare: number;
  /** Fused attention nodes (com.microsoft Attention & co.), whose QKV weight int8 also rewrites. */
  fusedAttention: OpStat[];
  /** Convolutions: no pass here rewrites them. */
  conv: OpStat[];
  convShare: number;
  /** Nodes of an already quantized model (int8/int4 kernels). */
  quantized: OpStat[];
  /** Score/context products, softmax and masking over [.., S, S]: the part that grows with seq². */
  quadratic: OpStat[];
  quadraticShare: number;
  /** Everything inside attention blocks (projections included) — what head pruning shrinks. */
  attentionBlock: OpStat[];
  attentionBlockShare: number;
  /** Heads seen in the [batch, heads, S, S] score tensors (0 when none were seen). */
  heads: number;
  /** Embedding tables read by Gather (int8-dynamic stores them in int8 too), bytes. */
  embeddingBytes: number;
}

const PRODUCT_TYPES = new Set(['MatMul', 'FusedMatMul', 'Gemm', 'FusedGemm']);
const ATTENTION_TYPES = new Set(['Attention', 'MultiHeadAttention', 'GroupQueryAttention', 'PackedAttention', 'PackedMultiHeadAttention', 'DecoderMaskedMultiHeadAttention', 'QAttention']);
const QUANTIZED_TYPES = new Set(['MatMulInteger', 'DynamicQuantizeMatMul', 'MatMulIntegerToFloat', 'QLinearMatMul', 'MatMulNBits', 'QAttention', 'QGemm', 'DynamicQuantizeLinear', 'QLinearConv', 'ConvInteger']);
const CONV_TYPES = new Set(['Conv', 'FusedConv', 'ConvTranspose', 'NhwcFusedConv', 'NchwcConv']);

const sumShare = (ops: readonly { share: number }[]) => ops.reduce((s, o) => s + o.share, 0);
const rows = (shape: number[]) => shape.slice(0, -1).reduce((a, b) => a * b, 1);

/** Products with a 2-D second input, normalized to K × N (a Gemm whose B is [N, K] is transposed). */
function weightProduct(op: OpStat): WeightProduct | undefined {
  if (!PRODUCT_TYPES.has(op.opType)) return undefined;
  const [a, b] = op.inputShapes;
  if (!a || !b || b.length !== 2 || a.length < 1) return undefined;
  const k = a[a.length - 1];
  let n: number;
  if (b[0] === k) n = b[1];
  else if (b[1] === k) n = b[0];
  else return undefined;
  return { op, input: [...a], m: rows(a), k, n, share: op.share, weightBytes: k * n * 4 };
}

/** A bias Add: `[..., N] + [N]` with the [N] a weight. */
function isBiasAdd(op: OpStat): boolean {
  if (op.opType !== 'Add' || op.inputShapes.length !== 2) return false;
  const [x, b] = op.inputShapes;
  return b.length === 1 && x.length >= 1 && x[x.length - 1] === b[0] && op.paramBytes > 0;
}

/** Pairs each bias Add with an unpaired product of the same layer and output shape, preferring the one it is named after. */
function pairBiases(products: WeightProduct[], ops: readonly OpStat[]): void {
  for (const add of ops.filter(isBiasAdd)) {
    const same = products.filter((p) => !p.bias && p.op.layer === add.layer && sameShape(p.op.outputShapes[0], add.inputShapes[0]));
    const named = same.find((p) => add.node.startsWith(p.op.node));
    const p = named ?? same[0];
    if (p) {
      p.bias = add;
      p.share += add.share;
    }
  }
}

const sameShape = (a: number[] | undefined, b: number[] | undefined) => !!a && !!b && a.length === b.length && a.every((x, i) => x === b[i]);

/** [.., S, S]-shaped work: score/context products of two activations, softmax, masking. */
function isQuadratic(op: OpStat): boolean {
  const shapes = [...op.inputShapes, ...op.outputShapes];
  // Four dimensions: [batch, heads, S, S]; a 3-D [batch, S, hidden] with S = hidden is not a score.
  const square = shapes.some((s) => s.length >= 4 && s[s.length - 1] === s[s.length - 2] && s[s.length - 1] > 1);
  if (PRODUCT_TYPES.has(op.opType)) {
    const b = op.inputShapes[1];
    return !!b && b.length >= 3;
  }
  return square && ['Softmax', 'Add', 'Where', 'Mul', 'Div', 'Sub'].includes(op.opType);
}

const ATTENTION_NAME = /attn|attention/i;

const cache = new WeakMap<InferenceRun, InferenceFacts>();

export function inferenceFacts(run: InferenceRun): InferenceFacts {
  const hit = cache.get(run);
  if (hit) return hit;
  const products = run.ops.map(weightProduct).filter((p): p is WeightProduct => p !== undefined);
  pairBiases(products, run.ops);
  const fusedAttention = run.ops.filter((o) => ATTENTION_TYPES.has(o.opType) && o.opType !== 'QAttention');
  // At level all ORT runs convolutions in its NCHWc layout, with Reorder nodes around them: all of it is convolution work.
  const conv = run.ops.filter((o) => CONV_TYPES.has(o.opType) || o.domain === 'com.microsoft.nchwc');
  const quantized = run.ops.filter((o) => QUANTIZED_TYPES.has(o.opType));
  const quadratic = run.ops.filter(isQuadratic);
  const attentionBlock = run.ops.filter((o) => ATTENTION_TYPES.has(o.opType) || ATTENTION_NAME.test(o.node) || isQuadratic(o));
  let heads = 0;
  for (const o of quadratic) {
    const s = o.outputShapes[0];
    if (s && s.length === 4 && s[2] === s[3]) heads = Math.max(heads, s[1]);
  }
  const embeddingBytes = run.ops.filter((o) => o.opType === 'Gather' && (o.inputShapes[0]?.length ?? 0) === 2).reduce((s, o) => s + o.paramBytes, 0);
  const facts: InferenceFacts = {
    products,
    productShare: sumShare(products),
    fusedAttention,
    conv,
    convShare: sumShare(conv),
    quantized,
    quadratic,
    quadraticShare: sumShare(quadratic),
    attentionBlock,
    attentionBlockShare: sumShare(attentionBlock),
    heads,
    embeddingBytes,
  };
  cache.set(run, facts);
  return facts;
}

/** Key of a product shape for calibration: activation shape, N and whether a bias follows. */
export function shapeKey(input: readonly number[], n: number, bias: boolean): string {
  return `${input.join('x')}|${n}|${bias ? 'b' : ''}`;
}

/** `[8×128×1024]·[1024×256]` (+ bias). */
export function describeShape(input: readonly number[], k: number, n: number, bias: boolean): string {
  return `[${input.join('×')}]·[${k}×${n}]${bias ? '+bias' : ''}`;
}

/** Distinct product shapes, largest total share first, with that share. */
export function productShapes(products: readonly WeightProduct[]): Array<{ input: number[]; m: number; k: number; n: number; bias: boolean; share: number; count: number }> {
  const groups = new Map<string, { input: number[]; m: number; k: number; n: number; bias: boolean; share: number; count: number }>();
  for (const p of products) {
    const key = shapeKey(p.input, p.n, !!p.bias);
    const g = groups.get(key) ?? { input: p.input, m: p.m, k: p.k, n: p.n, bias: !!p.bias, share: 0, count: 0 };
    g.share += p.share;
    g.count += 1;
    groups.set(key, g);
  }
  return [...groups.values()].sort((a, b) => b.share - a.share);
}

/** The top `n` nodes by share as evidence items. */
export function topItems(ops: ReadonlyArray<{ node: string; share: number }>, n = 5): Array<{ what: string; share: number }> {
  return [...ops]
    .sort((a, b) => b.share - a.share)
    .slice(0, n)
    .map((o) => ({ what: o.node, share: Math.min(1, Math.max(0, o.share)) }));
}
