/**
 * Dynamic INT8 quantization: weights become int8 once, activations are quantized to uint8 at run
 * time from their own min/max, so no calibration data is needed. u8×s8 is the combination ONNX
 * Runtime's fast CPU kernels take (MatMulInteger u8×s8 is ~5× faster than s8×s8 on AVX2).
 *
 * Each target `y = x · W` becomes the standard-ONNX pattern ORT's own quantizer writes:
 *
 *     DynamicQuantizeLinear(x) → MatMulInteger(x_q, W_q, x_zp, W_zp) → Cast → Mul(·, x_scale · W_scale)
 *
 * with one DynamicQuantizeLinear per activation tensor (q/k/v projections share theirs). ORT at
 * level "all" fuses a target whose quantized input has one reader into com.microsoft
 * DynamicQuantizeMatMul and the others into MatMulIntegerToFloat, folding a following bias Add in.
 * Writing com.microsoft DynamicQuantizeMatMul directly was measured against this on builtin:tiny-bert
 * (batch 8, seq 128, 2 threads, CPU, level all; 60 runs per variant, order rotated each round with
 * 30 ms idle between runs so the previous session's spinning threads do not bill the next):
 * p50 / p10 per-tensor: fp32 75.4 / 65.5 ms, this pattern 55.1 / 45.4 ms, one DynamicQuantizeLinear
 * per target 57.0 / 47.7 ms, direct DynamicQuantizeMatMul 55.7 / 50.0 ms; per-channel: 67.2 / 48.8,
 * 68.0 / 49.9, 69.2 / 54.6 (fp32 86.1 / 69.0). The spellings tie within the noise (ORT's CSE merges
 * per-target DynamicQuantizeLinears into this very graph), so the standard one wins on the rest: it
 * is plain ONNX (onnx.checker verifies it, other runtimes run it) and it absorbs bias Adds.
 *
 * Fused com.microsoft Attention nodes become com.microsoft QAttention (the QKV weight in int8, the
 * input through the same DynamicQuantizeLinear), as ORT's quantizer does.
 */
import { cloneModel, GraphEditor, makeNode } from '../onnx/graph-edit';
import { DataType, ModelProto, NodeProto } from '../onnx/types';
import { tensorFromFloat32 } from '../onnx/tensor-data';
import { throwIfAborted } from '../util/abort';
import { dequantizeInt8, INT8_LIMIT, int8Tensor, int8WeightScales, quantizeInt8, REDUCED_INT8_LIMIT } from './quant-math';
import { findWeightTargets, gemmTail, WeightTarget } from './targets';
import { quantizeEmbeddingTables } from './int8-gather';
import { ChangedNode, PassContext, PassResult, SkippedNode } from './types';

/**
 * How the int8 product is spelled: `standard` (the default, described above), `per-target` (one
 * DynamicQuantizeLinear per target) or `contrib` (com.microsoft DynamicQuantizeMatMul written
 * directly). The alternatives exist for the benchmark that chose the default.
 */
export type DynamicPattern = 'standard' | 'per-target' | 'contrib';

export interface Int8DynamicOptions {
  /** One scale per output channel (column of the [K, N] weight) instead of one per tensor. */
  perChannel: boolean;
  /** Also store constant embedding tables read by Gather in int8 (default true). */
  embeddings?: boolean;
  /**
   * 7-bit weights ([-64, 64]) so that u8×s8 kernels on x86 without VNNI cannot saturate. Default:
   * on for per-channel, off for per-tensor (see `defaultReduceRange`).
   */
  reduceRange?: boolean;
  pattern?: DynamicPattern;
}

/**
 * Whether weights default to 7 bits. ORT's AVX2 u8×s8 kernels add pairs of u8·s8 products in
 * saturating int16. Per tensor, only the few weights near the tensor's maximum reach ±127 and
 * saturation is rare; per channel, every column has a ±127 and it is common. Measured on this
 * 2-core AVX2 machine (dynamic, batch 4, seq 64, SQNR of the final hidden state vs fp32):
 * tiny-bert per-tensor 30.1 dB at 8 bits vs 25.7 at 7; per-channel 25.2 dB at 8 bits vs 28.5 at 7
 * (tiny-gpt: 28.9 / 25.2 and 25.3 / 27.4). On VNNI machines full 8 bits would win in both cases.
 * Weights with many values at the maximum (a QKV weight of ±1 in ORT's gpt2_attention test model)
 * saturate even per tensor (13.9 dB vs 65.8 with 7 bits): pass `reduceRange: true` for those.
 */
export function defaultReduceRange(perChannel: boolean): boolean {
  return perChannel;
}

