/**
 * Head pruning for attention written out in standard ops (the built-in models, BERT exports with
 * constant shapes). The block is found by following the graph, not by node names:
 *
 *     x → MatMul(Wq) → [Add bq] → Reshape([a, b, H, D]) → Transpose(0,2,1,3) ─┐
 *     x → MatMul(Wk) → [Add bk] → Reshape → Transpose(0,2,3,1) ─→ MatMul (Q·Kᵀ) → scale/mask → Softmax ─┐
 *     x → MatMul(Wv) → [Add bv] → Reshape → Transpose(0,2,1,3) ───────────────────────────────→ MatMul (·V)
 *       → Transpose(0,2,1,3) → Reshape([a, b, H·D]) → MatMul(Wo)
 *
 * Scalar Mul/Div (the 1/√D scale) may sit anywhere on the Q/K/V paths, and chains of Transposes
 * count by the permutation they compose to. The head count must be readable from a constant
 * Reshape shape: PyTorch exports that compute shapes with Shape/Gather/Concat at run time are
 * reported as misses with the Reshape that stops the match.
 */
import { GraphEditor, isDefaultDomain, intAttr } from '../onnx/graph-edit';
import { DataType, NodeProto, TensorProto } from '../onnx/types';
import { tensorFromInt64 } from '../onnx/tensor-data';
import { BlockMiss, HeadBlock, HeadTensor, Miss, addSliced, headTensor, keepColumns, keepRows, renameTensors } from './heads-common';

/** Ops between Q·Kᵀ and Softmax that act on each score alone (scale, mask, casts). */
const SCORE_OPS = new Set(['Add', 'Sub', 'Mul', 'Div', 'Where', 'Cast', 'Identity', 'Dropout']);
const PROB_OPS = new Set(['Dropout', 'Identity', 'Cast']);

interface Projection {
  matmul: NodeProto;
  weight: HeadTensor;
  bias?: { node: NodeProto; index: number; tensor: HeadTensor };
  reshape: NodeProto;
  shape: number[];
  /** Nodes from the projection MatMul to the tensor the trace started from. */
  nodes: NodeProto[];
}

export function findUnfusedBlocks(editor: GraphEditor, readers: Map<string, NodeProto[]>): { blocks: HeadBlock[]; misses: BlockMiss[] } {
  const blocks: HeadBlock[] = [];
  const misses: BlockMiss[] = [];
  const seen = new Set<NodeProto>();
  for (const softmax of editor.graph.node) {
    if (softmax.opType !== 'Softmax' || !isDefaultDomain(softmax.domain)) continue;
    const scores = findScores(editor, softmax.input[0]!, 0);
    if (!scores || seen.has(scores.qk)) continue; // a Softmax that is not over attention scores
    seen.add(scores.qk);
    try {
      blocks.push(matchBlock(editor, readers, softmax, scores.qk, scores.chain));
    } catch (e) {
      if (!(e instanceof Miss)) throw e;
      misses.push({ node: scores.qk, reason: e.message });
    }
  }
  return { blocks, misses };
}

const isConst = (editor: GraphEditor, name: string) => name === '' || editor.constant(name) !== undefined;

/** The activation × activation MatMul a Softmax's input comes from, through element-wise score ops. */
function findScores(editor: GraphEditor, tensor: string, depth: number): { qk: NodeProto; chain: NodeProto[] } | undefined {
  const p = editor.producer(tensor);
  if (!p || !isDefaultDomain(p.domain)) return undefined;
  if (p.opType === 'MatMul') return p.input.every((i) => !isConst(editor, i)) ? { qk: p, chain: [] } : undefined;
  if (!SCORE_OPS.has(p.opType) || depth > 6) return undefined;
  for (const i of p.input) {
    if (isConst(editor, i)) continue;
    const found = findScores(editor, i, depth + 1);
    if (found) return { qk: found.qk, chain: [...found.chain, p] };
  }
  return undefined;
}

