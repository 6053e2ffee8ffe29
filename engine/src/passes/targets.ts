/**
 * Finding the weights a pass can rewrite: MatMul and Gemm nodes whose second input is a constant
 * 2-D float matrix, and com.microsoft Attention nodes with their fused QKV weight. Everything that
 * matches by op type but cannot be rewritten is reported with the reason, never dropped silently.
 */
import { GraphEditor, floatAttr, intAttr, isDefaultDomain, makeNode } from '../onnx/graph-edit';
import { DataType, NodeProto } from '../onnx/types';
import { tensorFromFloats } from '../onnx/tensor-data';
import { PassContext, SkippedNode } from './types';

export type TargetKind = 'MatMul' | 'Gemm' | 'Attention';

/** A node with a constant weight, normalized so that the node computes `x · W` with W of shape [K, N]. */
export interface WeightTarget {
  node: NodeProto;
  kind: TargetKind;
  /** Name of the weight tensor in the graph. */
  weightName: string;
  /** Element type the weight is stored in (FLOAT or FLOAT16). */
  weightType: DataType;
  /** Weight values as [K, N], row-major (Gemm with transB=1 is transposed into this layout). */
  weight: Float32Array;
  /** Input (reduction) dimension. */
  k: number;
  /** Output dimension. */
  n: number;
  /** The activation input (`x`). */
  input: string;
  /** Gemm only: whether the stored weight is [N, K]. */
  transB?: boolean;
}

export interface TargetSearch {
  targets: WeightTarget[];
  skipped: SkippedNode[];
}

const FLOAT_TYPES = new Set([DataType.FLOAT, DataType.FLOAT16]);

/**
 * Collects the rewritable weighted nodes of the main graph, in graph order. `kinds` limits the op
 * types (a pass that has no kernel for fused Attention asks for MatMul and Gemm only). Nodes the
 * user excluded, weights fed at run time and non-2-D or non-float weights are skipped with a reason.
 */
export function findWeightTargets(editor: GraphEditor, ctx: PassContext, kinds: readonly TargetKind[]): TargetSearch {
  const targets: WeightTarget[] = [];
  const skipped: SkippedNode[] = [];
  const skip = (node: NodeProto, reason: string) => skipped.push({ node: node.name, opType: node.opType, reason });
  for (const node of editor.graph.node) {
    const kind = targetKind(node);
    if (!kind || !kinds.includes(kind)) continue;
    if (ctx.exclude.has(node.name)) {
      skip(node, 'excluded by the user (kept in fp32)');
      continue;
    }
    const weightName = node.input[1] ?? '';
    if (editor.isGraphInput(weightName)) {
      skip(node, `weight "${weightName}" is a graph input, so its value is not known until run time`);
      continue;
    }
    const t = editor.constant(weightName);
    if (!t) continue; // activation × activation (attention scores): nothing to rewrite, nothing lost
    if (!FLOAT_TYPES.has(t.dataType)) {
      skip(node, `weight "${weightName}" has element type ${DataType[t.dataType] ?? t.dataType}, not float`);
      continue;
    }
    if (t.dims.length !== 2) {
      skip(node, `weight "${weightName}" has shape [${t.dims.join(', ')}]; only 2-D weights are rewritten`);
      continue;
    }
    if (kind === 'Gemm' && intAttr(node, 'transA', 0) !== 0) {
      skip(node, 'Gemm with transA=1 is not rewritten');
      continue;
    }
    const transB = kind === 'Gemm' && intAttr(node, 'transB', 0) === 1;
    const stored = editor.constantFloat(weightName)!;
    const [rows, cols] = t.dims as [number, number];
    const weight = transB ? transpose(stored, rows, cols) : stored;
    const [k, n] = transB ? [cols, rows] : [rows, cols];
    targets.push({ node, kind, weightName, weightType: t.dataType, weight, k, n, input: node.input[0]!, ...(kind === 'Gemm' ? { transB } : {}) });
  }
  // A weight that another node also reads (a tied embedding read by Gather and the LM head) stays
  // in the graph for that reader; the rewritten node gets its own copy, so the file shrinks less.
  return { targets, skipped };
}

function targetKind(node: NodeProto): TargetKind | undefined {
  if (isDefaultDomain(node.domain) && (node.opType === 'MatMul' || node.opType === 'Gemm')) return node.opType;
  if (node.domain === 'com.microsoft' && node.opType === 'Attention') return 'Attention';
  return undefined;
}

export function transpose(values: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c]!;
  return out;
}

/**
 * What a Gemm adds after `x · W`: `alpha` scaling and `beta · C`. Given the name of a tensor that
 * holds `x · W` (from a rewritten product), returns the nodes that finish the Gemm into its
 * original output name. MatMul targets need no tail: the product is written to the output directly.
 */
export function gemmTail(editor: GraphEditor, target: WeightTarget, product: string): NodeProto[] {
  const node = target.node;
  const out = node.output[0]!;
  const alpha = floatAttr(node, 'alpha', 1);
  const beta = floatAttr(node, 'beta', 1);
  const bias = node.input[2];
  const nodes: NodeProto[] = [];
  let current = product;
  const step = (opType: string, other: string, last: boolean) => {
    const output = last ? out : editor.uniqueName(`${node.name}_${opType.toLowerCase()}`);
    nodes.push(makeNode(opType, [current, other], [output], editor.uniqueName(`${node.name}/${opType.toLowerCase()}`)));
    current = output;
  };
  // The tail runs in the Gemm's own float type: an fp16 Gemm needs fp16 scalars.
  const scalar = (label: string, v: number) =>
    editor.addInitializer(tensorFromFloats(editor.uniqueName(`${node.name}/${label}`), [], new Float32Array([v]), target.weightType));
  if (alpha !== 1) step('Mul', scalar('alpha', alpha), !bias);
  if (bias) {
    let c = bias;
    if (beta !== 1) {
      c = editor.uniqueName(`${node.name}_beta_c`);
      nodes.push(makeNode('Mul', [bias, scalar('beta', beta)], [c], editor.uniqueName(`${node.name}/beta`)));
    }
    step('Add', c, true);
  }
  if (nodes.length === 0) nodes.push(makeNode('Identity', [current], [out], editor.uniqueName(`${node.name}/out`)));
  return nodes;
}
