/**
 * Static (calibrated) INT8 quantization in QDQ form: each MatMul/Gemm target `y = x · W` becomes
 *
 *     x → QuantizeLinear(s_x, zp_x) → DequantizeLinear → MatMul ← DequantizeLinear(axis) ← W_int8
 *
 * with uint8 activations whose range comes from calibration runs of the original model (one
 * capture call for all targets), and int8 symmetric weights stored as INT8 initializers. QDQ keeps
 * the graph plain ONNX; ONNX Runtime at level "all" runs the DQ → MatMul units as
 * MatMulIntegerToFloat (or QLinearMatMul where the output is quantized too). Gemm targets become a
 * QDQ Gemm computing x·W (ORT: QGemm) finished by `gemmTail`; fused com.microsoft Attention nodes,
 * which have no QDQ form in ORT, become QAttention fed by the calibrated QuantizeLinear.
 *
 * Known gap: ORT's level-1 MatMulAddFusion turns a MatMul target with a 2-D input whose output
 * feeds a bias Add (a pooler or classifier head) into an fp32 Gemm before its QDQ fusions run, so
 * such heads compute in fp32 on dequantized weights: same numbers, no int8 speed-up. (The pass
 * cannot write those as Gemm: it does not know the input's rank.)
  */
import { AttributeType, GraphProto, ModelProto, NodeProto } from '../onnx/types';
import { cloneModel, GraphEditor, intAttr, isDefaultDomain, makeNode, subgraphs } from '../onnx/graph-edit';
import { tensorFromFloat32 } from '../onnx/tensor-data';
import { throwIfAborted } from '../util/abort';
import { TwbError } from '../util/errors';
import { CalibrationMethod, calibrateRange } from './calibration';
import { addInt8Weight, attentionNotes, defaultReduceRange, Int8Weight, qAttention, screenTargets, weightDetail } from './int8-dynamic';
import { uint8Params, uint8Tensor } from './quant-math';
import { findWeightTargets, gemmTail } from './targets';
import { ChangedNode, PassContext, PassResult } from './types';

export interface Int8StaticOptions {
  /** One weight scale per output channel; needs DequantizeLinear's `axis` (opset 13). */
  perChannel: boolean;
  calibrate: CalibrationMethod;
  /** Percent of activation values `percentile` keeps. Default 99.999. */
  percentile?: number;
  /** 7-bit weights (see int8-dynamic's `defaultReduceRange`). Default: on for per-channel. */
  reduceRange?: boolean;
}

/** QuantizeLinear/DequantizeLinear arrived in opset 10; their `axis` in 13. */
const MIN_OPSET = 10;
const AXIS_OPSET = 13;

