/**
 * (g) pipeline parallelism on this machine: a real 2-stage pipeline of builtin:tiny-gpt (one worker
 * and ORT session per stage, one thread each, 1F1B's forward order) against the whole model run M
 * times in one session with every core, and against the simulator fed the stage times measured
 * alone: does the discrete-event model predict the real pipeline?
 */
import * as os from 'node:os';
import { costsFromInferenceRun } from '../engine/src/analysis/pipeline/costs';
import { forwardOrders, simulateForwardOnly, simulatePlan } from '../engine/src/analysis/pipeline/plan';
import { buildTransformer } from '../engine/src/model/transformer';
import { PRESETS } from '../engine/src/model/spec';
import { encodeModel } from '../engine/src/onnx/codec';
import { measurePipeline } from '../engine/src/pipeline/measure';
import { defaultDeps, profileInference } from '../engine/src/profile/profiler';
import { buildFeeds } from '../engine/src/runtime/feeds';
import { openSession } from '../engine/src/runtime/ort';
import { percentile } from '../engine/src/util/stats';
import type { BenchRow } from './timeline';

const ROUNDS = Number(process.env.TWB_BENCH_ROUNDS ?? 3);
const median = (xs: number[]) => percentile(xs, 50);

export async function runPipelineBench(): Promise<BenchRow[]> {
  const M = 8;
  const threads = os.availableParallelism();
  const model = buildTransformer(PRESETS['tiny-gpt'], { seed: 0 });
  const run = await profileInference({ model: 'builtin:tiny-gpt', warmup: 2, runs: 3, profiledRuns: 5 }, defaultDeps());
  const plan = simulatePlan(costsFromInferenceRun(run).layers, { schedule: '1f1b', stages: 2, microbatches: M, chunks: 1, commUs: 0 });
  const feeds = Array.from({ length: M }, (_, m) => buildFeeds(model, { batch: 1, seq: 128, past: 0, named: {} }, m).feeds);
  const session = await openSession(encodeModel(model), { executionProvider: 'cpu', threads, optLevel: 'all' }, 'builtin:tiny-gpt');
  const ratios = { vsWhole: [] as number[], bubble: [] as number[], makespan: [] as number[] };
  let last = { measured: 0, simulated: 0, whole: 0, bubble: 0, simBubble: 0, commUs: 0 };
  try {
    for (let r = 0; r < ROUNDS; r++) {
      const measured = await measurePipeline({ model, virtualStages: plan.groups, stages: 2, order: forwardOrders(plan.orders), microbatches: M, batch: 1, seq: 128, executionProvider: 'cpu', threadsPerStage: 1, seed: 0 });
      const sim = simulateForwardOnly(plan.orders, measured.stageUs, measured.commUs);
      for (const f of feeds) await session.run(f);
      const t0 = performance.now();
      for (const f of feeds) await session.run(f);
      const wholeUs = (performance.now() - t0) * 1000;
      ratios.vsWhole.push(measured.makespanUs / wholeUs);
      ratios.bubble.push(measured.bubbleFraction / sim.bubbleFraction);
      ratios.makespan.push(measured.makespanUs / sim.makespanUs);
      last = { measured: measured.makespanUs, simulated: sim.makespanUs, whole: wholeUs, bubble: measured.bubbleFraction, simBubble: sim.bubbleFraction, commUs: measured.commUs };
    }
  } finally {
    await session.release();
  }
  const ms = (us: number) => `${(us / 1000).toFixed(1)} ms`;
  return [
    { name: '(g) 2-stage pipeline / whole model, M=8', value: median(ratios.vsWhole).toFixed(3), goal: 'report', detail: `tiny-gpt b1×s128, 1F1B forward order, 1 thread per stage: ${ms(last.measured)} against ${ms(last.whole)} for 8 runs in one session with ${threads} threads (2 cores: no spare hardware for a pipeline to win)` },
    { name: '(g) measured / simulated makespan', value: median(ratios.makespan).toFixed(3), goal: '≈ 1', detail: `simulator fed the stage times measured alone and the measured hop (${(last.commUs / 1000).toFixed(2)} ms): ${ms(last.simulated)}` },
    { name: '(g) measured / simulated bubble', value: median(ratios.bubble).toFixed(3), goal: '≈ 1', detail: `bubble ${(last.bubble * 100).toFixed(1)}% measured, ${(last.simBubble * 100).toFixed(1)}% simulated; medians of ${ROUNDS} rounds` },
  ];
}
