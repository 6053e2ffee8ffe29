/**
 * Pruning rule: remove attention heads (`twb prune --method heads`). Head pruning shrinks the Q/K/V/O
 * matrices and the score tensors, so the attention blocks' time falls with the fraction removed.
 * Unstructured (magnitude) and 2:4 pruning are never suggested here: dense kernels do not skip
 * zeros and the file stores them, so on these providers they buy neither time nor size.
 */
import { inferenceFacts } from '../facts';
import { amdahl, pct, Rule, suggest } from './types';
import { formatBytes } from '../../util/format';

/** Attention blocks must take this share of kernel time for head pruning to matter. */
export const MIN_ATTENTION_SHARE = 0.15;
/** Fraction of heads suggested: a quarter keeps the accuracy risk moderate. */
export const HEAD_AMOUNT = 0.25;

export const pruneHeadsRule: Rule = {
  id: 'prune-heads',
  family: 'pruning',
  appliesTo: ['inference'],
  apply(ctx) {
    if (ctx.doc.kind !== 'inference') return { quiet: 'reads inference runs' };
    const run = ctx.doc.run;
    const f = inferenceFacts(run);
    if (f.quantized.length > 0) return { quiet: 'the model is already quantized: prune the fp32 model first, then quantize' };
    // Fused blocks fed a KV cache (a 5-D `past` input) keep their heads: pruning them would change the cache shapes callers feed.
    const stateless = f.fusedAttention.filter((o) => !o.inputShapes.some((s) => s.length === 5));
    if (f.heads === 0 && f.fusedAttention.length > 0 && stateless.length === 0) {
      return { quiet: `the ${f.fusedAttention.length} fused attention node(s) carry KV-cache state (past inputs): the heads pass leaves them, since pruning would change the cache shapes the caller feeds` };
    }
    const heads = f.heads || (stateless.length > 0 ? 2 : 0);
    if (heads === 0) return { quiet: 'no attention heads found in the profile (no [batch, heads, S, S] scores, no fused Attention node)' };
    if (Math.round(heads * HEAD_AMOUNT) < 1) return { quiet: `${heads} head(s) per layer: removing ${pct(HEAD_AMOUNT)} leaves none to remove` };
    const share = f.attentionBlockShare;
    if (share < MIN_ATTENTION_SHARE) return { quiet: `attention blocks take ${pct(share)} of kernel time (needs ≥ ${pct(MIN_ATTENTION_SHARE)})` };
    const speedup = amdahl([{ share, speedup: 1 / (1 - HEAD_AMOUNT) }]);
    // Q, K, V and O weights are the products inside attention blocks; a quarter of their columns/rows goes.
    const attnWeights = f.products.filter((p) => f.attentionBlock.includes(p.op)).reduce((s, p) => s + p.weightBytes, 0);
    const saved = HEAD_AMOUNT * attnWeights;
    return suggest(this, ctx, {
      title: `Prune ${pct(HEAD_AMOUNT)} of attention heads`,
      evidence: {
        summary: `${pct(share)} of kernel time is in attention blocks (projections, scores, softmax, context)${f.heads ? `, ${f.heads} heads per layer` : ''}`,
        items: [...f.attentionBlock].sort((a, b) => b.share - a.share).slice(0, 5).map((o) => ({ what: o.node, share: o.share })),
      },
      change: { kind: 'pass', config: { mode: 'heads', amount: HEAD_AMOUNT } },
      estimate: {
        speedup,
        latencyMs: run.latencyMs.p50 / speedup,
        sizeBytes: Math.max(0, run.model.sizeBytes - saved),
        memoryBytes: run.memory.unavailable ? null : Math.max(0, run.memory.peakBytes - saved),
        accuracyRisk: 'medium',
        basis: `The attention blocks' time scales with the heads kept: speedup = 1 / (1 − s·a), s = ${pct(share)} of kernel time in attention blocks, a = ${HEAD_AMOUNT} of heads removed (README: half of tiny-bert's heads measured 1.22×). Size: ${HEAD_AMOUNT} of the ${formatBytes(attnWeights)} of attention weights.`,
      },
      warnings: [
        'heads are removed without fine-tuning: measure task accuracy with --eval FILE before keeping the model',
        'magnitude and 2:4 pruning are not suggested: dense kernels do not skip zeros, so they change accuracy, not latency or file size, on these providers',
      ],
    });
  },
};

export const PRUNING_RULES: Rule[] = [pruneHeadsRule];
