/**
 * What every head-pruning rewrite shares, whatever graph style the attention block is written in:
 * the weights split into per-head column groups (Q/K/V projections) and row groups (output
 * projection), ranking heads by weight norm, slicing tensors down to the kept heads, and giving new
 * names to tensors whose shape changed (error analysis pairs tensors by name, so a name must keep
 * its shape). The graph-style matchers (heads-unfused.ts, heads-contrib.ts) describe a block as a
 * `HeadBlock`; prune-heads.ts decides which heads go.
 */
import { GraphEditor, subgraphs } from '../onnx/graph-edit';
import { DataType, GraphProto, NodeProto } from '../onnx/types';
import { tensorFromFloats } from '../onnx/tensor-data';

/** Columns of one projection that belong to the heads, head after head: [offset + h·headDim, offset + (h+1)·headDim). */
export interface ColumnGroup {
  /** First column of head 0. */
  offset: number;
  /** Columns per head. */
  headDim: number;
}

/** A constant float tensor read once, with where its heads lie. */
export interface HeadTensor {
  /** Name of the tensor in the graph. */
  name: string;
  /** FLOAT or FLOAT16: the pruned copy is written in the same element type. */
  type: DataType;
  /** fp32 values, row-major. */
  values: Float32Array;
  /** [rows, cols] for a matrix, [cols] for a bias. */
  dims: number[];
}

/** One attention block that can lose heads, as a graph-style matcher found it. */
export interface HeadBlock {
  /** The node that names the block in reports: the attention node, or the Q·Kᵀ MatMul of an unfused block. */
  node: NodeProto;
  /** Heads the block has now. */
  heads: number;
  /** Every node of the block, for the user's exclusions. */
  nodes: NodeProto[];
  /** Q/K/V weights [K, N] with the column groups of their heads (one group each, or three in a fused QKV weight). */
  columns: Array<{ weight: HeadTensor; groups: ColumnGroup[] }>;
  /** The output projection: weight [heads · headDim, out] whose rows are grouped by head. */
  out: { node: NodeProto; weight: HeadTensor; headDim: number };
  /** Rewrites the graph so only the heads in `keep` (ascending) remain. */
  apply(editor: GraphEditor, keep: number[]): void;
}

/** A block the matcher recognised but cannot rewrite, or the reason nothing matched. */
export interface BlockMiss {
  node: NodeProto;
  reason: string;
}

/** Thrown inside a matcher when a block does not fit; the message is the reason shown to the user. */
export class Miss extends Error {}

export function headTensor(editor: GraphEditor, name: string): HeadTensor | undefined {
  const t = editor.constant(name);
  const values = editor.constantFloat(name);
  if (!t || !values) return undefined;
  return { name, type: t.dataType, values, dims: [...t.dims] };
}

/**
 * Head importance from the weights alone: the L2 norm of each head's Q, K and V columns together
 * with its rows of the output projection. Biases are left out (a head whose weights are all zero
 * contributes nothing however large its biases, because its output rows are zero too).
 */
export function headImportance(block: HeadBlock): Float64Array {
  const sq = new Float64Array(block.heads);
  for (const { weight, groups } of block.columns) {
    const [rows, cols] = weight.dims as [number, number];
    for (const g of groups) {
      for (let h = 0; h < block.heads; h++) {
        for (let r = 0; r < rows; r++) {
          const base = r * cols + g.offset + h * g.headDim;
          for (let c = 0; c < g.headDim; c++) sq[h] += weight.values[base + c]! ** 2;
        }
      }
    }
  }
  const { weight, headDim } = block.out;
  const cols = weight.dims[1]!;
  for (let h = 0; h < block.heads; h++) {
    const from = h * headDim * cols;
    for (let i = from; i < from + headDim * cols; i++) sq[h] += weight.values[i]! ** 2;
  }
  return sq.map(Math.sqrt);
}

/** The columns (last axis) of a [rows, cols] or [cols] tensor that belong to the kept heads. */
export function keepColumns(t: HeadTensor, groups: ColumnGroup[], keep: number[]): { dims: number[]; values: Float32Array } {
  const cols = t.dims[t.dims.length - 1]!;
  const rows = t.values.length / cols;
  const picked: number[] = [];
  for (const g of groups) for (const h of keep) for (let c = 0; c < g.headDim; c++) picked.push(g.offset + h * g.headDim + c);
  const out = new Float32Array(rows * picked.length);
  for (let r = 0; r < rows; r++) for (let j = 0; j < picked.length; j++) out[r * picked.length + j] = t.values[r * cols + picked[j]!]!;
  return { dims: t.dims.length === 1 ? [picked.length] : [rows, picked.length], values: out };
}

/** The rows of a [heads · headDim, cols] matrix that belong to the kept heads. */
export function keepRows(t: HeadTensor, headDim: number, keep: number[]): { dims: number[]; values: Float32Array } {
  const cols = t.dims[1]!;
  const out = new Float32Array(keep.length * headDim * cols);
  keep.forEach((h, i) => out.set(t.values.subarray(h * headDim * cols, (h + 1) * headDim * cols), i * headDim * cols));
  return { dims: [keep.length * headDim, cols], values: out };
}

/** Writes a sliced copy of `t` under a new name (its shape changed) and returns that name. */
export function addSliced(editor: GraphEditor, t: HeadTensor, sliced: { dims: number[]; values: Float32Array }): string {
  return editor.addInitializer(tensorFromFloats(editor.uniqueName(`${t.name}_pruned`), sliced.dims, sliced.values, t.type));
}

/** The output-projection weight as it now stands: removed heads' rows zeroed, for weight histograms and SQNR. */
export function zeroedRows(t: HeadTensor, headDim: number, keep: number[]): Float32Array {
  const cols = t.dims[1]!;
  const out = new Float32Array(t.values.length);
  for (const h of keep) out.set(t.values.subarray(h * headDim * cols, (h + 1) * headDim * cols), h * headDim * cols);
  return out;
}

/**
 * Renames tensors whose shape changed, in every node of the main graph, and drops their stale
 * value_info. Returns old → new.
 */
export function renameTensors(editor: GraphEditor, names: Iterable<string>): Map<string, string> {
  const map = new Map<string, string>();
  for (const n of names) if (n) map.set(n, editor.uniqueName(`${n}_pruned`));
  const g = editor.graph;
  for (const node of g.node) {
    node.input = node.input.map((i) => map.get(i) ?? i);
    node.output = node.output.map((o) => map.get(o) ?? o);
  }
  g.valueInfo = g.valueInfo.filter((v) => !map.has(v.name));
  return map;
}

/**
 * A consumer index built once: GraphEditor.consumers scans the whole graph on each call, which is
 * quadratic over a matcher's many look-ups. Subgraph reads count as reads by the node that owns them.
 */
export function consumerIndex(g: GraphProto): Map<string, NodeProto[]> {
  const index = new Map<string, NodeProto[]>();
  const add = (name: string, n: NodeProto) => {
    const list = index.get(name);
    if (!list) index.set(name, [n]);
    else if (!list.includes(n)) list.push(n);
  };
  const visit = (sub: GraphProto, owner: NodeProto) => {
    for (const n of sub.node) {
      for (const i of n.input) add(i, owner);
      for (const a of n.attribute) for (const s of subgraphs(a)) visit(s, owner);
    }
  };
  for (const n of g.node) {
    for (const i of n.input) if (i) add(i, n);
    for (const a of n.attribute) for (const s of subgraphs(a)) visit(s, n);
  }
  return index;
}
