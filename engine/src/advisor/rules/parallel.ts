/**
 * Parallelism rules: a pipeline plan's schedule and micro-batch count (re-simulated with the plan's
 * own stage costs by `simulatePlan`, so the estimate is the simulator's answer, not a closed form),
 * and a memory plan's ZeRO stage (bytes from `memoryBreakdown`).
 */
import type { PipelinePlan, ScheduleName, ZeroStage } from '../../schema/parallel';
import { simulatePlan, SimulatedPlan } from '../../analysis/pipeline/plan';
import { memoryBreakdown } from '../../analysis/zero-memory';
import { formatBytes } from '../../util/format';
import { pct, Rule, suggest, times } from './types';

/** Below this bubble a pipeline is already busy enough. */
export const MIN_BUBBLE = 0.1;
/** A new shape must beat the current one by this much per micro-batch. */
export const MIN_PIPELINE_GAIN = 1.03;
/** Micro-batch counts tried: the plan's M times these. */
const M_FACTORS = [1, 2, 4];
const MAX_MICROBATCHES = 256;
/** A ZeRO stage must cut bytes per GPU by this fraction to be suggested. */
export const MIN_ZERO_SAVING = 0.25;

interface Shape {
  schedule: ScheduleName;
  chunks: number;
  microbatches: number;
}

interface Candidate extends Shape {
  sim: SimulatedPlan;
  /** Makespan per micro-batch, µs. */
  perMicrobatchUs: number;
  /** Largest activations + weights held by one stage, bytes. */
  stageBytes: number;
}

function simulateShape(plan: PipelinePlan, s: Shape): Candidate | undefined {
  try {
    const sim = simulatePlan(plan.layers, { ...s, stages: plan.stages, commUs: plan.commUs });
    const stageBytes = Math.max(...sim.stageStats.map((st) => st.activationBytes + st.paramBytes));
    return { ...s, sim, perMicrobatchUs: sim.simulation.makespanUs / s.microbatches, stageBytes };
  } catch {
    // A shape the schedule cannot run (interleaved with M not a multiple of P, too few units) is no candidate.
    return undefined;
  }
}

const label = (s: Shape) => (s.schedule === 'interleaved' ? `interleaved:${s.chunks}` : s.schedule);

export const pipelineRule: Rule = {
  id: 'pipeline-schedule',
  family: 'parallel',
  appliesTo: ['pipeline'],
  apply(ctx) {
    if (ctx.doc.kind !== 'pipeline') return { quiet: 'reads pipeline plans' };
    const plan = ctx.doc.plan;
    if (plan.stages < 2) return { quiet: 'one stage: no pipeline bubble' };
    if (plan.bubbleFraction < MIN_BUBBLE) return { quiet: `the bubble is ${pct(plan.bubbleFraction)} of the step (needs ≥ ${pct(MIN_BUBBLE)})` };
    const current = simulateShape(plan, { schedule: plan.schedule, chunks: plan.chunks, microbatches: plan.microbatches });
    if (!current) return { quiet: 'the plan\'s own shape does not re-simulate' };
    const hasW = plan.layers.some((l) => l.weightGradUs > 0);
    const candidates: Candidate[] = [];
    for (const factor of M_FACTORS) {
      const microbatches = Math.min(MAX_MICROBATCHES, plan.microbatches * factor);
      const shapes: Shape[] = [
        { schedule: '1f1b', chunks: 1, microbatches },
        { schedule: 'gpipe', chunks: 1, microbatches },
        { schedule: 'interleaved', chunks: 2, microbatches },
        ...(hasW ? [{ schedule: 'zb-h1' as const, chunks: 1, microbatches }] : []),
      ];
      for (const s of shapes) {
        if (s.schedule === plan.schedule && s.chunks === plan.chunks && s.microbatches === plan.microbatches) continue;
        const c = simulateShape(plan, s);
        if (c) candidates.push(c);
      }
    }
    // Fastest per micro-batch; within 1% of each other, the one holding less memory, then fewer micro-batches.
    candidates.sort((a, b) => {
      const t = a.perMicrobatchUs / b.perMicrobatchUs;
      if (t < 0.99 || t > 1.01) return a.perMicrobatchUs - b.perMicrobatchUs;
      return a.stageBytes - b.stageBytes || a.microbatches - b.microbatches;
    });
    const best = candidates[0];
    const speedup = best ? current.perMicrobatchUs / best.perMicrobatchUs : 1;
    if (!best || speedup < MIN_PIPELINE_GAIN) return { quiet: `no schedule or micro-batch count up to ${M_FACTORS.at(-1)}× M beats ${label(plan)} with M = ${plan.microbatches} by ${pct(MIN_PIPELINE_GAIN - 1)}` };
    const warnings: string[] = [];
    if (best.microbatches !== plan.microbatches) {
      warnings.push(`M = ${best.microbatches} at the same micro-batch size makes the global batch ${best.microbatches / plan.microbatches}× larger; to keep it, halve the micro-batch instead (smaller micro-batches run less efficiently, which the estimate does not model)`);
    }
    if (best.stageBytes > current.stageBytes) warnings.push(`the busiest stage holds ${formatBytes(best.stageBytes)} instead of ${formatBytes(current.stageBytes)} (more micro-batches in flight)`);
    if (best.schedule === 'zb-h1' && plan.costSource.estimated.some((e) => /weight gradient/i.test(e))) warnings.push('ZB-H1\'s gain rests on the weight-gradient time, which these costs estimate rather than measure');
    if (plan.measured) warnings.push(`the plan's measured forward-only pipeline had a ${pct(plan.measured.bubbleFraction)} bubble; the estimate re-simulates forward and backward from the plan's costs`);
    return suggest(this, ctx, {
      title: `Pipeline with ${label(best)}, M = ${best.microbatches} (was ${label(plan)}, M = ${plan.microbatches})`,
      evidence: {
        summary: `${pct(plan.bubbleFraction)} of the ${plan.stages} stages' time is bubble with ${label(plan)} and M = ${plan.microbatches} (closed form ${pct(plan.closedFormBubble)})`,
        items: plan.stageStats.map((s) => ({ what: `stage ${s.stage} idle`, share: s.bubbleFraction })),
      },
      change: { kind: 'pipeline', schedule: best.schedule, stages: plan.stages, microbatches: best.microbatches, chunks: best.chunks },
      estimate: {
        speedup,
        latencyMs: best.sim.simulation.makespanUs / 1000,
        memoryBytes: best.stageBytes,
        sizeBytes: null,
        accuracyRisk: best.microbatches !== plan.microbatches ? 'low' : 'none',
        basis: `Re-simulated with the plan's stage costs (simulatePlan, ${plan.commUs.toFixed(0)} µs per hop): ${label(plan)} M = ${plan.microbatches} takes ${(current.perMicrobatchUs / 1000).toFixed(2)} ms per micro-batch (bubble ${pct(current.sim.simulation.bubbleFraction)}), ${label(best)} M = ${best.microbatches} ${(best.perMicrobatchUs / 1000).toFixed(2)} ms (bubble ${pct(best.sim.simulation.bubbleFraction)}): ${times(speedup)} throughput. Latency is the new step's makespan; memory the busiest stage's activations + weights. Tried ${candidates.length} shapes (1F1B, GPipe, interleaved:2${hasW ? ', ZB-H1' : ''} × M, 2M, 4M).`,
      },
      warnings,
    });
  },
};

