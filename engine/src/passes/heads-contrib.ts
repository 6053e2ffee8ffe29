/**
 * Head pruning for ONNX Runtime's fused attention ops (com.microsoft domain):
 * - `Attention`: one fused weight [hidden, qh + kh + vh] whose Q, K and V column groups each hold
 *   the heads one after another, bias [qh + kh + vh], attribute `num_heads` (and
 *   `qkv_hidden_sizes` when the three widths differ). The kept heads' columns of each group stay,
 *   `num_heads` shrinks, and the rows of the MatMul reading the output (the output projection) are
 *   sliced. This is the rewrite of ORT's transformers_test_data attention_opt.onnx →
 *   pruned_attention_opt.onnx.
 * - `MultiHeadAttention` fed by three separate Q/K/V projection MatMuls: each projection's columns,
 *   the packed bias and the output projection are sliced the same way.
 *
 * KV-cache state (`past`/`present`, `past_key`/`present_key`…) has a head axis and is part of the
 * model's inputs and outputs. By default such blocks are skipped: the pruned model would no longer
 * accept the original's feeds, and the workbench compares the two models on the same inputs. With
 * `resizeState` the declared head dimension of those graph inputs/outputs is updated instead; they
 * keep their names, because callers feed and read them by name.
 */
import { GraphEditor, intAttr, isDefaultDomain } from '../onnx/graph-edit';
import { AttributeProto, AttributeType, NodeProto } from '../onnx/types';
import { BlockMiss, HeadBlock, HeadTensor, Miss, addSliced, headTensor, keepColumns, keepRows, renameTensors } from './heads-common';

export function findContribBlocks(editor: GraphEditor, readers: Map<string, NodeProto[]>, resizeState: boolean): { blocks: HeadBlock[]; misses: BlockMiss[] } {
  const blocks: HeadBlock[] = [];
  const misses: BlockMiss[] = [];
  for (const node of editor.graph.node) {
    if (node.domain !== 'com.microsoft' || !node.opType.endsWith('Attention')) continue;
    try {
      if (node.opType !== 'Attention' && node.opType !== 'MultiHeadAttention') throw new Miss(`head pruning rewrites com.microsoft Attention and MultiHeadAttention, not ${node.opType}`);
      blocks.push(node.opType === 'Attention' ? matchAttention(editor, readers, node, resizeState) : matchMha(editor, readers, node, resizeState));
    } catch (e) {
      if (!(e instanceof Miss)) throw e;
      misses.push({ node, reason: e.message });
    }
  }
  return { blocks, misses };
}

function matchAttention(editor: GraphEditor, readers: Map<string, NodeProto[]>, node: NodeProto, resizeState: boolean): HeadBlock {
  const wName = node.input[1] ?? '';
  if (editor.isGraphInput(wName)) throw new Miss(`weight "${wName}" is a graph input, so its value is not known until run time`);
  const weight = headTensor(editor, wName);
  if (!weight || weight.dims.length !== 2) throw new Miss(`weight "${wName}" is not a constant 2-D float tensor`);
  const bias = optionalTensor(editor, node.input[2]);
  const heads = numHeads(node);
  const sizes = node.attribute.find((a) => a.name === 'qkv_hidden_sizes')?.ints?.map(Number) ?? [1, 1, 1].map(() => weight.dims[1]! / 3);
  const [qh, kh, vh] = sizes as [number, number, number];
  if (qh + kh + vh !== weight.dims[1] || sizes.some((s) => !Number.isInteger(s / heads))) throw new Miss(`Q/K/V widths ${sizes.join('/')} do not split weight [${weight.dims.join(', ')}] into ${heads} heads`);
  if (node.input[5]) throw new Miss(`attention bias "${node.input[5]}" has a head axis that would need slicing too`);
  if (node.input.slice(7).some(Boolean) || node.output.slice(2).some(Boolean)) throw new Miss('it uses inputs or outputs beyond those this rewrite knows');
  const state = stateResizer(editor, readers, node, [node.input[4] ?? ''], [node.output[1] ?? ''], 2, heads, resizeState);
  const out = outProjection(editor, readers, node, vh);
  const groups = [
    { offset: 0, headDim: qh / heads },
    { offset: qh, headDim: kh / heads },
    { offset: qh + kh, headDim: vh / heads },
  ];
  return {
    node,
    heads,
    nodes: [node, out.node],
    columns: [{ weight, groups }],
    out: { node: out.node, weight: out.weight, headDim: vh / heads },
    apply(ed: GraphEditor, keep: number[]) {
      node.input[1] = addSliced(ed, weight, keepColumns(weight, groups, keep));
      if (bias) node.input[2] = addSliced(ed, bias, keepColumns(bias, groups, keep));
      setAttr(node, { name: 'num_heads', type: AttributeType.INT, i: BigInt(keep.length) });
      if (node.attribute.some((a) => a.name === 'qkv_hidden_sizes')) setAttr(node, { name: 'qkv_hidden_sizes', type: AttributeType.INTS, ints: groups.map((g) => BigInt(g.headDim * keep.length)) });
      out.node.input[1] = addSliced(ed, out.weight, keepRows(out.weight, vh / heads, keep));
      renameTensors(ed, [node.output[0]!]);
      state(keep.length);
    },
  };
}