export async function quantizeInt8Static(model: ModelProto, opts: Int8StaticOptions, ctx: PassContext): Promise<PassResult> {
  if (!ctx.capture) throw new TwbError('usage', 'int8-static needs calibration data: pass --calibration FILE');
  const editor = new GraphEditor(cloneModel(model));
  const { targets, skipped } = findWeightTargets(editor, ctx, ['MatMul', 'Gemm', 'Attention']);
  const notes: string[] = [];
  const opset = editor.opset('') ?? 1;
  let usable = screenTargets(targets, skipped, opset, MIN_OPSET);
  const perChannel = opts.perChannel && usable.length > 0 && perChannelAllowed(editor, opset, notes);

  const inputs = [...new Set(usable.map((t) => t.input))];
  ctx.onProgress?.(0, `capturing ${inputs.length} activations on the calibration inputs`);
  const captured = inputs.length > 0 ? await ctx.capture(inputs) : new Map();
  throwIfAborted(ctx.signal, 'int8 static quantization');

  const ranges = new Map<string, { scale: string; zeroPoint: string; lo: number; hi: number }>();
  for (const [i, name] of inputs.entries()) {
    throwIfAborted(ctx.signal, 'int8 static quantization');
    ctx.onProgress?.(0.5 + (0.4 * i) / inputs.length, `calibrating "${name}" (${opts.calibrate})`);
    const values = captured.get(name);
    if (!values || values.data.length === 0) continue;
    const { lo, hi } = calibrateRange(values, opts.calibrate, { percentile: opts.percentile });
    const p = uint8Params(lo, hi);
    ranges.set(name, {
      scale: editor.addInitializer(tensorFromFloat32(editor.uniqueName(`${name}_scale`), [], new Float32Array([p.scale]))),
      zeroPoint: editor.addInitializer(uint8Tensor(editor.uniqueName(`${name}_zero_point`), [], new Uint8Array([p.zeroPoint]))),
      lo,
      hi,
    });
  }
  usable = usable.filter((t) => {
    if (ranges.has(t.input)) return true;
    skipped.push({ node: t.node.name, opType: t.node.opType, reason: `the calibration runs returned no values for its input "${t.input}"` });
    return false;
  });

  const reduceRange = opts.reduceRange ?? defaultReduceRange(perChannel);
  const weights = new Map<string, Int8Weight>();
  const weightDq = new Map<Int8Weight, string>();
  const quantized = new Map<string, string>();
  const changed: ChangedNode[] = [];
  for (const t of usable) {
    throwIfAborted(ctx.signal, 'int8 static quantization');
    const r = ranges.get(t.input)!;
    const nodes: NodeProto[] = [];
    const name = (label: string) => editor.uniqueName(`${t.node.name}/${label}`);
    // One QuantizeLinear per activation, written with its first reader (graph order is topological).
    let xq = quantized.get(t.input);
    if (!xq) {
      xq = editor.uniqueName(`${t.input}_quantized`);
      nodes.push(makeNode('QuantizeLinear', [t.input, r.scale, r.zeroPoint], [xq], editor.uniqueName(`${t.input}/QuantizeLinear`)));
      quantized.set(t.input, xq);
    }
    const w = addInt8Weight(editor, weights, t, perChannel, reduceRange);
    const out = t.node.output[0]!;
    if (t.kind === 'Attention') {
      // ORT has no QDQ form of Attention: QAttention takes the calibrated uint8 codes directly.
      nodes.push(qAttention(editor, t, w, { q: xq, scale: r.scale, zeroPoint: r.zeroPoint }));
    } else {
      const xdq = editor.uniqueName(`${t.node.name}_input_dequantized`);
      nodes.push(makeNode('DequantizeLinear', [xq, r.scale, r.zeroPoint], [xdq], name('input/DequantizeLinear')));
      let wdq = weightDq.get(w);
      if (!wdq) {
        wdq = editor.uniqueName(`${t.weightName}_dequantized`);
        nodes.push(makeNode('DequantizeLinear', [w.q, w.scale, w.zeroPoint], [wdq], name('weight/DequantizeLinear'), perChannel ? { axis: 1 } : {}));
        weightDq.set(w, wdq);
      }
      const product = t.kind === 'Gemm' ? editor.uniqueName(`${out}_int8_product`) : out;
      // A Gemm target stays a (plain x·W) Gemm: ORT's QDQ selector makes it QGemm, where a MatMul
      // with a 2-D input would first be merged with the bias Add into an fp32 Gemm (see above).
      nodes.push(makeNode(t.kind, [xdq, wdq], [product], name(t.kind)));
      if (t.kind === 'Gemm') nodes.push(...gemmTail(editor, t, product));
    }
    editor.replaceNode(t.node, nodes);
    const detail = `${weightDetail(w)}, uint8 activations in [${fmt(r.lo)}, ${fmt(r.hi)}] (${opts.calibrate})`;
    changed.push({ node: t.node.name, opType: t.node.opType, output: out, weight: { name: t.weightName, before: t.weight, after: w.after }, detail });
  }
  editor.removeUnusedConstants();
  ctx.onProgress?.(1, 'int8 static quantization done');
  return { model: editor.model, changed, skipped, notes: [...notes, ...attentionNotes(editor)] };
}

