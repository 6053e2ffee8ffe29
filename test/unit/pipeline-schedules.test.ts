/**
 * The pipeline simulator against the textbook: closed-form bubbles on uniform costs, 1F1B's and
 * ZB-H1's in-flight bounds, valid timelines (dependencies and hop times respected, no stage doing two
 * things at once) on random costs, balanced partitions, and clear errors for shapes a schedule
 * cannot run.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { balancedPartition } from '../../engine/src/analysis/pipeline/partition';
import { closedFormBubble, scheduleOrders, ScheduleShape } from '../../engine/src/analysis/pipeline/schedules';
import { simulate, VirtualStageCosts } from '../../engine/src/analysis/pipeline/simulate';
import { planPipeline, simulateForwardOnly, simulatePlan } from '../../engine/src/analysis/pipeline/plan';
import { costsFromInferenceRun, costsFromTrainingRun, uniformCosts } from '../../engine/src/analysis/pipeline/costs';
import type { ScheduleName, TimelineBlock } from '../../engine/src/schema/parallel';
import { createRng } from '../../engine/src/util/rng';

const uniform = (J: number, f: number, b: number, w: number): VirtualStageCosts => ({
  forwardUs: Array(J).fill(f),
  backwardUs: Array(J).fill(b),
  weightGradUs: Array(J).fill(w),
  activationBytes: Array(J).fill(1),
});
const shape = (schedule: ScheduleName, stages: number, microbatches: number, chunks = 1): ScheduleShape => ({ schedule, stages, microbatches, chunks });
const run = (s: ScheduleShape, costs: VirtualStageCosts, commUs = 0) => simulate({ orders: scheduleOrders(s), costs, commUs });
const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-9, `${what}: ${a} vs ${b}`);

describe('closed forms on uniform costs', () => {
  for (const schedule of ['gpipe', '1f1b'] as const) {
    test(`${schedule}: bubble (P−1)/(M+P−1)`, () => {
      for (const P of [1, 2, 3, 4, 8]) {
        for (const M of [1, 2, 4, 7, 16, 32]) {
          const r = run(shape(schedule, P, M), uniform(P, 1, 2, 1));
          close(r.bubbleFraction, (P - 1) / (M + P - 1), `P=${P} M=${M}`);
          close(r.makespanUs, (M + P - 1) * 3, `makespan P=${P} M=${M}`);
        }
      }
    });
  }

  test('interleaved 1F1B: bubble (P−1)/(V·M+P−1)', () => {
    for (const P of [2, 3, 4, 8]) {
      for (const V of [2, 3, 4]) {
        for (const M of [P, 2 * P, 4 * P]) {
          const r = run(shape('interleaved', P, M, V), uniform(P * V, 1 / V, 2 / V, 1 / V));
          close(r.bubbleFraction, (P - 1) / (V * M + P - 1), `P=${P} V=${V} M=${M}`);
          close(closedFormBubble(shape('interleaved', P, M, V)), (P - 1) / (V * M + P - 1), 'closedFormBubble');
        }
      }
    }
  });

  test('ZB-H1: idle (P−1)·(F+B−W) per stage, about a third of 1F1B\'s bubble', () => {
    for (const P of [2, 4, 8]) {
      for (const M of [P, 2 * P, 3 * P, 8 * P]) {
        const zb = run(shape('zb-h1', P, M), uniform(P, 1, 2, 1));
        close(zb.bubbleFraction, closedFormBubble(shape('zb-h1', P, M)), `P=${P} M=${M}`);
        for (const s of zb.perStage) close(s.idleUs, (P - 1) * (1 + 1 - 1), `idle P=${P} M=${M}`);
        const ofb = run(shape('1f1b', P, M), uniform(P, 1, 2, 1));
        const idleRatio = zb.perStage[0].idleUs / ofb.perStage[0].idleUs;
        close(idleRatio, 1 / 3, 'idle time is a third of 1F1B\'s');
        const ratio = zb.bubbleFraction / ofb.bubbleFraction;
        assert.ok(ratio > 0.33 && ratio < 0.6, `bubble fraction ratio ${ratio} (→ 1/3 as M grows)`);
      }
    }
    // Unequal F, B, W: the Zero Bubble paper's (P−1)·(TF+TB−TW).
    const zb = run(shape('zb-h1', 4, 12), uniform(4, 2, 5, 2));
    for (const s of zb.perStage) close(s.idleUs, 3 * (2 + 3 - 2), 'idle with TF=2, TB=3, TW=2');
  });

  test('in flight: GPipe holds M, 1F1B at most P (P−p on stage p), ZB-H1 at most P', () => {
    const P = 4;
    const M = 12;
    assert.deepEqual(run(shape('gpipe', P, M), uniform(P, 1, 2, 1)).perStage.map((s) => s.peakInFlight), [12, 12, 12, 12]);
    assert.deepEqual(run(shape('1f1b', P, M), uniform(P, 1, 2, 1)).perStage.map((s) => s.peakInFlight), [4, 3, 2, 1]);
    const zb = run(shape('zb-h1', P, M), uniform(P, 1, 2, 1)).perStage.map((s) => s.peakInFlight);
    assert.ok(Math.max(...zb) <= P, `ZB-H1 ${zb}`);
    assert.equal(run(shape('1f1b', P, 2), uniform(P, 1, 2, 1)).perStage[0].peakInFlight, 2, 'never more than M');
    // Activation memory = in-flight × bytes per micro-batch.
    const mem = run(shape('1f1b', P, M), { ...uniform(P, 1, 2, 1), activationBytes: [10, 20, 30, 40] }).perStage.map((s) => s.activationBytes);
    assert.deepEqual(mem, [40, 60, 60, 40]);
  });

  test('hop time adds 2(P−1) hops to GPipe\'s critical path', () => {
    const r = run(shape('gpipe', 4, 8), uniform(4, 1, 2, 1), 0.25);
    close(r.makespanUs, (8 + 3) * 3 + 2 * 3 * 0.25, 'makespan');
  });
});

/** Checks a timeline: every block once, dependencies and hops respected, no overlap on a stage. */
function assertValid(timeline: TimelineBlock[], P: number, V: number, M: number, commUs: number, split: boolean): void {
  const J = P * V;
  const at = new Map<string, TimelineBlock>();
  for (const b of timeline) {
    const j = b.chunk * P + b.stage;
    const k = `${b.kind}${j}:${b.microbatch}`;
    assert.ok(!at.has(k), `${k} twice`);
    at.set(k, b);
  }
  assert.equal(at.size, J * M * (split ? 3 : 2), 'every block once');
  const eps = 1e-9;
  for (let j = 0; j < J; j++) {
    for (let m = 0; m < M; m++) {
      const f = at.get(`F${j}:${m}`)!;
      const b = at.get(`B${j}:${m}`)!;
      if (j > 0) assert.ok(f.startUs >= at.get(`F${j - 1}:${m}`)!.endUs + commUs - eps, `F${j}:${m} before its input arrived`);
      assert.ok(b.startUs >= f.endUs - eps, `B${j}:${m} before its forward`);
      if (j < J - 1) assert.ok(b.startUs >= at.get(`B${j + 1}:${m}`)!.endUs + commUs - eps, `B${j}:${m} before its gradient arrived`);
      if (split) assert.ok(at.get(`W${j}:${m}`)!.startUs >= b.endUs - eps, `W${j}:${m} before B`);
    }
  }
  for (let p = 0; p < P; p++) {
    const mine = timeline.filter((b) => b.stage === p).sort((a, b) => a.startUs - b.startUs);
    for (let i = 1; i < mine.length; i++) assert.ok(mine[i].startUs >= mine[i - 1].endUs - eps, `stage ${p} runs two blocks at once`);
  }
}