function matchMha(editor: GraphEditor, readers: Map<string, NodeProto[]>, node: NodeProto, resizeState: boolean): HeadBlock {
  const [q, k, v] = [0, 1, 2].map((i) => node.input[i] ?? '');
  if (!k || !v) throw new Miss('query holds packed Q/K/V (no separate key and value inputs)');
  const projections = [q, k, v].map((t) => projection(editor, readers, node, t!));
  const heads = numHeads(node);
  const widths = projections.map((p) => p.weight.dims[1]!);
  if (widths.some((w) => !Number.isInteger(w / heads))) throw new Miss(`projection widths ${widths.join('/')} do not split into ${heads} heads`);
  const [qh, kh, vh] = widths as [number, number, number];
  const bias = optionalTensor(editor, node.input[3]);
  if (bias && bias.dims[0] !== qh + kh + vh) throw new Miss(`bias "${bias.name}" has ${bias.dims[0]} values, not ${qh + kh + vh}`);
  if (node.input[5]) throw new Miss(`attention bias "${node.input[5]}" has a head axis that would need slicing too`);
  if (node.output.slice(3).some(Boolean)) throw new Miss('it uses outputs beyond those this rewrite knows');
  const state = stateResizer(editor, readers, node, [node.input[6] ?? '', node.input[7] ?? ''], [node.output[1] ?? '', node.output[2] ?? ''], 1, heads, resizeState);
  const out = outProjection(editor, readers, node, vh);
  const dims = widths.map((w) => w / heads);
  return {
    node,
    heads,
    nodes: [...projections.map((p) => p.node), node, out.node],
    columns: projections.map((p, i) => ({ weight: p.weight, groups: [{ offset: 0, headDim: dims[i]! }] })),
    out: { node: out.node, weight: out.weight, headDim: vh / heads },
    apply(ed: GraphEditor, keep: number[]) {
      projections.forEach((p, i) => (p.node.input[1] = addSliced(ed, p.weight, keepColumns(p.weight, [{ offset: 0, headDim: dims[i]! }], keep))));
      const groups = [
        { offset: 0, headDim: dims[0]! },
        { offset: qh, headDim: dims[1]! },
        { offset: qh + kh, headDim: dims[2]! },
      ];
      if (bias) node.input[3] = addSliced(ed, bias, keepColumns(bias, groups, keep));
      setAttr(node, { name: 'num_heads', type: AttributeType.INT, i: BigInt(keep.length) });
      out.node.input[1] = addSliced(ed, out.weight, keepRows(out.weight, vh / heads, keep));
      renameTensors(ed, [q!, k, v, node.output[0]!]);
      state(keep.length);
    },
  };
}

function numHeads(node: NodeProto): number {
  const heads = intAttr(node, 'num_heads', 0);
  if (heads <= 0) throw new Miss('it has no num_heads attribute');
  return heads;
}