/**
 * Per-channel weights need DequantizeLinear-13. Below 13 the default opset is raised when no node
 * of the graph changes meaning across the raise; otherwise weights fall back to per tensor.
 */
function perChannelAllowed(editor: GraphEditor, opset: number, notes: string[]): boolean {
  if (opset >= AXIS_OPSET) return true;
  const blockers = opsetRaiseBlockers(editor.graph, opset, AXIS_OPSET);
  if (blockers.length > 0) {
    const list = blockers.slice(0, 3).join(', ') + (blockers.length > 3 ? `, and ${blockers.length - 3} more` : '');
    notes.push(`per-channel weights need opset ${AXIS_OPSET} (DequantizeLinear axis) but the model imports opset ${opset} and ${list} would change meaning at ${AXIS_OPSET}; weights are quantized per tensor`);
    return false;
  }
  for (const o of editor.model.opsetImport) if (!o.domain || o.domain === 'ai.onnx') o.version = AXIS_OPSET;
  // Opset 13 is defined from IR version 7 on.
  if (editor.model.irVersion < 7) editor.model.irVersion = 7;
  notes.push(`default opset raised from ${opset} to ${AXIS_OPSET} for per-channel DequantizeLinear`);
  return true;
}

function fmt(v: number): string {
  return Number(v.toPrecision(4)).toString();
}

/**
 * Default-domain ops whose meaning changed in some opset version: the version and whether a given
 * node is affected (most changes turned an attribute into an input, so a node is affected when it
 * still carries the attribute). Covers the changes from opset 10 to 13, the range a raise to 13
 * crosses here (the pass needs opset 10 to begin with).
 */
const BREAKING: Record<string, { at: number; affects: (n: NodeProto) => boolean }> = {
  Clip: { at: 11, affects: (n) => hasAttr(n, 'min') || hasAttr(n, 'max') },
  Pad: { at: 11, affects: () => true },
  Resize: { at: 11, affects: () => true },
  Scatter: { at: 11, affects: () => true }, // removed in favour of ScatterElements
  Dropout: { at: 12, affects: (n) => hasAttr(n, 'ratio') },
  Unsqueeze: { at: 13, affects: (n) => hasAttr(n, 'axes') },
  Squeeze: { at: 13, affects: (n) => hasAttr(n, 'axes') },
  Split: { at: 13, affects: (n) => hasAttr(n, 'split') },
  ReduceSum: { at: 13, affects: (n) => hasAttr(n, 'axes') },
  // Before 13 these flatten to 2-D at `axis` (default 1); the same only for the last axis.
  Softmax: { at: 13, affects: (n) => intAttr(n, 'axis', 1) !== -1 },
  LogSoftmax: { at: 13, affects: (n) => intAttr(n, 'axis', 1) !== -1 },
  Hardmax: { at: 13, affects: (n) => intAttr(n, 'axis', 1) !== -1 },
};

/** Names (`"node" (Op)`) of nodes, subgraphs included, that would change meaning if the default opset went from `from` to `to`. */
export function opsetRaiseBlockers(graph: GraphProto, from: number, to: number): string[] {
  const found: string[] = [];
  const visit = (g: GraphProto) => {
    for (const n of g.node) {
      const rule = isDefaultDomain(n.domain) ? BREAKING[n.opType] : undefined;
      if (rule && rule.at > from && rule.at <= to && rule.affects(n)) found.push(`"${n.name}" (${n.opType})`);
      for (const a of n.attribute) for (const sub of subgraphs(a)) visit(sub);
    }
  };
  visit(graph);
  return found;
}

function hasAttr(n: NodeProto, name: string): boolean {
  return n.attribute.some((a) => a.name === name && a.type !== AttributeType.UNDEFINED);
}
