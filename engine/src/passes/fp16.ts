/**
 * fp32 → fp16 conversion, in the manner of ONNX Runtime's float16 converter with `keep_io_types`:
 * float initializers and Constant values become FLOAT16, float compute follows them, the graph's
 * inputs and outputs keep their fp32 types behind Cast nodes, and nodes that must stay fp32 (kept by
 * the user, on the block list, or holding subgraphs) get Casts fp16→fp32 before and fp32→fp16 after.
 *
 * Every FLOAT tensor gets a "home" precision (where it is produced) and, on demand, a copy in the
 * other precision: a Cast node, or for constants a second initializer made from the fp32 values.
 * Tensors that must keep their name in fp32 (graph inputs and outputs, names a subgraph reads) are
 * the fp32 copy; everything else keeps its name in its home precision. Only FLOAT tensors change:
 * integer, bool and double tensors (token ids, shapes, masks) are untouched.
 */
import { cloneModel, GraphEditor, isDefaultDomain, makeNode, subgraphs } from '../onnx/graph-edit';
import { toHalfArray, fromHalfArray } from '../onnx/float16';
import { AttributeProto, AttributeType, DataType, GraphProto, ModelProto, NodeProto, TensorProto } from '../onnx/types';
import { readFloat32, tensorFromFloat32, tensorFromFloats } from '../onnx/tensor-data';
import { throwIfAborted } from '../util/abort';
import { transpose } from './targets';
import { ChangedNode, PassContext, PassResult, SkippedNode } from './types';

export interface Fp16Options {
  /** Node names that stay fp32 (in addition to `ctx.exclude`). */
  keepFp32?: ReadonlySet<string>;
}

/** Largest finite fp16; constants beyond it are clamped rather than turned into ±Infinity. */
const FP16_MAX = 65504;

/**
 * Default-domain ops kept in fp32: ONNX Runtime's float16 converter block list (ops without fp16
 * support in the spec or in ORT), plus the quantization ops whose float side is fixed fp32 in
 * older opsets.
 */
const BLOCKED_OPS = new Set([
  'ArrayFeatureExtractor', 'Binarizer', 'CastMap', 'CategoryMapper', 'DictVectorizer', 'FeatureVectorizer', 'Imputer',
  'LabelEncoder', 'LinearClassifier', 'LinearRegressor', 'Normalizer', 'OneHotEncoder', 'RandomUniformLike', 'SVMClassifier',
  'SVMRegressor', 'Scaler', 'TreeEnsembleClassifier', 'TreeEnsembleRegressor', 'ZipMap', 'NonMaxSuppression', 'TopK',
  'RoiAlign', 'Range', 'CumSum', 'Min', 'Max', 'Upsample',
  'QuantizeLinear', 'DequantizeLinear', 'DynamicQuantizeLinear',
]);
/** Float inputs that stay fp32 when the node is converted (Resize's roi and scales, GroupNorm's gamma/beta). */
const FP32_INPUTS: Record<string, number[]> = { Resize: [1, 2], GroupNorm: [1, 2], SkipGroupNorm: [1, 2] };
/** Float outputs a converted node still produces in fp32 (layer-norm statistics are typed by stash_type). */
const FP32_OUTPUTS: Record<string, number[]> = {
  LayerNormalization: [1, 2], SimplifiedLayerNormalization: [1], SkipLayerNormalization: [1, 2], SkipSimplifiedLayerNormalization: [1, 2],
};
/** Ops that make float values from attributes; the pass retypes them. Others need a float input to follow. */
const SOURCE_OPS = new Set(['Constant', 'ConstantOfShape', 'Cast', 'EyeLike', 'RandomNormal', 'RandomUniform', 'RandomNormalLike', 'Bernoulli']);
/** Ops that read any input type: they take a tensor in its home precision, no Cast needed. */
const ANY_TYPE_READERS = new Set(['Shape', 'Size']);
/** Ops reported as changed (where error analysis compares the two models). */
const COMPUTE_OPS = new Set([
  'MatMul', 'Gemm', 'Conv', 'ConvTranspose', 'Attention', 'MultiHeadAttention', 'GroupQueryAttention', 'LayerNormalization',
  'SimplifiedLayerNormalization', 'SkipLayerNormalization', 'SkipSimplifiedLayerNormalization', 'EmbedLayerNormalization',
  'Softmax', 'LogSoftmax', 'FastGelu', 'BiasGelu', 'Gelu', 'BatchNormalization', 'InstanceNormalization', 'GroupNorm',
]);

