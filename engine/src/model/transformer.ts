import { DataType, ModelProto } from '../onnx/types';
import { readFloat32, tensorFromFloat32, tensorFromInt64 } from '../onnx/tensor-data';
import { createRng, Rng } from '../util/rng';
import { GraphBuilder } from './graph-builder';
import { validateAttention, weightLayer } from './variants';
import { structuralMask } from './attention-masks';
import { TwbError } from '../util/errors';
import { TransformerSpec, validateSpec } from './spec';

/** Opset of every built-in model: LayerNormalization is standard from 17 on. */
export const BUILTIN_OPSET = 17;
const IR_VERSION = 8;
/** Standard deviation of the weight init (GPT-2 / BERT use 0.02). */
const INIT_STD = 0.02;
/** Added to masked attention scores; large enough that softmax gives exactly 0 in fp32. */
export const MASK_VALUE = -1e9;
/** Initializers named so are fixed constants, not weights. */
const CONST_PREFIX = 'const/';
/** Salt of the Linformer projections' own random stream (see `linformer_e` below). */
const LINFORMER_SALT = 0x11f0e5;

export interface BuildOptions {
  /** Seed for the weight init; the same spec and seed give a byte-identical model. */
  seed?: number;
  /** Graph and model name. */
  name?: string;
  /**
   * Trained weights by initializer name (from the tfjs trainer). Every float weight the spec needs
   * must be present with the right size; absent, weights are drawn from the seed.
   */
  weights?: ReadonlyMap<string, Float32Array>;
}

/**
 * Builds a pre-LayerNorm transformer as an ONNX model using standard ops only (opset 17):
 * token + position embeddings, N × [LN → MHA → residual, LN → GELU FFN → residual], final LN and
 * an LM head (decoder, causal mask) or a pooled classification head (encoder, padding mask).
 * Inputs: `input_ids` int64 [batch, sequence] (+ `attention_mask` int64 [batch, sequence] for
 * encoders). Output: `logits`.
 */