describe('schedule validity on random costs', () => {
  test('dependencies, hops and one block at a time, for every schedule', () => {
    const rng = createRng(7);
    for (const [schedule, P, M, V] of [['gpipe', 3, 5, 1], ['1f1b', 4, 9, 1], ['1f1b', 2, 1, 1], ['interleaved', 3, 6, 2], ['interleaved', 2, 8, 3], ['zb-h1', 4, 7, 1], ['zb-h1', 3, 2, 1]] as const) {
      const J = P * V;
      const forwardUs = Array.from({ length: J }, () => 0.5 + rng.next());
      const backwardUs = forwardUs.map((f) => f * (1.5 + rng.next()));
      const costs: VirtualStageCosts = { forwardUs, backwardUs, weightGradUs: backwardUs.map((b) => b * 0.4), activationBytes: Array(J).fill(1) };
      const commUs = rng.next() * 0.3;
      const r = run(shape(schedule, P, M, V), costs, commUs);
      assertValid(r.timeline, P, V, M, commUs, schedule === 'zb-h1');
      assert.ok(r.bubbleFraction >= 0 && r.bubbleFraction < 1);
    }
  });

  test('an order that waits on itself is reported as a deadlock', () => {
    const orders = [[{ kind: 'B' as const, microbatch: 0, chunk: 0 }, { kind: 'F' as const, microbatch: 0, chunk: 0 }]];
    assert.throws(() => simulate({ orders, costs: uniform(1, 1, 1, 0), commUs: 0 }), /deadlocks: stage 0 at B0/);
  });
});