type Precision = 16 | 32;

export async function convertFp16(model: ModelProto, opts: Fp16Options, ctx: PassContext): Promise<PassResult> {
  throwIfAborted(ctx.signal, 'fp16 conversion');
  const copy = cloneModel(model);
  const g = copy.graph;
  const editor = new GraphEditor(copy);
  const types = inferElemTypes(model.graph);
  const isFloat = (t: string) => !!t && types.get(t) === DataType.FLOAT;
  const notes = ['on the CPU provider ORT has no fp16 kernels for many ops and inserts its own Casts to fp32 around them, so fp16 mainly halves the file and weight memory there'];
  const skipped: SkippedNode[] = [];
  const changed: ChangedNode[] = [];

  // Which nodes convert, which stay fp32 (and why), which have nothing float to change.
  const plan = new Map<NodeProto, 'convert' | 'keep' | 'none'>();
  const withSubgraph: string[] = [];
  for (const n of g.node) {
    const floatIn = n.input.some(isFloat);
    const floatOut = n.output.some(isFloat);
    if (!floatIn && !floatOut) plan.set(n, 'none');
    else {
      const reason = keepReason(n, floatIn, opts, ctx);
      if (reason === 'subgraph') withSubgraph.push(n.name || n.opType);
      if (reason) skipped.push({ node: n.name, opType: n.opType, reason: reason === 'subgraph' ? 'holds a subgraph, which is not converted: kept in fp32' : reason });
      plan.set(n, reason ? 'keep' : 'convert');
    }
  }
  if (withSubgraph.length > 0) notes.push(`${withSubgraph.length} node(s) with subgraphs stay fp32 with Casts around them: ${withSubgraph.slice(0, 5).join(', ')}`);

  // Names that must hold fp32 values under their own name.
  const inits = new Map(g.initializer.map((t) => [t.name, t] as const));
  const fed = new Set(g.input.map((i) => i.name).filter((n) => !(inits.has(n) && copy.irVersion < 4)));
  const pinned = new Set<string>([...g.output.map((o) => o.name), ...fed, ...outerReads(g)]);
  const constants = new Map<string, Float32Array>();
  const constantDims = new Map<string, number[]>();
  const addConstant = (name: string, dims: number[], values: Float32Array) => {
    constants.set(name, values);
    constantDims.set(name, dims);
  };
  for (const t of g.initializer) if (t.dataType === DataType.FLOAT && !fed.has(t.name)) addConstant(t.name, t.dims, readFloat32(t));
  for (const n of g.node) {
    const v = n.opType === 'Constant' && plan.get(n) === 'convert' && isFloat(n.output[0]!) ? constantValue(n) : undefined;
    if (v) addConstant(n.output[0]!, v.dims, v.values);
  }

  const inputNeed = (n: NodeProto, i: number): Precision | 'any' => {
    if (plan.get(n) === 'keep') return 32;
    if (ANY_TYPE_READERS.has(n.opType) || (n.opType === 'Cast' && !isFloat(n.output[0]!))) return 'any';
    return FP32_INPUTS[n.opType]?.includes(i) ? 32 : 16;
  };
  const wanted16 = new Set<string>();
  for (const n of g.node) n.input.forEach((t, i) => isFloat(t) && plan.get(n) !== 'none' && inputNeed(n, i) === 16 && wanted16.add(t));
  // Constants and nodes that make floats from nothing float (Cast from int, ConstantOfShape) live in
  // fp16 only when some reader wants fp16: an int→fp16→fp32 round trip would lose integers > 2048.
  const byDemand = (t: string): Precision => (wanted16.has(t) && !pinned.has(t) ? 16 : 32);
  const isSource = (n: NodeProto) => plan.get(n) === 'convert' && SOURCE_OPS.has(n.opType) && !n.input.some(isFloat);
  const home = new Map<string, Precision>();
  for (const t of fed) home.set(t, 32);
  for (const t of constants.keys()) home.set(t, byDemand(t));
  for (const n of g.node) {
    if (plan.get(n) === 'none') continue;
    const source = isSource(n);
    n.output.forEach((t, j) => isFloat(t) && home.set(t, source ? byDemand(t) : plan.get(n) === 'convert' && !FP32_OUTPUTS[n.opType]?.includes(j) ? 16 : 32));
  }

  // Names and on-demand copies in the other precision.
  const out: NodeProto[] = [];
  let casts = 0;
  let clamped = 0;
  const names = new Map<string, string>();
  const nameOf = (t: string, p: Precision): string => {
    const key = `${p}:${t}`;
    const known = names.get(key);
    if (known) return known;
    const h = home.get(t) ?? 32;
    let name: string;
    if (p === h) name = h === 16 && pinned.has(t) ? editor.uniqueName(`${t}_fp16`) : t;
    else {
      name = p === 32 && pinned.has(t) ? t : editor.uniqueName(`${t}_fp${p}`);
      const values = constants.get(t);
      if (values && p === 16) {
        const half = fp16Tensor(name, constantDims.get(t)!, values);
        clamped += half.clamped;
        editor.addInitializer(half.tensor);
      } else if (values) editor.addInitializer(tensorFromFloat32(name, constantDims.get(t)!, values));
      else {
        out.push(makeNode('Cast', [nameOf(t, h)], [name], editor.uniqueName(`${t}/cast_fp${p}`), { to: p === 16 ? DataType.FLOAT16 : DataType.FLOAT }));
        casts++;
      }
    }
    names.set(key, name);
    return name;
  };

  for (const [t, values] of constants) {
    const init = inits.get(t);
    if (!init || home.get(t) !== 16) continue;
    const half = fp16Tensor(t, init.dims, values);
    clamped += half.clamped;
    g.initializer[g.initializer.indexOf(init)] = half.tensor;
    const asInput = g.input.find((i) => i.name === t); // IR < 4 lists initializers as inputs
    if (asInput?.type?.tensorType) asInput.type = { ...asInput.type, tensorType: { ...asInput.type.tensorType, elemType: DataType.FLOAT16 } };
  }

  for (const [index, n] of g.node.entries()) {
    if (index % 256 === 0) {
      throwIfAborted(ctx.signal, 'fp16 conversion');
      ctx.onProgress?.(index / g.node.length, 'converting to fp16');
    }
    const how = plan.get(n)!;
    const [inputs, outputs] = [[...n.input], [...n.output]];
    if (how === 'none') {
      out.push(n);
      continue;
    }
    n.input = inputs.map((t, i) => {
      if (!isFloat(t)) return t;
      const need = inputNeed(n, i);
      return nameOf(t, need === 'any' ? home.get(t)! : need);
    });
    if (how === 'convert' && (!isSource(n) || home.get(outputs[0]!) === 16)) clamped += retypeAttributes(n, isFloat);
    n.output = outputs.map((t) => (isFloat(t) ? nameOf(t, home.get(t)!) : t));
    out.push(n);
    for (const t of outputs) if (isFloat(t) && home.get(t) === 16 && pinned.has(t)) nameOf(t, 32);
    if (how === 'convert' && COMPUTE_OPS.has(n.opType)) changed.push(changeRecord(n, inputs, outputs[0]!, constants, constantDims));
  }
  g.node = out;

  g.valueInfo = g.valueInfo.map((v) => {
    const tt = v.type?.tensorType;
    if (!tt || tt.elemType !== DataType.FLOAT || home.get(v.name) !== 16 || pinned.has(v.name)) return v;
    return { ...v, type: { ...v.type, tensorType: { ...tt, elemType: DataType.FLOAT16 } } };
  });
  editor.reindex();
  if (casts > 0) notes.push(`${casts} Cast node(s) inserted at fp32/fp16 boundaries (graph inputs and outputs, nodes kept in fp32)`);
  if (clamped > 0) notes.push(`${clamped} constant value(s) beyond ±${FP16_MAX} were clamped to the fp16 range`);
  ctx.onProgress?.(1, 'fp16 conversion done');
  return { model: copy, changed, skipped, notes };
}