export function buildTransformer(spec: TransformerSpec, options: BuildOptions = {}): ModelProto {
  validateSpec(spec);
  validateAttention(spec);
  const variant = spec.attention ?? { kind: 'dense' };
  const seed = options.seed ?? 0;
  const name = options.name ?? `${spec.kind}-${spec.layers}x${spec.hidden}`;
  const rng = createRng(seed);
  const g = new GraphBuilder();
  const given = options.weights;
  // A shared layer names its weights after the first layer of its group: declared once, used by all.
  const declared = new Set<string>();
  const param = (wname: string, dims: number[], init: () => Float32Array) => {
    if (declared.has(wname)) return wname;
    declared.add(wname);
    return g.init(tensorFromFloat32(wname, dims, given && !wname.startsWith(CONST_PREFIX) ? givenWeight(given, wname, dims) : init()));
  };
  const w = (wname: string, dims: number[]) => param(wname, dims, () => normal(rng, dims));
  const fill = (wname: string, dims: number[], value: number) => param(wname, dims, () => new Float32Array(size(dims)).fill(value));
  const ints = (cname: string, values: number[], dims = [values.length]) => {
    if (declared.has(cname)) return cname;
    declared.add(cname);
    return g.init(tensorFromInt64(cname, dims, values.map((v) => BigInt(v))));
  };
  const scalar = (cname: string, value: number) => fill(cname, [], value);

  const ids = g.input('input_ids', DataType.INT64, ['batch', 'sequence']);
  const padMask = spec.kind === 'encoder' ? g.input('attention_mask', DataType.INT64, ['batch', 'sequence']) : undefined;

  // Embeddings: token lookup plus the first `sequence` rows of the position table.
  const tok = g.op('embed/token', 'Gather', [w('embed/token/weight', [spec.vocab, spec.hidden]), ids]);
  const seqLen = g.op('embed/seq_len', 'Shape', [ids], { start: 1, end: 2 });
  const pos = g.op('embed/position', 'Slice', [w('embed/position/weight', [spec.maxSeq, spec.hidden]), ints('const/zero_1d', [0]), seqLen, ints('const/axis0', [0])]);
  let x = g.op('embed/add', 'Add', [tok, pos]);

  const maskOf = layerMasks(g, spec, seqLen, padMask, ints, scalar);
  const linformerRng = createRng((seed ^ LINFORMER_SALT) >>> 0);
  const headDim = spec.hidden / spec.heads;
  const scale = scalar('const/attn_scale', 1 / Math.sqrt(headDim));
  const splitShape = ints('const/split_heads_shape', [0, 0, spec.heads, headDim]);
  const mergeShape = ints('const/merge_heads_shape', [0, 0, spec.hidden]);
  const sqrt2 = scalar('const/sqrt2', Math.SQRT2);
  const one = scalar('const/one', 1);
  const half = scalar('const/half', 0.5);

  for (let l = 0; l < spec.layers; l++) {
    const p = `layer${l}`;
    const wp = `layer${weightLayer(l, spec.shareLayers)}`;
    const ln = (n: string, input: string) =>
      g.op(`${p}/${n}`, 'LayerNormalization', [input, fill(`${wp}/${n}/scale`, [spec.hidden], 1), fill(`${wp}/${n}/bias`, [spec.hidden], 0)], { axis: -1, epsilon: { float: 1e-5 } });
    const dense = (n: string, input: string, inDim: number, outDim: number) => {
      const mm = g.op(`${p}/${n}`, 'MatMul', [input, w(`${wp}/${n}/weight`, [inDim, outDim])]);
      return g.op(`${p}/${n}_bias`, 'Add', [mm, fill(`${wp}/${n}/bias`, [outDim], 0)]);
    };

    // Attention block.
    const h = ln('ln1', x);
    const heads = (n: 'q' | 'k' | 'v', perm: number[]) => {
      const proj = dense(`attn/${n}_proj`, h, spec.hidden, spec.hidden);
      const split = g.op(`${p}/attn/${n}_split`, 'Reshape', [proj, splitShape]);
      return g.op(`${p}/attn/${n}_transpose`, 'Transpose', [split], { perm });
    };
    const q = heads('q', [0, 2, 1, 3]); // [B, H, S, D]
    let ctx: string;
    if (variant.kind === 'linformer') {
      // E ~ N(0, 1/K): a Johnson–Lindenstrauss projection, which keeps each key and value column's
      // norm in expectation. Drawn from its own stream of the seed so that every other weight equals
      // the dense model's for the same seed: the variants start from the same point.
      const e = param(`${wp}/attn/linformer_e`, [spec.maxSeq, variant.k], () => scaledNormal(linformerRng, [spec.maxSeq, variant.k], 1 / Math.sqrt(variant.k)));
      const eT = g.op(`${p}/attn/linformer_e_t`, 'Transpose', [g.op(`${p}/attn/linformer_e_slice`, 'Slice', [e, ints('const/zero_1d', [0]), seqLen, ints('const/axis0', [0])])], { perm: [1, 0] }); // [K, S]
      // Padded keys and values are zeroed, then projected along the sequence: [K, S]·[B, H, S, D].
      const project = (n: 'k' | 'v') => g.op(`${p}/attn/${n}_project`, 'MatMul', [eT, g.op(`${p}/attn/${n}_keep`, 'Mul', [heads(n, [0, 2, 1, 3]), maskOf(l)])]);
      const kp = g.op(`${p}/attn/k_project_t`, 'Transpose', [project('k')], { perm: [0, 1, 3, 2] }); // [B, H, D, K]
      const vp = project('v'); // [B, H, K, D]
      const scaled = g.op(`${p}/attn/scale`, 'Mul', [g.op(`${p}/attn/qk_matmul`, 'MatMul', [q, kp]), scale]);
      const probs = g.op(`${p}/attn/softmax`, 'Softmax', [scaled], { axis: -1 });
      ctx = g.op(`${p}/attn/av_matmul`, 'MatMul', [probs, vp]);
    } else {
      const k = heads('k', [0, 2, 3, 1]); // [B, H, D, S]
      const v = heads('v', [0, 2, 1, 3]); // [B, H, S, D]
      const qk = g.op(`${p}/attn/qk_matmul`, 'MatMul', [q, k]);
      const scaled = g.op(`${p}/attn/scale`, 'Mul', [qk, scale]);
      const masked = g.op(`${p}/attn/mask_add`, 'Add', [scaled, maskOf(l)]);
      const probs = g.op(`${p}/attn/softmax`, 'Softmax', [masked], { axis: -1 });
      ctx = g.op(`${p}/attn/av_matmul`, 'MatMul', [probs, v]);
    }
    const merged = g.op(`${p}/attn/merge_transpose`, 'Transpose', [ctx], { perm: [0, 2, 1, 3] });
    const flat = g.op(`${p}/attn/merge_reshape`, 'Reshape', [merged, mergeShape]);
    const attnOut = dense('attn/out_proj', flat, spec.hidden, spec.hidden);
    x = g.op(`${p}/attn/residual`, 'Add', [x, attnOut]);

    // Feed-forward block with exact (erf) GELU, the form ORT's optimizer fuses into Gelu.
    const f = ln('ln2', x);
    const up = dense('ffn/up', f, spec.hidden, spec.ffn);
    const erf = g.op(`${p}/ffn/gelu_erf`, 'Erf', [g.op(`${p}/ffn/gelu_div`, 'Div', [up, sqrt2])]);
    const gate = g.op(`${p}/ffn/gelu_add`, 'Add', [erf, one]);
    const gelu = g.op(`${p}/ffn/gelu_half`, 'Mul', [g.op(`${p}/ffn/gelu_mul`, 'Mul', [up, gate]), half]);
    const down = dense('ffn/down', gelu, spec.ffn, spec.hidden);
    x = g.op(`${p}/ffn/residual`, 'Add', [x, down]);
  }

  const final = g.op('final_ln', 'LayerNormalization', [x, fill('final_ln/scale', [spec.hidden], 1), fill('final_ln/bias', [spec.hidden], 0)], { axis: -1, epsilon: { float: 1e-5 } });
  if (spec.kind === 'decoder') {
    const logits = g.op('head/lm_matmul', 'MatMul', [final, w('head/lm/weight', [spec.hidden, spec.vocab])]);
    g.output(logits, 'logits', DataType.FLOAT, ['batch', 'sequence', spec.vocab]);
  } else {
    const classes = spec.numClasses ?? 2;
    const first = g.op('head/pool_first', 'Gather', [final, ints('const/zero', [0], [])], { axis: 1 });
    const pooled = g.op('head/pooler', 'MatMul', [first, w('head/pooler/weight', [spec.hidden, spec.hidden])]);
    const act = g.op('head/pooler_tanh', 'Tanh', [g.op('head/pooler_bias', 'Add', [pooled, fill('head/pooler/bias', [spec.hidden], 0)])]);
    const cls = g.op('head/classifier', 'MatMul', [act, w('head/classifier/weight', [spec.hidden, classes])]);
    const logits = g.op('head/classifier_bias', 'Add', [cls, fill('head/classifier/bias', [classes], 0)]);
    g.output(logits, 'logits', DataType.FLOAT, ['batch', classes]);
  }

  const specJson = JSON.stringify({ ...spec, seed });
  return {
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: BUILTIN_OPSET }],
    producerName: 'transformer-workbench',
    producerVersion: '1',
    graph: g.build(name, `pre-LN ${spec.kind} transformer ${specJson}`),
    metadataProps: [{ key: 'twb.spec', value: specJson }],
  };
}