describe('partition and plans', () => {
  test('balanced partition minimizes the slowest stage', () => {
    assert.deepEqual(balancedPartition([1, 1, 1, 1, 1, 1], 2), [[0, 1, 2], [3, 4, 5]]);
    assert.deepEqual(balancedPartition([1, 1, 1, 1, 1, 1], 3), [[0, 1], [2, 3], [4, 5]]);
    assert.deepEqual(balancedPartition([5, 1, 1, 1, 1, 1], 2), [[0], [1, 2, 3, 4, 5]]);
    // Brute force over every cut of small random cases.
    const rng = createRng(3);
    for (let trial = 0; trial < 30; trial++) {
      const costs = Array.from({ length: 7 }, () => Math.round(rng.next() * 10) + 1);
      const best = bruteForceMax(costs, 3);
      const got = Math.max(...balancedPartition(costs, 3).map((g) => g.reduce((s, i) => s + costs[i], 0)));
      assert.equal(got, best, `costs ${costs}`);
    }
    assert.throws(() => balancedPartition([1, 1], 3), /cannot split 2 units .* into 3 pipeline stages/);
  });

  test('shapes a schedule cannot run are usage errors that say why', () => {
    const layers = uniformCosts(['embed', 'layer 0', 'layer 1', 'layer 2', 'layer 3', 'head'], 'test').layers;
    assert.throws(() => simulatePlan(layers, { ...shape('interleaved', 2, 5, 2), commUs: 0 }), /multiple of the stages[^]*M = 5, P = 2/);
    assert.throws(() => simulatePlan(layers, { ...shape('interleaved', 2, 4, 1), commUs: 0 }), /needs V >= 2/);
    assert.throws(() => simulatePlan(layers, { ...shape('1f1b', 2, 4, 2), commUs: 0 }), /V = 2 applies to interleaved only/);
    assert.throws(() => simulatePlan(layers, { ...shape('1f1b', 7, 4), commUs: 0 }), /cannot split 6 units/);
    assert.throws(() => simulatePlan(layers, { ...shape('1f1b', 2, 0), commUs: 0 }), /microbatches must be an integer >= 1/);
    assert.throws(() => simulatePlan(layers, { ...shape('1f1b', 2, 4), commUs: -1 }), /communication time must be >= 0/);
  });

  test('uniform units that divide evenly reproduce the closed form in a plan', () => {
    const costs = uniformCosts(['embed', 'layer 0', 'layer 1', 'layer 2', 'layer 3', 'head'], 'test');
    const plan = planPipeline({ model: 'test', batch: 1, seq: 128, costs, schedule: '1f1b', stages: 3, microbatches: 6, chunks: 1, commUs: 0, now: new Date(0) });
    close(plan.bubbleFraction, plan.closedFormBubble, 'bubble');
    assert.deepEqual(plan.stageStats.map((s) => s.layers), [[[0, 1]], [[2, 3]], [[4, 5]]]);
    assert.deepEqual(plan.warnings, []);
    assert.equal(plan.peakInFlight, 3);
  });

  test('costs from a real inference profile and a real training profile', () => {
    const fixture = (name: string) => JSON.parse(readFileSync(path.join(__dirname, '../fixtures', name), 'utf8'));
    const inf = costsFromInferenceRun(fixture('tiny-gpt.run.json'));
    assert.deepEqual(inf.layers.map((l) => l.name), ['embed', 'layer 0', 'layer 1', 'layer 2', 'layer 3', 'head']);
    const run = fixture('tiny-gpt.run.json');
    const total = run.ops.reduce((s: number, o: { totalUs: number }) => s + o.totalUs, 0) / run.config.profiledRuns;
    close(inf.layers.reduce((s, l) => s + l.forwardUs, 0), total, 'forward time adds up to the profile');
    assert.ok(inf.source.estimated.some((e) => /backward = 2 ×/.test(e)));
    const tr = costsFromTrainingRun(fixture('tiny-bert.training.json'));
    assert.deepEqual(tr.layers.map((l) => l.name), ['embed', 'layer 0', 'layer 1', 'layer 2', 'layer 3', 'head']);
    for (const l of tr.layers) assert.ok(l.backwardUs > l.forwardUs && l.weightGradUs > 0 && l.weightGradUs < l.backwardUs, l.name);
    const plan = planPipeline({ model: 'x', batch: 1, seq: 128, costs: tr, schedule: 'zb-h1', stages: 2, microbatches: 8, chunks: 1, commUs: 10, now: new Date(0) });
    const ofb = planPipeline({ model: 'x', batch: 1, seq: 128, costs: tr, schedule: '1f1b', stages: 2, microbatches: 8, chunks: 1, commUs: 10, now: new Date(0) });
    assert.ok(plan.bubbleFraction < ofb.bubbleFraction, 'ZB-H1 beats 1F1B on measured costs');
  });

  test('forward-only simulation of measured stage times', () => {
    const orders = scheduleOrders(shape('1f1b', 2, 4));
    const sim = simulateForwardOnly(orders, [3, 5], 1);
    // Stage 1 waits 3 + 1 for its first input, then runs back to back: 3 + 1 + 4·5.
    close(sim.makespanUs, 24, 'makespan');
    assert.equal(sim.timeline.filter((b) => b.kind !== 'F').length, 0);
  });
});

function bruteForceMax(costs: number[], parts: number): number {
  let best = Infinity;
  const n = costs.length;
  const rec = (start: number, left: number, worst: number) => {
    if (left === 1) {
      best = Math.min(best, Math.max(worst, costs.slice(start).reduce((a, b) => a + b, 0)));
      return;
    }
    for (let end = start + 1; end <= n - left + 1; end++) rec(end, left - 1, Math.max(worst, costs.slice(start, end).reduce((a, b) => a + b, 0)));
  };
  rec(0, parts, 0);
  return best;
}