export const zeroRule: Rule = {
  id: 'zero-stage',
  family: 'parallel',
  appliesTo: ['memory-plan'],
  apply(ctx) {
    if (ctx.doc.kind !== 'memory-plan') return { quiet: 'reads memory plans' };
    const plan = ctx.doc.plan;
    const input = plan.input;
    if (input.gpus < 2) return { quiet: 'ZeRO partitions over data-parallel GPUs; with 1 GPU every stage needs the same memory' };
    if (input.zeroStage === 3) return { quiet: 'the plan already uses ZeRO stage 3' };
    const now = memoryBreakdown(input);
    // Stages 1 and 2 communicate as much as plain data parallelism (ZeRO §7); stage 3 adds 50%.
    const next = ([2, 3] as ZeroStage[]).filter((z) => z > input.zeroStage).map((zeroStage) => ({ zeroStage, b: memoryBreakdown({ ...input, zeroStage }) }));
    const pick = next.find((c) => 1 - c.b.total / now.total >= MIN_ZERO_SAVING);
    if (!pick) return { quiet: `higher ZeRO stages save under ${pct(MIN_ZERO_SAVING)} of the ${formatBytes(now.total)} per GPU (activations dominate)` };
    const saving = 1 - pick.b.total / now.total;
    return suggest(this, ctx, {
      title: `Use ZeRO stage ${pick.zeroStage} on ${input.gpus} GPUs (was ${input.zeroStage})`,
      evidence: {
        summary: `${formatBytes(now.total)} per GPU at stage ${input.zeroStage}; model states (weights, gradients, optimizer) are ${pct((now.total - now.activations) / now.total)} of it`,
        items: [
          { what: 'optimizer states', share: now.optimizer / now.total },
          { what: 'gradients', share: now.grads / now.total },
          { what: 'parameters', share: now.params / now.total },
          { what: 'activations', share: now.activations / now.total },
        ],
      },
      change: { kind: 'zero', zeroStage: pick.zeroStage, gpus: input.gpus },
      estimate: {
        speedup: pick.zeroStage === 3 ? null : 1,
        latencyMs: null,
        memoryBytes: pick.b.total,
        sizeBytes: null,
        accuracyRisk: 'none',
        basis: `memoryBreakdown (ZeRO paper's model, 2 + 2 + 12 bytes per parameter partitioned by stage): ${formatBytes(now.total)} → ${formatBytes(pick.b.total)} per GPU (−${pct(saving)}). ${pick.zeroStage === 3 ? 'Speed not estimated: stage 3 gathers parameters each step (1.5× the communication of data parallelism).' : 'Speed 1×: stage 2 communicates as much as plain data parallelism (reduce-scatter + all-gather = one all-reduce).'}`,
      },
      warnings: pick.zeroStage === 3 ? ['stage 3 moves 1.5× the bytes of data parallelism per step: on slow interconnects it costs time'] : [],
    });
  },
};

export const PARALLEL_RULES: Rule[] = [pipelineRule, zeroRule];
