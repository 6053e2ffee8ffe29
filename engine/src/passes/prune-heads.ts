/**
 * Attention-head pruning that physically removes heads, so the pruned model does less work: the
 * Q/K/V projections lose the removed heads' columns, the output projection their rows, and the
 * attention itself runs over fewer heads. Unlike zeroing weights, this shrinks every MatMul of the
 * block and speeds up any execution provider.
 *
 * Heads are ranked per block by a weight-only importance (the L2 norm of the head's Q, K and V
 * columns and its output-projection rows), so no calibration data is needed; each block loses
 * round(amount × heads) of its least important heads (halves round up, ties go to the lower
 * index) and keeps at least one. Every block gets its own shape constants, so blocks may keep
 * different head counts.
 *
 * Graph styles (see the matchers): standard-op attention with constant Reshape shapes
 * (heads-unfused.ts), com.microsoft Attention and MultiHeadAttention (heads-contrib.ts). Tensors
 * whose shape changes get new names; the output projection's result keeps its name, so error
 * analysis compares each block's output in the two models.
 */
import { cloneModel, GraphEditor, subgraphs } from '../onnx/graph-edit';
import { GraphProto, ModelProto, ValueInfoProto } from '../onnx/types';
import { throwIfAborted } from '../util/abort';
import { TwbError } from '../util/errors';
import { consumerIndex, headImportance, HeadBlock, zeroedRows } from './heads-common';
import { findContribBlocks } from './heads-contrib';
import { findUnfusedBlocks } from './heads-unfused';
import { ChangedNode, PassContext, PassResult, SkippedNode } from './types';

export interface PruneHeadsOptions {
  /** Fraction of each block's heads to remove, 0 ≤ amount < 1. */
  amount: number;
  /**
   * Also prune fused blocks that carry KV-cache state (GPT-2 `past_i`/`present_i`), updating the
   * declared head axis of those graph inputs and outputs, which keep their names. Off by default:
   * the pruned model then needs differently shaped cache feeds than the original.
   */
  resizeState?: boolean;
}

export async function pruneHeads(model: ModelProto, opts: PruneHeadsOptions, ctx: PassContext): Promise<PassResult> {
  const { amount } = opts;
  if (typeof amount !== 'number' || !(amount >= 0 && amount < 1)) {
    throw new TwbError('usage', `head pruning amount must be a fraction of heads in [0, 1), got ${String(amount)}`);
  }
  const out = cloneModel(model);
  const editor = new GraphEditor(out);
  const readers = consumerIndex(editor.graph);
  const contrib = findContribBlocks(editor, readers, opts.resizeState === true);
  const unfused = findUnfusedBlocks(editor, readers);
  const position = new Map(editor.graph.node.map((n, i) => [n, i] as const));
  const blocks = [...contrib.blocks, ...unfused.blocks].sort((a, b) => position.get(a.node)! - position.get(b.node)!);
  const skipped: SkippedNode[] = [...contrib.misses, ...unfused.misses]
    .sort((a, b) => position.get(a.node)! - position.get(b.node)!)
    .map((m) => ({ node: m.node.name, opType: m.node.opType, reason: m.reason }));
  const changed: ChangedNode[] = [];
  const untouched: string[] = [];

  for (const [i, block] of blocks.entries()) {
    throwIfAborted(ctx.signal, 'head pruning');
    ctx.onProgress?.(i / blocks.length, `pruning heads of ${block.node.name}`);
    const excluded = block.nodes.find((n) => ctx.exclude.has(n.name));
    if (excluded) {
      skipped.push({ node: block.node.name, opType: block.node.opType, reason: `excluded by the user (node "${excluded.name}")` });
      continue;
    }
    const remove = Math.min(block.heads - 1, Math.round(amount * block.heads));
    if (remove === 0) {
      untouched.push(`${block.node.name} (${block.heads} heads)`);
      continue;
    }
    const keep = headsToKeep(block, remove);
    block.apply(editor, keep);
    const w = block.out.weight;
    changed.push({
      node: block.node.name,
      opType: block.node.opType,
      output: block.out.node.output[0]!,
      weight: { name: w.name, before: w.values, after: zeroedRows(w, block.out.headDim, keep) },
      detail: `${remove} of ${block.heads} heads removed (kept ${keep.join(', ')})`,
    });
  }
  ctx.onProgress?.(1, 'heads pruned');
  editor.removeUnusedConstants();

  const notes = [
    'heads are ranked by weight norm (Q, K, V columns and output-projection rows); removed heads are deleted from the graph, so every attention MatMul of a pruned block shrinks',
  ];
  if (blocks.length === 0 && skipped.length === 0) notes.push('no attention blocks were found (standard-op attention with constant Reshape shapes, com.microsoft Attention or MultiHeadAttention)');
  if (untouched.length > 0) notes.push(`amount ${amount} removes no head of ${untouched.length} block(s): round(amount × heads) is 0 for ${untouched.slice(0, 3).join(', ')}${untouched.length > 3 ? ', …' : ''}`);
  const missed = skipped.length;
  if (missed > 0) notes.push(`${missed} attention block(s) were not pruned; the skipped list says why`);
  const nested = editor.graph.node.filter((n) => n.attribute.some((a) => subgraphs(a).some(hasAttention)));
  if (nested.length > 0) notes.push(`attention inside the subgraphs of ${nested.map((n) => `${n.opType} "${n.name}"`).join(', ')} is not pruned: only the main graph is rewritten`);
  notes.push(...resizedInterface(model.graph.input, out.graph.input, 'input'), ...resizedInterface(model.graph.output, out.graph.output, 'output'));
  return { model: out, changed, skipped, notes };
}

function hasAttention(g: GraphProto): boolean {
  return g.node.some((n) => n.opType === 'Softmax' || n.opType.endsWith('Attention') || n.attribute.some((a) => subgraphs(a).some(hasAttention)));
}

/** The heads that stay, ascending: all but the `remove` least important (ties: lower index goes first). */
function headsToKeep(block: HeadBlock, remove: number): number[] {
  const importance = headImportance(block);
  const order = Array.from({ length: block.heads }, (_, h) => h).sort((a, b) => importance[a]! - importance[b]! || a - b);
  return order.slice(remove).sort((a, b) => a - b);
}

/** Notes for graph inputs/outputs that kept their names but changed their declared shape (KV-cache state). */
function resizedInterface(before: ValueInfoProto[], after: ValueInfoProto[], kind: string): string[] {
  const dims = (v: ValueInfoProto | undefined) => (v?.type?.tensorType?.shape ?? []).map((d) => d.dimValue ?? d.dimParam ?? '?').join(', ');
  return after.flatMap((v) => {
    const was = dims(before.find((b) => b.name === v.name));
    const now = dims(v);
    return was !== now ? [`graph ${kind} "${v.name}" keeps its name but its declared shape changes from [${was}] to [${now}] (fewer heads in the KV cache)`] : [];
  });
}