function keepReason(n: NodeProto, floatIn: boolean, opts: Fp16Options, ctx: PassContext): string | undefined {
  if (ctx.exclude.has(n.name) || opts.keepFp32?.has(n.name)) return 'kept in fp32 by request';
  if (n.attribute.some((a) => subgraphs(a).length > 0)) return 'subgraph';
  if (isDefaultDomain(n.domain) && BLOCKED_OPS.has(n.opType)) return `${n.opType} stays fp32 (on ONNX Runtime's float16 block list)`;
  if (!floatIn && !SOURCE_OPS.has(n.opType)) return `${n.opType} makes float values from non-float inputs; its output type is fixed, so it stays fp32`;
  return undefined;
}

/** Tensors of the main graph read inside subgraphs by name (outer-scope references). */
function outerReads(g: GraphProto): Set<string> {
  const read = new Set<string>();
  const visit = (sub: GraphProto) => {
    for (const n of sub.node) {
      for (const i of n.input) read.add(i);
      for (const a of n.attribute) for (const s of subgraphs(a)) visit(s);
    }
  };
  for (const n of g.node) for (const a of n.attribute) for (const s of subgraphs(a)) visit(s);
  return read;
}

/** Retypes the float-producing attributes of a converted node; returns how many values were clamped. */
function retypeAttributes(n: NodeProto, isFloat: (t: string) => boolean): number {
  let clamped = 0;
  const setInt = (name: string, v: number) => {
    const a = n.attribute.find((x) => x.name === name);
    if (a) a.i = BigInt(v);
    else n.attribute.push({ name, type: AttributeType.INT, i: BigInt(v) });
  };
  const intOf = (name: string) => n.attribute.find((x) => x.name === name)?.i;
  const makesFloat = isFloat(n.output[0] ?? '');
  switch (n.opType) {
    case 'Cast':
      if (Number(intOf('to')) === DataType.FLOAT) setInt('to', DataType.FLOAT16);
      break;
    case 'EyeLike':
    case 'RandomNormalLike':
    case 'Bernoulli':
    case 'RandomNormal':
    case 'RandomUniform':
      if (makesFloat) setInt('dtype', DataType.FLOAT16);
      break;
    case 'Constant':
    case 'ConstantOfShape': {
      if (!makesFloat) break;
      const v = n.opType === 'Constant' ? constantValue(n) : constantOfShapeValue(n);
      const half = fp16Tensor('', v?.dims ?? [1], v?.values ?? new Float32Array(1));
      clamped += half.clamped;
      n.attribute = [...n.attribute.filter((a) => !a.name.startsWith('value')), { name: 'value', type: AttributeType.TENSOR, t: half.tensor } as AttributeProto];
      break;
    }
  }
  return clamped;
}