function matchBlock(editor: GraphEditor, readers: Map<string, NodeProto[]>, softmax: NodeProto, qk: NodeProto, chain: NodeProto[]): HeadBlock {
  const axis = intAttr(softmax, 'axis', -1);
  if (axis !== -1 && axis !== 3) throw new Miss(`Softmax "${softmax.name}" normalizes axis ${axis}, not the key axis`);
  for (const n of chain) {
    for (const i of n.input) {
      const t = i ? editor.constant(i) : undefined;
      // A constant with a head axis (per-head bias such as ALiBi) would need slicing too.
      if (t && t.dims.length >= 3 && t.dims[t.dims.length - 3]! > 1) throw new Miss(`${n.opType} "${n.name}" adds per-head constant "${i}" [${t.dims.join(', ')}]`);
    }
  }
  const q = traceProjection(editor, qk.input[0]!, [0, 2, 1, 3]);
  const k = traceProjection(editor, qk.input[1]!, [0, 2, 3, 1]);
  const probs = forward(readers, softmax.output[0]!, PROB_OPS);
  const av = probs.next;
  if (av.opType !== 'MatMul' || av.input[0] !== probs.tensor) throw new Miss(`attention probabilities of Softmax "${softmax.name}" go to ${av.opType} "${av.name}", not to a MatMul with V`);
  const v = traceProjection(editor, av.input[1]!, [0, 2, 1, 3]);
  if (new Set([q.matmul, k.matmul, v.matmul]).size < 3) throw new Miss(`Q, K and V of "${qk.name}" do not come from three separate projections`);
  const merge = forward(readers, av.output[0]!, new Set(['Transpose']));
  const mergePerm = composePerms(merge.passed.map(perm));
  if (merge.next.opType !== 'Reshape' || !sameArray(mergePerm, [0, 2, 1, 3])) throw new Miss(`the output of "${av.name}" is not transposed back to [batch, seq, heads, dim] and reshaped`);
  const mergeReshape = merge.next;
  const mergeShape = shapeOf(editor, mergeReshape);
  const outNode = forward(readers, mergeReshape.output[0]!, new Set()).next;
  const outWeight = outNode.opType === 'MatMul' && outNode.input[0] === mergeReshape.output[0] ? headTensor(editor, outNode.input[1]!) : undefined;
  if (!outWeight || outWeight.dims.length !== 2) throw new Miss(`merged heads of "${qk.name}" do not go to an output-projection MatMul with a constant 2-D weight`);

  const qh = headsOf(q, qk);
  const kh = headsOf(k, qk);
  const vh = headsOf(v, qk);
  if (qh.h !== kh.h || qh.h !== vh.h || qh.d !== kh.d) throw new Miss(`Q, K and V of "${qk.name}" disagree on heads: ${qh.h}×${qh.d}, ${kh.h}×${kh.d}, ${vh.h}×${vh.d}`);
  const heads = qh.h;
  const dv = vh.d;
  if (mergeShape.length !== 3 || (mergeShape[2] !== -1 && mergeShape[2] !== heads * dv)) throw new Miss(`merge Reshape "${mergeReshape.name}" has shape [${mergeShape.join(', ')}], not [·, ·, ${heads * dv}]`);
  if (outWeight.dims[0] !== heads * dv) throw new Miss(`output projection "${outNode.name}" has ${outWeight.dims[0]} input rows, not ${heads}·${dv}`);

  const nodes = [...q.nodes, ...k.nodes, ...v.nodes, qk, ...chain, softmax, ...probs.passed, av, ...merge.passed, mergeReshape, outNode];
  const inside = new Set(nodes);
  const internal = nodes.filter((n) => n !== outNode).flatMap((n) => n.output.filter((o) => o));
  for (const t of internal) {
    if (editor.isGraphOutput(t)) throw new Miss(`attention tensor "${t}" is a graph output, so its shape cannot change`);
    const other = (readers.get(t) ?? []).find((c) => !inside.has(c));
    if (other) throw new Miss(`attention tensor "${t}" is also read by ${other.opType} "${other.name}" outside the block`);
  }

  return {
    node: qk,
    heads,
    nodes,
    columns: [q, k, v].map((p) => ({ weight: p.weight, groups: [{ offset: 0, headDim: p === v ? dv : qh.d }] })),
    out: { node: outNode, weight: outWeight, headDim: dv },
    apply(ed: GraphEditor, keep: number[]) {
      const newShapes = new Map<string, string>();
      const reshapeTo = (node: NodeProto, values: number[]) => {
        const key = `${node.input[1]}\u0000${values.join(',')}`;
        if (!newShapes.has(key)) newShapes.set(key, ed.addInitializer(int64Tensor(ed.uniqueName(`${node.input[1]}_h${keep.length}`), values)));
        node.input[1] = newShapes.get(key)!;
      };
      for (const p of [q, k, v]) {
        const d = p === v ? dv : qh.d;
        p.matmul.input[1] = addSliced(ed, p.weight, keepColumns(p.weight, [{ offset: 0, headDim: d }], keep));
        if (p.bias) p.bias.node.input[p.bias.index] = addSliced(ed, p.bias.tensor, keepColumns(p.bias.tensor, [{ offset: 0, headDim: d }], keep));
        reshapeTo(p.reshape, [p.shape[0]!, p.shape[1]!, keep.length, d]);
      }
      reshapeTo(mergeReshape, [mergeShape[0]!, mergeShape[1]!, mergeShape[2] === -1 ? -1 : keep.length * dv]);
      outNode.input[1] = addSliced(ed, outWeight, keepRows(outWeight, dv, keep));
      renameTensors(ed, internal);
    },
  };
}

