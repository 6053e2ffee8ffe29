/**
 * Weight-only INT4 quantization: every MatMul/Gemm with a constant [K, N] weight becomes a
 * com.microsoft MatMulNBits (4-bit codes, one scale and optionally one zero point per block of
 * `blockSize` inputs per output column), which ORT's CPU provider runs without dequantizing the
 * weight up front. Weights are rounded to nearest (`rtn`) or with GPTQ (`gptq`), which needs the
 * layer's input activations from calibration runs to build each layer's Hessian.
 *
 * Activations stay float: this is a size (and memory-bandwidth) win, not integer arithmetic.
 */
import { cloneModel, GraphEditor, makeNode, tensorFromBytes } from '../onnx/graph-edit';
import { toHalfBits, fromHalfBits } from '../onnx/float16';
import { DataType, ModelProto } from '../onnx/types';
import { tensorFromFloats } from '../onnx/tensor-data';
import { throwIfAborted } from '../util/abort';
import { choices, TwbError } from '../util/errors';
import { addToHessian, finishHessian, GptqFactor, gptqQuantize, newHessian, prepareGptq } from './gptq';
import { dequantizeInt4, Int4Blocks, INT4_BLOCK_SIZES, isValidBlockSize, quantizeInt4, ScaleRounding } from './int4-math';
import { findWeightTargets, gemmTail, WeightTarget } from './targets';
import { CapturedTensor, ChangedNode, PassContext, PassResult } from './types';

export interface Int4Options {
  /** `rtn`: round to nearest; `gptq`: Hessian-aware rounding from calibration activations. */
  method: 'rtn' | 'gptq';
  /** Inputs per quantization block (power of two ≥ 16); smaller blocks: more scales, less error. */
  blockSize: number;
  /** Symmetric blocks (no zero points, zero point 8) instead of ORT's default asymmetric ones. */
  symmetric?: boolean;
}

const METHODS = ['rtn', 'gptq'];
/** Smallest K worth packing: MatMulNBits' smallest block. */
const MIN_K = INT4_BLOCK_SIZES[0];

export async function quantizeInt4Weight(model: ModelProto, opts: Int4Options, ctx: PassContext): Promise<PassResult> {
  if (!METHODS.includes(opts.method)) throw new TwbError('usage', `unknown INT4 method "${opts.method}"; ${choices(METHODS)}`);
  if (!isValidBlockSize(opts.blockSize)) {
    throw new TwbError('usage', `INT4 block size ${opts.blockSize} is not one ONNX Runtime's MatMulNBits supports; ${choices(INT4_BLOCK_SIZES.map(String))}`);
  }
  if (opts.method === 'gptq' && !ctx.capture) throw new TwbError('usage', 'GPTQ needs calibration data: pass --calibration FILE');
  const symmetric = opts.symmetric ?? false;
  const copy = cloneModel(model);
  const editor = new GraphEditor(copy);
  const found = findWeightTargets(editor, ctx, ['MatMul', 'Gemm']);
  const skipped = found.skipped;
  // MatMulNBits pads K up to a whole block; below the smallest block the padded codes, scale and
  // zero point take more bytes than the fp32 weight did, so such tiny layers stay fp32.
  const targets: WeightTarget[] = [];
  for (const t of found.targets) {
    if (t.k >= MIN_K) targets.push(t);
    else skipped.push({ node: t.node.name, opType: t.node.opType, reason: `input dimension K = ${t.k} is below MatMulNBits' smallest block (${MIN_K}); packed it would be larger than fp32` });
  }
  const notes: string[] = [];
  const attention = copy.graph.node.filter((n) => n.domain === 'com.microsoft' && n.opType === 'Attention').length;
  if (attention > 0) notes.push(`${attention} fused Attention node(s) keep fp32 QKV weights: MatMulNBits has no fused-attention form`);

  const captured = opts.method === 'gptq' ? await captureInputs(targets, ctx) : undefined;
  if (captured) {
    const rows = (t: WeightTarget) => (captured.get(t.input)?.data ?? []).reduce((s, d) => s + d.length, 0) / t.k;
    // The paper quantizes layer by layer on the already-quantized model's activations; one capture
    // of the fp32 model is cheaper and what the pass contract offers.
    notes.push(`GPTQ Hessians come from the fp32 model's activations (${Math.min(...targets.map(rows))}+ calibration rows per layer)`);
    const few = targets.filter((t) => rows(t) < t.k).length;
    if (few > 0) notes.push(`${few} layer(s) saw fewer calibration rows than inputs (K): GPTQ may overfit the calibration data; give more`);
  }
  // Readers of one weight (ALBERT-style sharing) get one quantization: GPTQ minimizes their summed
  // output error, whose Hessian is the sum of their inputs' Hessians.
  const groups = new Map<string, WeightTarget[]>();
  for (const t of targets) {
    const key = `${t.weightName}|${t.transB ?? false}`;
    groups.set(key, [...(groups.get(key) ?? []), t]);
  }
  const factors = new Map<string, GptqFactor>();
  const lastUse = new Map<string, number>();
  [...groups.values()].forEach((g, i) => lastUse.set(inputsKey(g), i));

  const changed: ChangedNode[] = [];
  for (const [i, group] of [...groups.values()].entries()) {
    throwIfAborted(ctx.signal, 'INT4 quantization');
    const t = group[0]!;
    ctx.onProgress?.(i / groups.size, `int4 ${opts.method} ${t.node.name || t.weightName}`);
    const round: ScaleRounding = t.weightType === DataType.FLOAT16 ? (x) => fromHalfBits(toHalfBits(x)) : Math.fround;
    let blocks: Int4Blocks;
    let after: Float32Array;
    if (captured) {
      const key = inputsKey(group);
      let factor = factors.get(key);
      if (!factor) {
        factor = prepareGptq(hessianOf(captured, group), t.k);
        factors.set(key, factor);
      }
      ({ blocks, dequantized: after } = gptqQuantize(t.weight, t.k, t.n, factor, { blockSize: opts.blockSize, symmetric, round }));
      // Factors are K² float64s: drop each once its last reader is done.
      if (lastUse.get(key) === i) factors.delete(key);
    } else {
      blocks = quantizeInt4(t.weight, t.k, t.n, { blockSize: opts.blockSize, symmetric, round });
      after = dequantizeInt4(blocks);
    }
    const weights = addWeights(editor, t, blocks);
    for (const target of group) {
      rewrite(editor, target, blocks, weights);
      changed.push({
        node: target.node.name,
        opType: target.node.opType,
        output: target.node.output[0]!,
        weight: { name: target.weightName, before: target.weight, after },
        detail: `int4 block ${opts.blockSize}, ${opts.method}, ${symmetric ? 'symmetric' : 'asymmetric'}, ${t.n * blocks.nBlocks} scales`,
      });
    }
  }
  ctx.onProgress?.(1, 'int4 done');
  if (changed.length > 0) editor.ensureOpset('com.microsoft', 1);
  editor.removeUnusedConstants();
  return { model: copy, changed, skipped, notes };
}