/** A Constant node's float value (from `value`, `value_float` or `value_floats`). */
function constantValue(n: NodeProto): { dims: number[]; values: Float32Array } | undefined {
  for (const a of n.attribute) {
    if (a.name === 'value' && a.t?.dataType === DataType.FLOAT) return { dims: a.t.dims, values: readFloat32(a.t) };
    if (a.name === 'value_float' && a.f !== undefined) return { dims: [], values: new Float32Array([a.f]) };
    if (a.name === 'value_floats' && a.floats) return { dims: [a.floats.length], values: Float32Array.from(a.floats) };
  }
  return undefined;
}

/** ConstantOfShape's fill value; float 0 when absent (the spec's default). */
function constantOfShapeValue(n: NodeProto): { dims: number[]; values: Float32Array } {
  const t = n.attribute.find((a) => a.name === 'value')?.t;
  return t ? { dims: t.dims, values: readFloat32(t) } : { dims: [1], values: new Float32Array(1) };
}

/** A FLOAT16 tensor of `values`, finite values clamped to ±65504 as ORT's converter does. */
function fp16Tensor(name: string, dims: number[], values: Float32Array): { tensor: TensorProto; clamped: number } {
  const clamped = values.reduce((n, v) => (Number.isFinite(v) && Math.abs(v) > FP16_MAX ? n + 1 : n), 0);
  return { tensor: tensorFromFloats(name, dims, fp16Clamp(values), DataType.FLOAT16), clamped };
}