/** Follows single-consumer nodes of the given op types forward from `tensor`; `next` is the first other node. */
function forward(readers: Map<string, NodeProto[]>, tensor: string, through: ReadonlySet<string>): { passed: NodeProto[]; next: NodeProto; tensor: string } {
  const passed: NodeProto[] = [];
  let cur = tensor;
  for (;;) {
    const cons = readers.get(cur) ?? [];
    if (cons.length !== 1) throw new Miss(`attention tensor "${cur}" is read by ${cons.length} nodes, expected 1`);
    const n = cons[0]!;
    if (!through.has(n.opType) || !isDefaultDomain(n.domain)) return { passed, next: n, tensor: cur };
    passed.push(n);
    cur = n.output[0]!;
  }
}

/** The non-constant input of a Mul/Div by a constant scalar (a scale commutes with slicing heads), else undefined. */
function scalarOperand(editor: GraphEditor, n: NodeProto): string | undefined {
  if (!isDefaultDomain(n.domain) || (n.opType !== 'Mul' && n.opType !== 'Div') || n.input.length !== 2) return undefined;
  const scalar = (i: number) => {
    const t = editor.constant(n.input[i]!);
    return t !== undefined && t.dims.reduce((a, b) => a * b, 1) === 1;
  };
  if (scalar(1) && !scalar(0)) return n.input[0];
  if (n.opType === 'Mul' && scalar(0) && !scalar(1)) return n.input[1];
  return undefined;
}