/** The distinct activations a group of targets reads, as a cache key for their GPTQ factor. */
function inputsKey(group: WeightTarget[]): string {
  return [...new Set(group.map((t) => t.input))].sort().join('\n');
}

/** The MatMulNBits initializers (B, scales, zero points) of one quantized weight. */
function addWeights(editor: GraphEditor, t: WeightTarget, q: Int4Blocks): string[] {
  const base = t.weightName;
  const b = editor.addInitializer(tensorFromBytes(editor.uniqueName(`${base}_Q4`), DataType.UINT8, [t.n, q.nBlocks, q.blockSize / 2], q.packed));
  const scales = editor.addInitializer(tensorFromFloats(editor.uniqueName(`${base}_scales`), [q.scales.length], q.scales, t.weightType));
  if (!q.zeroPoints) return [b, scales];
  return [b, scales, editor.addInitializer(tensorFromBytes(editor.uniqueName(`${base}_zp`), DataType.UINT8, [q.zeroPoints.length], q.zeroPoints))];
}

/** Replaces one target by MatMulNBits writing the node's original output (through the Gemm tail). */
function rewrite(editor: GraphEditor, t: WeightTarget, q: Int4Blocks, weights: string[]): void {
  const out = t.kind === 'Gemm' ? editor.uniqueName(`${t.node.output[0]}_q4`) : t.node.output[0]!;
  const attrs = { K: t.k, N: t.n, bits: 4, block_size: q.blockSize };
  const node = makeNode('MatMulNBits', [t.input, ...weights], [out], editor.uniqueName(`${t.node.name || t.weightName}_Q4`), attrs, 'com.microsoft');
  editor.replaceNode(t.node, t.kind === 'Gemm' ? [node, ...gemmTail(editor, t, out)] : [node]);
}

/** One capture of every distinct activation the targets read. */
async function captureInputs(targets: WeightTarget[], ctx: PassContext): Promise<Map<string, CapturedTensor>> {
  const names = [...new Set(targets.map((t) => t.input))];
  if (names.length === 0) return new Map();
  ctx.onProgress?.(0, `capturing ${names.length} activation(s) for GPTQ`);
  const captured = await ctx.capture!(names);
  for (const name of names) {
    if (!captured.has(name)) throw new TwbError('internal', `calibration capture did not return tensor "${name}"`);
  }
  return captured;
}

/** H = 2·XᵀX/rows over the group's inputs, each captured batch reshaped from [..., K] to rows × K. */
function hessianOf(captured: Map<string, CapturedTensor>, group: WeightTarget[]): Float64Array {
  const t = group[0]!;
  const h = newHessian(t.k);
  for (const input of new Set(group.map((g) => g.input))) {
    const x = captured.get(input)!;
    for (const [b, data] of x.data.entries()) {
      const dims = x.dims[b] ?? [];
      if (dims[dims.length - 1] !== t.k) {
        throw new TwbError('internal', `activation "${input}" of weight "${t.weightName}" has shape [${dims.join(', ')}]; expected last dimension ${t.k}`);
      }
      addToHessian(h, data, data.length / t.k, t.k);
    }
  }
  if (h.rows === 0) throw new TwbError('usage', `no calibration rows reached node "${t.node.name}" (input "${t.input}")`);
  return finishHessian(h);
}