type IntsFn = (name: string, values: number[], dims?: number[]) => string;
type ScalarFn = (name: string, value: number) => string;

/**
 * The mask of each layer's attention: added to the scores (dense, window, BigBird) or multiplied
 * into keys and values (Linformer, [B, 1, S, 1]). Window and BigBird run here as dense attention
 * plus the variant's mask, baked at maxSeq and cut to [S, S] in the graph: ORT's cost therefore
 * stays quadratic in S (the tfjs model computes only the blocks the mask keeps) and the outputs
 * are the same. BigBird's random blocks differ per layer, so it has one mask per layer.
 */
function layerMasks(g: GraphBuilder, spec: TransformerSpec, seqLen: string, padMask: string | undefined, ints: IntsFn, scalar: ScalarFn): (layer: number) => string {
  const kind = spec.attention?.kind ?? 'dense';
  if (kind === 'linformer') {
    const keys = keyMultiplier(g, padMask!, ints);
    return () => keys;
  }
  const base = spec.kind === 'encoder' ? paddingMask(g, padMask!, ints, scalar) : kind === 'dense' ? causalMask(g, seqLen, ints) : undefined;
  if (kind === 'dense') return () => base!;
  const ends = g.op('mask/ends', 'Concat', [seqLen, seqLen], { axis: 0 });
  const made = new Map<string, string>();
  return (layer) => {
    const suffix = kind === 'bigbird' ? `/layer${layer}` : '';
    let out = made.get(suffix);
    if (!out) {
      const allowed = structuralMask(spec, layer, spec.maxSeq);
      const values = Float32Array.from(allowed, (a) => (a ? 0 : MASK_VALUE));
      const full = g.init(tensorFromFloat32(`const/attn_mask${suffix}`, [spec.maxSeq, spec.maxSeq], values));
      const cut = g.op(`mask/structure${suffix}`, 'Slice', [full, ints('const/zero_2d', [0, 0]), ends, ints('const/axes_01', [0, 1])]);
      out = base ? g.op(`mask/combined${suffix}`, 'Add', [cut, base]) : cut;
      made.set(suffix, out);
    }
    return out;
  };
}