/** Walks back from a Q/K/V input of the attention MatMuls to its Reshape and projection MatMul. */
function traceProjection(editor: GraphEditor, tensor: string, expectedPerm: number[]): Projection {
  const nodes: NodeProto[] = [];
  const perms: number[][] = [];
  let cur = tensor;
  let p = editor.producer(cur);
  for (; p && p.opType !== 'Reshape'; p = editor.producer(cur)) {
    const scaled = scalarOperand(editor, p);
    if (p.opType === 'Transpose' && isDefaultDomain(p.domain)) perms.unshift(perm(p));
    else if (!scaled) throw new Miss(`attention input "${cur}" comes from ${p.opType} "${p.name}", not from a Reshape into heads`);
    nodes.unshift(p);
    cur = scaled ?? p.input[0]!;
  }
  if (!p) throw new Miss(`attention input "${cur}" is not produced by a node (a graph input), so its projection is unknown`);
  if (!sameArray(composePerms(perms), expectedPerm)) throw new Miss(`Transposes before "${tensor}" compose to [${composePerms(perms).join(',')}], expected [${expectedPerm.join(',')}]`);
  const reshape = p;
  nodes.unshift(reshape);
  const shape = shapeOf(editor, reshape);
  let bias: Projection['bias'];
  cur = reshape.input[0]!;
  for (p = editor.producer(cur); p && !(p.opType === 'MatMul' && isDefaultDomain(p.domain)); p = editor.producer(cur)) {
    const scaled = scalarOperand(editor, p);
    const bi = p.opType === 'Add' && !bias ? p.input.findIndex((i) => editor.constant(i)?.dims.length === 1) : -1;
    if (!scaled && bi < 0) throw new Miss(`Reshape "${reshape.name}" reads "${cur}" from ${p.opType} "${p.name}", not from a projection MatMul (+ bias)`);
    if (bi >= 0) {
      const tensor = headTensor(editor, p.input[bi]!);
      if (!tensor) throw new Miss(`bias "${p.input[bi]}" of Add "${p.name}" is not a float constant`);
      bias = { node: p, index: bi, tensor };
    }
    nodes.unshift(p);
    cur = scaled ?? p.input[1 - bi]!;
  }
  if (!p) throw new Miss(`Reshape "${reshape.name}" does not read a projection MatMul`);
  const weight = headTensor(editor, p.input[1]!);
  if (!weight || weight.dims.length !== 2) throw new Miss(`projection "${p.name}" has no constant 2-D float weight ("${p.input[1]}")`);
  if (bias && bias.tensor.dims[0] !== weight.dims[1]) throw new Miss(`bias of projection "${p.name}" does not match its ${weight.dims[1]} columns`);
  nodes.unshift(p);
  return { matmul: p, weight, ...(bias ? { bias } : {}), reshape, shape, nodes };
}

function shapeOf(editor: GraphEditor, reshape: NodeProto): number[] {
  const name = reshape.input[1]!;
  const t = editor.constant(name);
  if (!t) {
    const from = editor.producer(name);
    throw new Miss(`the head count of Reshape "${reshape.name}" is computed at run time (shape "${name}" comes from ${from ? `${from.opType} "${from.name}"` : 'a graph input'})`);
  }
  return int64Values(t);
}

function headsOf(p: Projection, qk: NodeProto): { h: number; d: number } {
  const n = p.weight.dims[1]!;
  if (p.shape.length !== 4) throw new Miss(`Reshape "${p.reshape.name}" of "${qk.name}" has shape [${p.shape.join(', ')}], not [batch, seq, heads, dim]`);
  let [, , h, d] = p.shape as [number, number, number, number];
  if (h === -1 && d > 0) h = n / d;
  if (d === -1 && h > 0) d = n / h;
  if (!(h > 0 && d > 0 && Number.isInteger(h) && Number.isInteger(d) && h * d === n)) throw new Miss(`Reshape "${p.reshape.name}" shape [${p.shape.join(', ')}] does not split ${n} columns into heads`);
  return { h, d };
}

function int64Values(t: TensorProto): number[] {
  if (t.dataType !== DataType.INT64) throw new Miss(`shape "${t.name}" is not INT64`);
  if (t.rawData) {
    const view = new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength);
    return Array.from({ length: t.rawData.byteLength / 8 }, (_, i) => Number(view.getBigInt64(i * 8, true)));
  }
  return (t.int64Data ?? []).map(Number);
}

function int64Tensor(name: string, values: number[]): TensorProto {
  return tensorFromInt64(name, [values.length], values.map((v) => BigInt(v)));
}

function perm(n: NodeProto): number[] {
  return n.attribute.find((a) => a.name === 'perm')?.ints?.map(Number) ?? [3, 2, 1, 0];
}

/** The permutation of applying `perms` in order: out axis i reads axis p1[p2[…[i]]]. */
function composePerms(perms: number[][]): number[] {
  return perms.reduce((acc, p) => p.map((i) => acc[i]!), [0, 1, 2, 3]);
}

const sameArray = (a: number[], b: number[]) => a.length === b.length && a.every((x, i) => x === b[i]);