function optionalTensor(editor: GraphEditor, name: string | undefined): HeadTensor | undefined {
  if (!name) return undefined;
  const t = headTensor(editor, name);
  if (!t || t.dims.length !== 1) throw new Miss(`bias "${name}" is not a constant 1-D float tensor`);
  return t;
}

/** The Q, K or V projection MatMul feeding a MultiHeadAttention input, read by nothing else. */
function projection(editor: GraphEditor, readers: Map<string, NodeProto[]>, node: NodeProto, tensor: string): { node: NodeProto; weight: HeadTensor } {
  const p = editor.producer(tensor);
  const weight = p?.opType === 'MatMul' && isDefaultDomain(p.domain) ? headTensor(editor, p.input[1]!) : undefined;
  if (!p || !weight || weight.dims.length !== 2) throw new Miss(`input "${tensor}" does not come from a MatMul with a constant 2-D float weight`);
  if ((readers.get(tensor) ?? []).some((r) => r !== node) || editor.isGraphOutput(tensor)) throw new Miss(`projection "${tensor}" is also read outside the attention node`);
  return { node: p, weight };
}

/** The one MatMul reading the attention output, with a constant weight of `rows` rows. */
function outProjection(editor: GraphEditor, readers: Map<string, NodeProto[]>, node: NodeProto, rows: number): { node: NodeProto; weight: HeadTensor } {
  const output = node.output[0]!;
  const cons = readers.get(output) ?? [];
  const mm = cons[0];
  const weight = cons.length === 1 && mm!.opType === 'MatMul' && isDefaultDomain(mm!.domain) && mm!.input[0] === output ? headTensor(editor, mm!.input[1]!) : undefined;
  if (!weight || editor.isGraphOutput(output)) throw new Miss(`output "${output}" is not read by exactly one output-projection MatMul with a constant weight`);
  if (weight.dims.length !== 2 || weight.dims[0] !== rows) throw new Miss(`output projection "${mm!.name}" has weight [${weight.dims.join(', ')}], expected ${rows} rows`);
  return { node: mm!, weight };
}

/**
 * Checks the block's KV-cache state tensors and returns what updates their declared head
 * dimension (axis `axis`) once the kept count is known.
 */
function stateResizer(editor: GraphEditor, readers: Map<string, NodeProto[]>, node: NodeProto, past: string[], present: string[], axis: number, heads: number, resize: boolean): (kept: number) => void {
  const names = [...past, ...present].filter(Boolean);
  if (names.length === 0) return () => {};
  if (!resize) throw new Miss(`its KV-cache state (${names.join(', ')}) has a head axis that is part of the model's inputs and outputs: pruning would change their shapes, so the pruned model could not take the original's inputs`);
  for (const p of past.filter(Boolean)) if (!editor.isGraphInput(p)) throw new Miss(`past state "${p}" is computed inside the graph`);
  for (const p of present.filter(Boolean)) {
    if ((readers.get(p) ?? []).some((r) => r !== node)) throw new Miss(`present state "${p}" is read inside the graph`);
  }
  const declared = [...editor.graph.input, ...editor.graph.output].filter((v) => names.includes(v.name));
  for (const v of declared) {
    const d = v.type?.tensorType?.shape?.[axis];
    if (d?.dimValue !== undefined && d.dimValue !== heads) throw new Miss(`state "${v.name}" declares ${d.dimValue} heads on axis ${axis}, not ${heads}`);
  }
  return (kept) => {
    for (const v of declared) {
      const tt = v.type?.tensorType;
      if (!tt?.shape || tt.shape.length <= axis) continue;
      // The value info's type is shared with the original model: replace it, never edit it.
      v.type = { ...v.type, tensorType: { ...tt, shape: tt.shape.map((d, i) => (i === axis ? { dimValue: kept } : d)) } };
    }
  };
}

function setAttr(node: NodeProto, attr: AttributeProto): void {
  node.attribute = [...node.attribute.filter((a) => a.name !== attr.name), attr];
}