/** The change record of a converted compute node; MatMul/Gemm weights with their fp16-rounded values, as [K, N]. */
function changeRecord(n: NodeProto, inputs: string[], output: string, constants: Map<string, Float32Array>, dims: Map<string, number[]>): ChangedNode {
  const record: ChangedNode = { node: n.name, opType: n.opType, output, detail: 'fp16' };
  const name = inputs[1] ?? '';
  const before = constants.get(name);
  const shape = dims.get(name);
  if ((n.opType === 'MatMul' || n.opType === 'Gemm') && before && shape?.length === 2) {
    const transB = n.opType === 'Gemm' && n.attribute.some((a) => a.name === 'transB' && Number(a.i) === 1);
    const kn = transB ? transpose(before, shape[0]!, shape[1]!) : before;
    record.weight = { name, before: kn, after: fromHalfArray(toHalfArray(fp16Clamp(kn))) };
  }
  return record;
}

function fp16Clamp(values: Float32Array): Float32Array {
  return Float32Array.from(values, (v) => (Number.isFinite(v) ? Math.max(-FP16_MAX, Math.min(FP16_MAX, v)) : v));
}

/**
 * Element types of the main graph's tensors: declared ones (inputs, initializers, value_info,
 * outputs) and, for the rest, what each op makes of its inputs. Most ops keep the type of their
 * first typed input; the exceptions are listed. Tensors nothing can type stay absent (not FLOAT).
 * Nodes are visited producers first: ORT sorts graphs itself, so some files are not in order.
 */
export function inferElemTypes(g: GraphProto): Map<string, DataType> {
  const types = new Map<string, DataType>();
  const declared = new Map<string, DataType>();
  for (const v of [...g.valueInfo, ...g.output]) if (v.type?.tensorType?.elemType) declared.set(v.name, v.type.tensorType.elemType);
  for (const v of g.input) if (v.type?.tensorType?.elemType) types.set(v.name, v.type.tensorType.elemType);
  for (const t of g.initializer) types.set(t.name, t.dataType);
  for (const n of topologicalOrder(g.node)) {
    const inferred = outputTypes(n, (t) => (t ? types.get(t) : undefined));
    n.output.forEach((o, j) => {
      const t = declared.get(o) ?? inferred[j];
      if (o && t) types.set(o, t);
    });
  }
  return types;
}