/** [S, S] additive mask: 0 on and below the diagonal, MASK_VALUE above it. */
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

/** [B, 1, 1, S] additive mask from a 0/1 attention_mask: padded keys get MASK_VALUE. */
function paddingMask(g: GraphBuilder, attentionMask: string, ints: IntsFn, scalarF: ScalarFn): string {
  const asFloat = g.op('mask/cast', 'Cast', [attentionMask], { to: DataType.FLOAT });
  const inverted = g.op('mask/invert', 'Sub', [scalarF('const/mask_one', 1), asFloat]);
  const additive = g.op('mask/scale', 'Mul', [inverted, scalarF('const/mask_value', MASK_VALUE)]);
  return g.op('mask/padding', 'Unsqueeze', [additive, ints('const/mask_axes', [1, 2])]);
}

function size(dims: number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

function givenWeight(weights: ReadonlyMap<string, Float32Array>, name: string, dims: number[]): Float32Array {
  const data = weights.get(name);
  if (!data) throw new TwbError('usage', `weights: "${name}" [${dims.join(', ')}] is missing`);
  if (data.length !== size(dims)) throw new TwbError('usage', `weights: "${name}" has ${data.length} values, expected ${size(dims)} for [${dims.join(', ')}]`);
  return data;
}

/**
 * The initial float weights of a spec and seed, by initializer name: exactly what the ONNX builder
 * writes, so the tfjs model starts from the same point and the two can be compared.
 */
export function initialWeights(spec: TransformerSpec, seed = 0): Map<string, Float32Array> {
  const model = buildTransformer(spec, { seed });
  const out = new Map<string, Float32Array>();
  for (const t of model.graph.initializer) {
    if (t.dataType === DataType.FLOAT && !t.name.startsWith(CONST_PREFIX)) out.set(t.name, readFloat32(t));
  }
  return out;
}

function normal(rng: Rng, dims: number[]): Float32Array {
  return scaledNormal(rng, dims, INIT_STD);
}

function scaledNormal(rng: Rng, dims: number[], std: number): Float32Array {
  const out = new Float32Array(size(dims));
  for (let i = 0; i < out.length; i++) out[i] = rng.normal() * std;
  return out;
}
