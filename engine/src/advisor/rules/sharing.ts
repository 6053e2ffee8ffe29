/**
 * Cross-layer parameter sharing (ALBERT) for memory: every layer uses one set of weights, so weights
 * (and in training their Adam moments) shrink by (L − 1)/L of the layers' part. It saves memory, not
 * time: every layer still runs, so the estimate's speedup is exactly 1.
 */
import type { TransformerSpec } from '../../model/spec';
import { builtinSpec } from '../../profile/model-source';
import { formatBytes } from '../../util/format';
import { pct, Rule, RuleContext, RuleOutcome, suggest } from './types';

/** Weights (with optimizer state in training) must be this share of peak memory to be worth sharing. */
export const MIN_WEIGHT_MEMORY_SHARE = 0.3;

/** Parameters of one pre-LN transformer block: Q/K/V/O with biases, the FFN pair with biases, two LayerNorms. */
export function layerParams(spec: Pick<TransformerSpec, 'hidden' | 'ffn'>): number {
  const h = spec.hidden;
  return 4 * (h * h + h) + 2 * h * spec.ffn + spec.ffn + h + 4 * h;
}

const WARNING = 'saves memory, not time: every layer still runs, so latency stays the same (the estimate says 1×)';

function inferenceOutcome(ctx: RuleContext): RuleOutcome {
  if (ctx.doc.kind !== 'inference') return { quiet: 'reads inference and training runs' };
  const run = ctx.doc.run;
  let spec: TransformerSpec;
  try {
    spec = builtinSpec(run.model.source, { attention: run.config.attention, shareLayers: run.config.shareLayers });
  } catch {
    return { quiet: `parameter sharing is an option of the built-in models (--share-layers); ${run.model.name} is a model file` };
  }
  if ((spec.shareLayers ?? 1) > 1) return { quiet: `the run already shares weights across ${spec.shareLayers} layers` };
  if (spec.layers < 2) return { quiet: 'one layer: nothing to share' };
  if (run.memory.unavailable || run.memory.peakBytes <= 0) return { quiet: `no memory figures in the run (${run.memory.unavailable ?? 'peak 0'})` };
  const share = run.memory.weightsBytes / run.memory.peakBytes;
  if (share < MIN_WEIGHT_MEMORY_SHARE) return { quiet: `weights are ${pct(share)} of peak memory (needs ≥ ${pct(MIN_WEIGHT_MEMORY_SHARE)}): activations dominate` };
  const saved = (spec.layers - 1) * layerParams(spec) * 4;
  return suggest(sharingRule, ctx, {
    title: `Share one set of weights across all ${spec.layers} layers (ALBERT)`,
    evidence: {
      summary: `weights are ${formatBytes(run.memory.weightsBytes)}, ${pct(share)} of the ${formatBytes(run.memory.peakBytes)} arena peak; ${spec.layers} layers hold ${formatBytes(spec.layers * layerParams(spec) * 4)} of them`,
      items: [{ what: 'weights / peak memory', share: Math.min(1, share) }],
    },
    change: { kind: 'config', patch: { shareLayers: 'all' } },
    estimate: {
      speedup: 1,
      latencyMs: run.latencyMs.p50,
      memoryBytes: Math.max(0, run.memory.peakBytes - saved),
      sizeBytes: Math.max(0, run.model.sizeBytes - saved),
      accuracyRisk: 'high',
      basis: `(L − 1) = ${spec.layers - 1} layers' weights go: ${spec.layers - 1} × ${layerParams(spec)} parameters × 4 bytes = ${formatBytes(saved)} off the file and off ORT's arena (which holds the weights). Compute is unchanged.`,
    },
    warnings: [WARNING, 'a trained model\'s layers differ: sharing them changes what it computes, so the shared model has to be trained (ALBERT trains it that way from the start)'],
  });
}

function trainingOutcome(ctx: RuleContext): RuleOutcome {
  if (ctx.doc.kind !== 'training') return { quiet: 'reads inference and training runs' };
  const run = ctx.doc.run;
  if (run.variant.shareLayers !== 'none') return { quiet: `the run already shares weights (${run.variant.shareLayers})` };
  if (run.spec.layers < 2) return { quiet: 'one layer: nothing to share' };
  const m = run.memory;
  const states = m.weightsBytes + m.optimizerBytes;
  const share = m.peakBytes > 0 ? states / m.peakBytes : 0;
  if (share < MIN_WEIGHT_MEMORY_SHARE) return { quiet: `weights and optimizer state are ${pct(share)} of peak memory (needs ≥ ${pct(MIN_WEIGHT_MEMORY_SHARE)}): activations dominate` };
  const fraction = Math.min(1, ((run.spec.layers - 1) * layerParams(run.spec)) / Math.max(1, run.params));
  const saved = states * fraction;
  return suggest(sharingRule, ctx, {
    title: `Train with one set of weights shared across all ${run.spec.layers} layers (ALBERT)`,
    evidence: {
      summary: `weights ${formatBytes(m.weightsBytes)} and Adam moments ${formatBytes(m.optimizerBytes)} are ${pct(share)} of the ${formatBytes(m.peakBytes)} peak`,
      items: [{ what: 'weights + optimizer state / peak memory', share: Math.min(1, share) }],
    },
    change: { kind: 'config', patch: { shareLayers: 'all' } },
    estimate: {
      speedup: 1,
      latencyMs: run.stepMs.p50,
      memoryBytes: Math.max(0, m.peakBytes - saved),
      sizeBytes: null,
      accuracyRisk: 'medium',
      basis: `(L − 1) of ${run.spec.layers} layers' parameters go (${pct(fraction)} of the ${run.params} parameters), and with them their share of weights and Adam moments: ${formatBytes(saved)}. Gradients shrink too (not counted). Compute is unchanged.`,
    },
    warnings: [WARNING, 'ALBERT-style sharing usually costs some accuracy at equal steps: compare with twb sweep --variants dense,dense+share:all'],
  });
}

export const sharingRule: Rule = {
  id: 'share-layers',
  family: 'sharing',
  appliesTo: ['inference', 'training'],
  apply(ctx) {
    return ctx.doc.kind === 'training' ? trainingOutcome(ctx) : inferenceOutcome(ctx);
  },
};

export const SHARING_RULES: Rule[] = [sharingRule];
