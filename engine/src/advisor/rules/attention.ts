/**
 * Attention-variant rule for long sequences: when the part of attention that grows with seq² (scores,
 * softmax, masking, context) takes a large share, a sub-quadratic variant cuts it by its FLOP ratio
 * at this length (analysis/transformer-flops.ts). What ONNX Runtime gains differs from training:
 * the ONNX export runs window and BigBird as dense attention under a mask (no saving), so inference
 * gets Linformer (encoders only), while tfjs training computes window attention block by block.
 * Dynamic convolution is linear in both runtimes but not suggested: its taps are element-wise
 * slices, multiplies and sums that a FLOP ratio misprices (measured on the 2-core machine: with
 * K = 31, tiny-gpt b8×s128 in ORT 379 ms against dense's 219 ms, where FLOPs predict a speedup; a
 * tfjs step of tiny-bert at seq 512 9.4 s against 4.9 s), so the decoder's quiet reason names it
 * with the command that measures it. A mixer run's fixed length goes into the advice's warnings
 * (`attentionWarnings`).
 */
import type { TransformerSpec } from '../../model/spec';
import type { AttentionVariant } from '../../model/variants';
import { formatAttention, validateAttention } from '../../model/variants';
import { builtinSpec } from '../../profile/model-source';
import { transformerFlops } from '../../analysis/transformer-flops';
import { inferenceFacts } from '../facts';
import { AdvisableDocument, amdahl, pct, Rule, RuleContext, RuleOutcome, suggest } from './types';

/** The seq²-growing part must take this share of time before a variant is worth its accuracy risk. */
export const MIN_QUADRATIC_SHARE = 0.2;

/** Largest power of two ≤ x (at least `min`). */
const pow2Below = (x: number, min: number) => Math.max(min, 2 ** Math.floor(Math.log2(Math.max(1, x))));

/** Attention FLOPs of `variant` over dense at this batch and length. */
export function attentionCostRatio(spec: TransformerSpec, variant: AttentionVariant, batch: number, seq: number): number {
  const dense = transformerFlops({ ...spec, attention: undefined }, batch, seq).attention;
  const other = transformerFlops({ ...spec, attention: variant }, batch, seq).attention;
  return dense > 0 ? other / dense : 1;
}

function specOf(model: string, attention: string | undefined, share: string | undefined): TransformerSpec | undefined {
  try {
    return builtinSpec(model, { attention, shareLayers: share });
  } catch {
    return undefined;
  }
}

function inferenceOutcome(ctx: RuleContext): RuleOutcome {
  if (ctx.doc.kind !== 'inference') return { quiet: 'reads inference and training runs' };
  const run = ctx.doc.run;
  const spec = specOf(run.model.source, run.config.attention, run.config.shareLayers);
  if (!spec) return { quiet: `attention variants are options of the built-in models (twb profile builtin:NAME --attention …); ${run.model.name} is a model file` };
  if (spec.attention && spec.attention.kind !== 'dense') return { quiet: `the run already uses ${formatAttention(spec.attention)} attention` };
  const f = inferenceFacts(run);
  if (f.quadraticShare < MIN_QUADRATIC_SHARE) return { quiet: `the seq²-growing part of attention takes ${pct(f.quadraticShare)} of kernel time at seq ${run.config.seq} (needs ≥ ${pct(MIN_QUADRATIC_SHARE)})` };
  if (spec.kind === 'decoder') {
    return { quiet: `${pct(f.quadraticShare)} of time grows with seq², but ONNX Runtime gains nothing from window or BigBird here (the export runs them as dense attention under a mask) and Linformer cannot be causal. Dynamic convolution is causal and linear in ONNX Runtime too, but not estimated here: its K taps are element-wise slices that FLOP counts do not price (measure it: twb profile ${run.model.source} --attention dynamic-conv:7); compare variants in training with twb sweep` };
  }
  const k = pow2Below(Math.min(run.config.seq, spec.maxSeq) / 4, 16);
  const variant: AttentionVariant = { kind: 'linformer', k };
  try {
    validateAttention({ ...spec, attention: variant });
  } catch (e) {
    return { quiet: `Linformer does not fit this model: ${(e as Error).message}` };
  }
  const ratio = attentionCostRatio(spec, variant, run.config.batch, run.config.seq);
  if (ratio >= 1) return { quiet: `at seq ${run.config.seq} Linformer (K = ${k}) costs as much as dense attention` };
  const speedup = amdahl([{ share: f.quadraticShare, speedup: 1 / ratio }]);
  return suggest(attentionRule, ctx, {
    title: `Use Linformer attention (K = ${k}) for seq ${run.config.seq}`,
    evidence: { summary: `${pct(f.quadraticShare)} of kernel time is in attention work that grows with seq² (scores, softmax, masking, context)`, items: [...f.quadratic].sort((a, b) => b.share - a.share).slice(0, 5).map((o) => ({ what: o.node, share: o.share })) },
    change: { kind: 'config', patch: { attention: formatAttention(variant) } },
    estimate: {
      speedup,
      latencyMs: run.latencyMs.p50 / speedup,
      memoryBytes: null,
      sizeBytes: run.model.sizeBytes + spec.layers * spec.maxSeq * k * 4,
      accuracyRisk: 'high',
      basis: `speedup = 1 / (1 − q + q·r), q = ${pct(f.quadraticShare)} of kernel time in the seq² part, r = ${ratio.toFixed(3)} = Linformer's attention FLOPs over dense at batch ${run.config.batch}, seq ${run.config.seq} (analysis/transformer-flops.ts; the projections included). Size: one maxSeq × K projection per layer added. Memory not estimated.`,
    },
    warnings: [
      `Linformer fixes the sequence length: its projections are maxSeq × K (${spec.maxSeq} × ${k}), trained for that length; sequences longer than ${spec.maxSeq} cannot run, and the model must be trained (or fine-tuned) with them`,
      'window and BigBird are not suggested for inference: the ONNX export runs them as dense attention under a mask, so ONNX Runtime gains nothing',
    ],
  });
}