/** An int8 weight written into the graph, with the names of its parameters. */
export interface Int8Weight {
  /** INT8 initializer, [K, N]. */
  q: string;
  /** FLOAT scales: scalar (per tensor) or [N]. */
  scale: string;
  /** INT8 zero points (all 0) shaped like `scale`. */
  zeroPoint: string;
  /** The fp32 values the int8 weight stands for, [K, N]. */
  after: Float32Array;
  /** Number of scales. */
  scales: number;
  /** Whether the weight uses the 7-bit range. */
  reduced: boolean;
}

/**
 * Writes the int8 form of a target's weight, once per weight (and layout): targets that share a
 * weight share its int8 copy too, so the file does not grow back.
 */
export function addInt8Weight(editor: GraphEditor, cache: Map<string, Int8Weight>, t: WeightTarget, perChannel: boolean, reduceRange: boolean): Int8Weight {
  const key = `${t.weightName}\u0000${t.transB ? 'T' : ''}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const limit = reduceRange ? REDUCED_INT8_LIMIT : INT8_LIMIT;
  const scales = int8WeightScales(t.weight, t.k, t.n, perChannel, limit);
  const q = quantizeInt8(t.weight, t.k, t.n, scales, limit);
  const dims = perChannel ? [t.n] : [];
  const base = t.weightName;
  const w: Int8Weight = {
    q: editor.addInitializer(int8Tensor(editor.uniqueName(`${base}_int8`), [t.k, t.n], q)),
    scale: editor.addInitializer(tensorFromFloat32(editor.uniqueName(`${base}_scale`), dims, scales)),
    zeroPoint: editor.addInitializer(int8Tensor(editor.uniqueName(`${base}_zero_point`), dims, new Int8Array(scales.length))),
    after: dequantizeInt8(q, t.k, t.n, scales),
    scales: scales.length,
    reduced: reduceRange,
  };
  cache.set(key, w);
  return w;
}

/** `int8 per-channel (256 scales)` or `int8 per-tensor`, with `7-bit range` when reduced. */
export function weightDetail(w: Int8Weight): string {
  if (w.scales > 1) return `int8 per-channel (${w.scales} scales${w.reduced ? ', 7-bit range' : ''})`;
  return `int8 per-tensor${w.reduced ? ' (7-bit range)' : ''}`;
}

/** DynamicQuantizeLinear arrived in opset 11 (MatMulInteger in 10). */
const MIN_OPSET = 11;

/** Names of an activation quantized to uint8: the codes, the scale and the zero point. */
export interface QuantizedActivation {
  q: string;
  scale: string;
  zeroPoint: string;
}

export async function quantizeInt8Dynamic(model: ModelProto, opts: Int8DynamicOptions, ctx: PassContext): Promise<PassResult> {
  const pattern = opts.pattern ?? 'standard';
  const editor = new GraphEditor(cloneModel(model));
  const { targets, skipped } = findWeightTargets(editor, ctx, ['MatMul', 'Gemm', 'Attention']);
  const changed: ChangedNode[] = [];
  const usable = screenTargets(targets, skipped, editor.opset('') ?? 1);
  const weights = new Map<string, Int8Weight>();
  const activations = new Map<string, QuantizedActivation>();
  for (const [i, t] of usable.entries()) {
    throwIfAborted(ctx.signal, 'int8 dynamic quantization');
    ctx.onProgress?.(i / usable.length, `quantizing ${t.node.name}`);
    const w = addInt8Weight(editor, weights, t, opts.perChannel, opts.reduceRange ?? defaultReduceRange(opts.perChannel));
    const out = t.node.output[0]!;
    const product = t.kind === 'Gemm' ? editor.uniqueName(`${out}_int8_product`) : out;
    const name = (label: string) => editor.uniqueName(`${t.node.name}/${label}`);
    const tensor = (label: string) => editor.uniqueName(`${t.node.name}_${label}`);
    const nodes: NodeProto[] = [];
    // One DynamicQuantizeLinear per activation, written with its first reader (graph order is topological).
    const quantize = (shared: boolean): QuantizedActivation => {
      let xq = shared ? activations.get(t.input) : undefined;
      if (!xq) {
        xq = { q: tensor('x_uint8'), scale: tensor('x_scale'), zeroPoint: tensor('x_zero_point') };
        nodes.push(makeNode('DynamicQuantizeLinear', [t.input], [xq.q, xq.scale, xq.zeroPoint], name('DynamicQuantizeLinear')));
        if (shared) activations.set(t.input, xq);
      }
      return xq;
    };
    if (t.kind === 'Attention') {
      nodes.push(qAttention(editor, t, w, quantize(true)));
    } else if (pattern === 'contrib') {
      nodes.push(makeNode('DynamicQuantizeMatMul', [t.input, w.q, w.scale, w.zeroPoint], [product], name('DynamicQuantizeMatMul'), {}, MS_DOMAIN));
      editor.ensureOpset(MS_DOMAIN, 1);
    } else {
      const xq = quantize(pattern === 'standard');
      const [acc, accF, scale] = [tensor('int32'), tensor('int32_float'), tensor('scale')];
      nodes.push(
        makeNode('MatMulInteger', [xq.q, w.q, xq.zeroPoint, w.zeroPoint], [acc], name('MatMulInteger')),
        makeNode('Cast', [acc], [accF], name('Cast'), { to: DataType.FLOAT }),
        // Operand order matters: ORT's MatMulIntegerToFloat fusion reads (x_scale, W_scale) from this Mul.
        makeNode('Mul', [xq.scale, w.scale], [scale], name('scale')),
        makeNode('Mul', [accF, scale], [product], name('rescale')),
      );
    }
    if (t.kind === 'Gemm') nodes.push(...gemmTail(editor, t, product));
    editor.replaceNode(t.node, nodes);
    changed.push({ node: t.node.name, opType: t.node.opType, output: out, weight: { name: t.weightName, before: t.weight, after: w.after }, detail: weightDetail(w) });
  }
  if (opts.embeddings !== false && (editor.opset('') ?? 1) >= MIN_OPSET) changed.push(...quantizeEmbeddingTables(editor, ctx, skipped));
  editor.removeUnusedConstants();
  ctx.onProgress?.(1, 'int8 dynamic quantization done');
  return { model: editor.model, changed, skipped, notes: attentionNotes(editor) };
}

const MS_DOMAIN = 'com.microsoft';

/** Attributes com.microsoft Attention shares with QAttention; any other one has no int8 counterpart. */
const QATTENTION_ATTRS = new Set(['num_heads', 'unidirectional', 'mask_filter_value', 'scale', 'do_rotary', 'past_present_share_buffer']);

/**
 * com.microsoft QAttention for a fused Attention node: the same inputs (mask, past) and attributes,
 * with the activation as uint8 codes and the QKV weight as int8 (per column allowed).
 */
export function qAttention(editor: GraphEditor, t: WeightTarget, w: Int8Weight, xq: QuantizedActivation): NodeProto {
  const i = t.node.input;
  const inputs = [xq.q, w.q, i[2] ?? '', xq.scale, w.scale, i[3] ?? '', xq.zeroPoint, w.zeroPoint, i[4] ?? ''];
  while (inputs.at(-1) === '') inputs.pop();
  const node = makeNode('QAttention', inputs, [...t.node.output], editor.uniqueName(`${t.node.name}/QAttention`), {}, MS_DOMAIN);
  node.attribute = t.node.attribute.map((a) => ({ ...a }));
  editor.ensureOpset(MS_DOMAIN, 1);
  return node;
}

/** Why an Attention node cannot become QAttention, if it cannot. */
function attentionBlocker(node: NodeProto): string | undefined {
  const extra = node.input.slice(5).filter((x) => x !== '');
  if (extra.length > 0) return `input "${extra[0]}" (relative position bias or past length) has no QAttention counterpart`;
  const attr = node.attribute.find((a) => !QATTENTION_ATTRS.has(a.name));
  if (attr) return `attribute "${attr.name}" has no QAttention counterpart`;
  if (!node.input[2]) return 'QAttention needs the QKV bias input';
  return undefined;
}

/** A note for fused Attention nodes left in fp32 (skipped ones carry their own reason). */
export function attentionNotes(editor: GraphEditor): string[] {
  const left = editor.graph.node.filter((n) => n.domain === MS_DOMAIN && n.opType === 'Attention').length;
  return left > 0 ? [`${left} fused com.microsoft Attention node(s) stay fp32 (their QKV weights are not quantized)`] : [];
}

/** Drops targets the int8 kernels cannot take, recording why. */
export function screenTargets(targets: WeightTarget[], skipped: SkippedNode[], opset: number, minOpset = MIN_OPSET): WeightTarget[] {
  return targets.filter((t) => {
    let reason: string | undefined;
    if (opset < minOpset) reason = `the model imports default opset ${opset}; the int8 ops need opset ${minOpset} or later`;
    // ORT's int8 kernels take fp32 activations; an fp16 graph would need casts around every product.
    else if (t.weightType !== DataType.FLOAT) reason = `weight "${t.weightName}" is ${DataType[t.weightType]}; int8 quantization takes fp32 models`;
    else if (t.kind === 'Attention') reason = attentionBlocker(t.node);
    if (reason) skipped.push({ node: t.node.name, opType: t.node.opType, reason });
    return !reason;
  });
}