function outputTypes(n: NodeProto, typeOf: (t: string | undefined) => DataType | undefined): Array<DataType | undefined> {
  const input = (i: number) => typeOf(n.input[i]);
  const attr = (name: string) => n.attribute.find((a) => a.name === name);
  const dtype = (name: string, fallback: DataType | undefined) => {
    const v = Number(attr(name)?.i ?? 0);
    return v > 0 ? (v as DataType) : fallback;
  };
  const all = (t: DataType | undefined) => n.output.map(() => t);
  const bodyTypes = (name: string, from: number) => (attr(name)?.g?.output ?? []).slice(from).map((v) => v.type?.tensorType?.elemType);
  switch (n.opType) {
    case 'Cast': return [dtype('to', undefined)];
    case 'CastLike': return [input(1)];
    case 'Constant': {
      const a = n.attribute[0];
      if (a?.t) return [a.t.dataType];
      if (a?.name === 'value_float' || a?.name === 'value_floats') return [DataType.FLOAT];
      if (a?.name === 'value_int' || a?.name === 'value_ints') return [DataType.INT64];
      return [a?.name.startsWith('value_string') ? DataType.STRING : undefined];
    }
    case 'ConstantOfShape': return [attr('value')?.t?.dataType ?? DataType.FLOAT];
    case 'Shape': case 'Size': case 'NonZero': case 'ArgMax': case 'ArgMin': return all(DataType.INT64);
    case 'Equal': case 'Less': case 'Greater': case 'LessOrEqual': case 'GreaterOrEqual': case 'Not': case 'And': case 'Or':
    case 'Xor': case 'IsNaN': case 'IsInf': return all(DataType.BOOL);
    case 'TopK': case 'MaxPool': return [input(0), DataType.INT64];
    case 'Unique': return [input(0), DataType.INT64, DataType.INT64, DataType.INT64];
    case 'Dropout': return [input(0), DataType.BOOL];
    case 'Where': return [input(1)];
    case 'OneHot': return [input(2)];
    case 'EyeLike': case 'RandomNormalLike': case 'RandomUniformLike': case 'Bernoulli': return [dtype('dtype', input(0))];
    case 'RandomNormal': case 'RandomUniform': return [dtype('dtype', DataType.FLOAT)];
    case 'Multinomial': return [dtype('dtype', DataType.INT32)];
    case 'QuantizeLinear': return [input(2) ?? dtype('output_dtype', DataType.UINT8)];
    case 'DequantizeLinear': case 'MatMulIntegerToFloat': return [n.opType === 'DequantizeLinear' ? input(1) : input(2)];
    case 'DynamicQuantizeLinear': return [DataType.UINT8, DataType.FLOAT, DataType.UINT8];
    case 'MatMulInteger': case 'ConvInteger': return [DataType.INT32];
    case 'QLinearMatMul': case 'QLinearConv': return [input(7)];
    case 'EmbedLayerNormalization': return [input(2), DataType.INT32, input(2)];
    case 'If': return bodyTypes('then_branch', 0);
    case 'Loop': return bodyTypes('body', 1);
    case 'Scan': return bodyTypes('body', 0);
    default: return all(n.input.map((i) => typeOf(i)).find((t) => t !== undefined));
  }
}

/** `nodes` with every producer before its readers (depth first, iterative for long chains). */
function topologicalOrder(nodes: NodeProto[]): NodeProto[] {
  const producer = new Map<string, number>();
  nodes.forEach((n, i) => n.output.forEach((o) => o && producer.set(o, i)));
  const state = new Uint8Array(nodes.length); // 0 new, 1 on the stack, 2 emitted
  const order: NodeProto[] = [];
  for (let root = 0; root < nodes.length; root++) {
    const stack = [root];
    while (stack.length > 0) {
      const i = stack[stack.length - 1]!;
      if (state[i] === 2) {
        stack.pop();
        continue;
      }
      state[i] = 1;
      const next = nodes[i]!.input.map((t) => producer.get(t)).find((p) => p !== undefined && state[p] === 0);
      if (next !== undefined) stack.push(next);
      else {
        state[i] = 2;
        order.push(nodes[i]!);
        stack.pop();
      }
    }
  }
  return order;
}
