/**
 * A pipeline plan: units partitioned into P·V balanced virtual stages, the schedule simulated, and
 * per-stage occupancy and memory. Pure: the webview calls `simulatePlan` to redraw at once when the
 * user moves P, M, V or the schedule; the CLI and the engine wrap it in a document.
 */
import type { LayerCost, MeasuredPipeline, PipelinePlan, ScheduleName, StageStat } from '../../schema/parallel';
import { PARALLEL_SCHEMA_VERSION } from '../../schema/parallel';
import { resultId } from '../../util/result-id';
import { TwbError } from '../../util/errors';
import { balancedPartition } from './partition';
import { checkShape, closedFormBubble, scheduleOrders, ScheduleShape, StageOrders } from './schedules';
import { simulate, Simulation, VirtualStageCosts } from './simulate';
import type { UnitCosts } from './costs';

export interface PlanShape extends ScheduleShape {
  /** Time per hop between consecutive stages, microseconds. */
  commUs: number;
}

/** Sums the unit costs of each virtual stage. */
export function virtualStageCosts(layers: readonly LayerCost[], groups: readonly number[][]): VirtualStageCosts {
  const sum = (g: number[], f: (l: LayerCost) => number) => g.reduce((s, i) => s + f(layers[i]), 0);
  return {
    forwardUs: groups.map((g) => sum(g, (l) => l.forwardUs)),
    backwardUs: groups.map((g) => sum(g, (l) => l.backwardUs)),
    weightGradUs: groups.map((g) => sum(g, (l) => l.weightGradUs)),
    activationBytes: groups.map((g) => sum(g, (l) => l.activationBytes)),
  };
}

export interface SimulatedPlan {
  /** Unit indices of each virtual stage j (device j mod P, chunk ⌊j/P⌋). */
  groups: number[][];
  orders: StageOrders;
  simulation: Simulation;
  stageStats: StageStat[];
  closedFormBubble: number;
  warnings: string[];
}

/** Partitions, orders and simulates; throws a usage error for a shape the schedule cannot run. */
export function simulatePlan(layers: readonly LayerCost[], shape: PlanShape): SimulatedPlan {
  checkShape(shape);
  if (!(shape.commUs >= 0)) throw new TwbError('usage', `the per-hop communication time must be >= 0 microseconds, got ${shape.commUs}`);
  const P = shape.stages;
  const groups = balancedPartition(layers.map((l) => l.forwardUs + l.backwardUs), P * shape.chunks);
  const costs = virtualStageCosts(layers, groups);
  const orders = scheduleOrders(shape);
  const simulation = simulate({ orders, costs, commUs: shape.commUs });
  const stageStats: StageStat[] = simulation.perStage.map((o, p) => {
    const mine = groups.filter((_, j) => j % P === p);
    return { stage: p, layers: mine, ...o, paramBytes: mine.flat().reduce((s, i) => s + layers[i].paramBytes, 0) };
  });
  const warnings: string[] = [];
  const stageCost = groups.map((g) => g.reduce((s, i) => s + layers[i].forwardUs + layers[i].backwardUs, 0));
  const slow = Math.max(...stageCost);
  const fast = Math.min(...stageCost);
  if (fast > 0 && slow / fast > 1.1) {
    warnings.push(`stages are uneven: the slowest costs ${(slow / fast).toFixed(2)}× the fastest (units cannot be split finer than a layer), so the bubble exceeds the closed form`);
  }
  if (shape.schedule === 'zb-h1' && costs.weightGradUs.every((w) => w === 0)) warnings.push('no weight-gradient time in these costs: ZB-H1 has nothing to defer and runs like 1F1B');
  return { groups, orders, simulation, stageStats, closedFormBubble: closedFormBubble(shape), warnings };
}

export interface PlanInput extends PlanShape {
  model: string;
  modelSource?: string;
  batch: number;
  seq: number;
  costs: UnitCosts;
  now: Date;
  measured?: MeasuredPipeline;
}

/** The plan document. */
export function planPipeline(input: PlanInput): PipelinePlan {
  const sim = simulatePlan(input.costs.layers, input);
  const schedule: ScheduleName = input.schedule;
  return {
    schemaVersion: PARALLEL_SCHEMA_VERSION,
    kind: 'pipeline',
    id: resultId(input.now, input.model, `pipeline-${schedule}-p${input.stages}`),
    createdAt: input.now.toISOString(),
    model: input.model,
    ...(input.modelSource ? { modelSource: input.modelSource } : {}),
    batch: input.batch,
    seq: input.seq,
    costSource: input.costs.source,
    schedule,
    chunks: input.chunks,
    stages: input.stages,
    microbatches: input.microbatches,
    commUs: input.commUs,
    layers: input.costs.layers,
    stageStats: sim.stageStats,
    bubbleFraction: sim.simulation.bubbleFraction,
    makespanUs: sim.simulation.makespanUs,
    peakInFlight: Math.max(...sim.stageStats.map((s) => s.peakInFlight)),
    closedFormBubble: sim.closedFormBubble,
    timeline: sim.simulation.timeline,
    ...(input.measured ? { measured: input.measured } : {}),
    warnings: sim.warnings,
  };
}

/** Each stage's forward blocks in schedule order: what a forward-only (inference) pipeline streams. */
export function forwardOrders(orders: StageOrders): Array<Array<{ microbatch: number; chunk: number }>> {
  return orders.map((o) => o.filter((b) => b.kind === 'F').map(({ microbatch, chunk }) => ({ microbatch, chunk })));
}

/** The forward-only schedule simulated with measured stage times and hop time, to set beside the measurement. */
export function simulateForwardOnly(orders: StageOrders, stageUs: readonly number[], commUs: number): Simulation {
  const zeros = stageUs.map(() => 0);
  return simulate({
    orders: orders.map((o) => o.filter((b) => b.kind === 'F')),
    costs: { forwardUs: [...stageUs], backwardUs: zeros, weightGradUs: zeros, activationBytes: zeros },
    commUs,
  });
}