function trainingOutcome(ctx: RuleContext): RuleOutcome {
  if (ctx.doc.kind !== 'training') return { quiet: 'reads inference and training runs' };
  const run = ctx.doc.run;
  if (run.variant.attention !== 'dense') return { quiet: `the run already uses ${run.variant.attention} attention` };
  const { batch, seq } = run.config;
  const spec = { ...run.spec, maxSeq: Math.max(run.spec.maxSeq, seq) };
  const flops = transformerFlops({ ...spec, attention: undefined }, batch, seq);
  const matmul = run.ops.filter((o) => /MatMul/.test(o.opType)).reduce((s, o) => s + o.share, 0);
  const softmax = run.ops.filter((o) => o.opType === 'Softmax').reduce((s, o) => s + o.share, 0);
  // tfjs kernels carry no names: the seq² share is the products' share split by their FLOPs.
  const q = matmul * (flops.attention / flops.forward) + softmax;
  if (q < MIN_QUADRATIC_SHARE) return { quiet: `the seq²-growing part of attention is about ${pct(q)} of the step at seq ${seq} (needs ≥ ${pct(MIN_QUADRATIC_SHARE)})` };
  const window = pow2Below(seq / 8, 16);
  if (window >= seq) return { quiet: `seq ${seq} is too short for a window smaller than the sequence` };
  const variant: AttentionVariant = { kind: 'window', window };
  const ratio = attentionCostRatio(spec, variant, batch, seq);
  if (ratio >= 1) return { quiet: `at seq ${seq} a window of ${window} costs as much as dense attention` };
  const speedup = amdahl([{ share: q, speedup: 1 / ratio }]);
  return suggest(attentionRule, ctx, {
    title: `Train with windowed attention (W = ${window}) at seq ${seq}`,
    evidence: {
      summary: `about ${pct(q)} of the training step grows with seq²: products ${pct(matmul)} of the step × ${pct(flops.attention / flops.forward)} of their FLOPs in attention scores and context, plus softmax ${pct(softmax)}`,
      items: [{ what: 'MatMul kernels (all phases)', share: Math.min(1, matmul) }, { what: 'Softmax', share: Math.min(1, softmax) }],
    },
    change: { kind: 'config', patch: { attention: formatAttention(variant) } },
    estimate: {
      speedup,
      latencyMs: run.stepMs.p50 / speedup,
      memoryBytes: null,
      sizeBytes: null,
      accuracyRisk: 'medium',
      basis: `speedup = 1 / (1 − q + q·r), q ≈ ${pct(q)}, r = ${ratio.toFixed(3)} = window attention FLOPs over dense at batch ${batch}, seq ${seq} (tfjs computes the window block by block); latency is the step time. Memory not estimated.`,
    },
    warnings: [`a query no longer sees keys more than ${window} positions away: check the task accuracy (twb sweep --variants dense,window:${window} --task ${run.config.task} compares both)`],
  });
}

/**
 * Caveats of the run's own attention variant for every figure of the advice: a mixer's weights are
 * sized to maxSeq, so it mixes a fixed number of positions and its costs hold at that length only.
 */
export function attentionWarnings(doc: AdvisableDocument): string[] {
  let spec: TransformerSpec | undefined;
  let seq: number | undefined;
  if (doc.kind === 'training') {
    spec = doc.run.spec;
    seq = doc.run.config.seq;
  } else if (doc.kind === 'inference') {
    spec = specOf(doc.run.model.source, doc.run.config.attention, doc.run.config.shareLayers);
    seq = doc.run.config.seq;
  }
  if (spec?.attention?.kind !== 'mixer') return [];
  const n = spec.maxSeq;
  return [
    `the model uses --attention mixer, which mixes a fixed number of positions (maxSeq ${n}): its token-mixing weights are ${n} × ${n} per layer, a shorter sequence uses their top-left block and a longer one cannot run; the estimates hold at seq ${seq}, and a change of sequence length needs the model rebuilt (and retrained) for it`,
  ];
}

export const attentionRule: Rule = {
  id: 'attention-variant',
  family: 'attention',
  appliesTo: ['inference', 'training'],
  apply(ctx) {
    return ctx.doc.kind === 'training' ? trainingOutcome(ctx) : inferenceOutcome(ctx);
  },
};

export const ATTENTION_RULES: Rule[] = [attentionRule];
