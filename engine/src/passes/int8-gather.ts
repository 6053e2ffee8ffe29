/**
 * INT8 embedding tables: a Gather that looks rows up in a constant [rows, width] float table reads
 * them from an int8 copy instead and dequantizes only the rows it gathered. The tables are a large
 * part of a small transformer's file (tiny-bert: 1 MiB of 13), and ONNX Runtime's own dynamic
 * quantizer treats them the same way, so its "4× smaller" includes them.
 */
import { GraphEditor, intAttr, isDefaultDomain, makeNode } from '../onnx/graph-edit';
import { DataType, NodeProto } from '../onnx/types';
import { tensorFromFloat32 } from '../onnx/tensor-data';
import { dequantizeInt8, INT8_LIMIT, int8Tensor, int8WeightScales, quantizeInt8 } from './quant-math';
import { ChangedNode, PassContext, SkippedNode } from './types';

/** Rewrites every eligible Gather in place; returns what changed. Per-tensor symmetric: a lookup has no accumulator to saturate, so the full 8 bits are used. */
export function quantizeEmbeddingTables(editor: GraphEditor, ctx: PassContext, skipped: SkippedNode[]): ChangedNode[] {
  const changed: ChangedNode[] = [];
  const gathers = editor.graph.node.filter((n) => n.opType === 'Gather' && isDefaultDomain(n.domain));
  for (const node of gathers) {
    const table = node.input[0] ?? '';
    const t = editor.constant(table);
    if (!t || t.dataType !== DataType.FLOAT || t.dims.length !== 2 || intAttr(node, 'axis', 0) !== 0) continue;
    if (ctx.exclude.has(node.name)) {
      skipped.push({ node: node.name, opType: node.opType, reason: 'excluded by the user (kept in fp32)' });
      continue;
    }
    const [rows, width] = t.dims as [number, number];
    const values = editor.constantFloat(table)!;
    // One scale for the whole table: DequantizeLinear after the lookup then needs no axis.
    const scales = int8WeightScales(values, rows, width, false, INT8_LIMIT);
    const q = quantizeInt8(values, rows, width, scales, INT8_LIMIT);
    const qName = editor.addInitializer(int8Tensor(editor.uniqueName(`${table}_int8`), [rows, width], q));
    const scale = editor.addInitializer(tensorFromFloat32(editor.uniqueName(`${table}_scale`), [], scales));
    const zero = editor.addInitializer(int8Tensor(editor.uniqueName(`${table}_zero_point`), [], new Int8Array(1)));
    const out = node.output[0]!;
    const gathered = editor.uniqueName(`${out}_int8`);
    const nodes: NodeProto[] = [
      makeNode('Gather', [qName, node.input[1]!], [gathered], editor.uniqueName(`${node.name}/int8`), { axis: 0 }),
      makeNode('DequantizeLinear', [gathered, scale, zero], [out], editor.uniqueName(`${node.name}/dequantize`)),
    ];
    editor.replaceNode(node, nodes);
    changed.push({
      node: node.name,
      opType: node.opType,
      output: out,
      weight: { name: table, before: values, after: dequantizeInt8(q, rows, width, scales) },
      detail: 'int8 per-tensor embedding table',
    });
  }
  return changed;
}
