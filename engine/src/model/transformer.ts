import { DataType, ModelProto } from '../onnx/types';
import { readFloat32, tensorFromFloat32, tensorFromInt64 } from '../onnx/tensor-data';
import { createRng, Rng } from '../util/rng';
import { GraphBuilder } from './graph-builder';
import { validateAttention, weightLayer, WeightInit } from './variants';
import { blockMasks } from './attention-onnx-masks';
import { AttentionGraph, attentionBlock, headConstants, usesScores } from './attention-onnx';
import { TwbError } from '../util/errors';
import { TransformerSpec, validateSpec } from './spec';

/** Opset of every built-in model: LayerNormalization is standard from 17 on. */
export const BUILTIN_OPSET = 17;
const IR_VERSION = 8;
/** Standard deviation of the weight init (GPT-2 / BERT use 0.02). */
const INIT_STD = 0.02;
export { MASK_VALUE } from './attention-onnx-masks';
/** Initializers named so are fixed constants, not weights. */
const CONST_PREFIX = 'const/';
/** Salt of the Linformer projections' own random stream (init 'linformer', see attention-onnx.ts). */
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
 * token + position embeddings, N × [LN → attention block → residual, LN → GELU FFN → residual],
 * final LN and an LM head (decoder, causal) or a pooled classification head (encoder, padding
 * mask). The attention block is the spec's variant (attention-onnx.ts), multi-head attention by default.
 * Inputs: `input_ids` int64 [batch, sequence] (+ `attention_mask` int64 [batch, sequence] for
 * encoders). Output: `logits`.
 */
export function buildTransformer(spec: TransformerSpec, options: BuildOptions = {}): ModelProto {
  validateSpec(spec);
  validateAttention(spec);
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

  const masks = blockMasks(g, spec, seqLen, padMask, ints, scalar);
  const linformerRng = createRng((seed ^ LINFORMER_SALT) >>> 0);
  const initial = (init: WeightInit, dims: number[]): Float32Array => {
    if (init === 'normal') return normal(rng, dims);
    if (init === 'linformer') return scaledNormal(linformerRng, dims, 1 / Math.sqrt(dims[1]));
    return new Float32Array(size(dims)).fill(init === 'ones' ? 1 : 0);
  };
  // Shared constants are declared before the layers, where they always were: same seed, same bytes.
  if (usesScores(spec)) headConstants({ spec, ints, scalar });
  const sqrt2 = scalar('const/sqrt2', Math.SQRT2);
  const one = scalar('const/one', 1);
  const half = scalar('const/half', 0.5);
  // Exact (erf) GELU, the form ORT's optimizer fuses into Gelu.
  const gelu = (scope: string, input: string) => {
    const erf = g.op(`${scope}/gelu_erf`, 'Erf', [g.op(`${scope}/gelu_div`, 'Div', [input, sqrt2])]);
    const gate = g.op(`${scope}/gelu_add`, 'Add', [erf, one]);
    return g.op(`${scope}/gelu_half`, 'Mul', [g.op(`${scope}/gelu_mul`, 'Mul', [input, gate]), half]);
  };
  const blocks: AttentionGraph = { g, spec, seqLen, masks, ints, scalar, param, initial, gelu };

  for (let l = 0; l < spec.layers; l++) {
    const p = `layer${l}`;
    const wp = `layer${weightLayer(l, spec.shareLayers)}`;
    const ln = (n: string, input: string) =>
      g.op(`${p}/${n}`, 'LayerNormalization', [input, fill(`${wp}/${n}/scale`, [spec.hidden], 1), fill(`${wp}/${n}/bias`, [spec.hidden], 0)], { axis: -1, epsilon: { float: 1e-5 } });
    const dense = (n: string, input: string, inDim: number, outDim: number) => {
      const mm = g.op(`${p}/${n}`, 'MatMul', [input, w(`${wp}/${n}/weight`, [inDim, outDim])]);
      return g.op(`${p}/${n}_bias`, 'Add', [mm, fill(`${wp}/${n}/bias`, [outDim], 0)]);
    };

    x = g.op(`${p}/attn/residual`, 'Add', [x, attentionBlock(blocks, l, ln('ln1', x))]);

    const up = dense('ffn/up', ln('ln2', x), spec.hidden, spec.ffn);
    const down = dense('ffn/down', gelu(`${p}/ffn`, up), spec.ffn, spec.hidden);
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
