/**
 * The Pipeline view's controls as data: the shape a user types (schedule, P, M, V, hop time), its
 * parsing, and the figures to show — the plan's own, or a fresh simulation of the plan's unit costs
 * for another shape (`simulatePlan` is pure, so this needs no host round trip).
 */
import type { PipelinePlan, ScheduleName, ScheduleResult, StageStat } from '../../../engine/src/schema/parallel';
import { SCHEDULES } from '../../../engine/src/schema/parallel';
import { PIPELINE_LIMITS, PipelineMeasureParams } from '../../../engine/src/protocol/webview';
import { simulatePlan } from '../../../engine/src/analysis/pipeline/plan';

/** The shape of a pipeline step. */
export interface PipelineShape {
  schedule: ScheduleName;
  /** Devices, P. */
  stages: number;
  /** Micro-batches, M. */
  microbatches: number;
  /** Chunks per device, V (interleaved only). */
  chunks: number;
  /** Time per hop between stages, microseconds. */
  commUs: number;
}

/** The controls' text, as typed. */
export interface ShapeDraft {
  schedule: string;
  stages: string;
  microbatches: string;
  chunks: string;
  commUs: string;
}

/** What the view shows for one shape. */
export interface PipelineFigures extends ScheduleResult {
  shape: PipelineShape;
  stageStats: StageStat[];
  peakInFlight: number;
  closedFormBubble: number;
  warnings: string[];
  /** False for the plan as saved, true for a simulation made in the view. */
  resimulated: boolean;
}

export const SCHEDULE_LABELS: Record<ScheduleName, string> = { gpipe: 'GPipe', '1f1b': '1F1B', interleaved: 'interleaved 1F1B', 'zb-h1': 'ZB-H1 (zero bubble)' };

export function shapeOf(plan: PipelinePlan): PipelineShape {
  return { schedule: plan.schedule, stages: plan.stages, microbatches: plan.microbatches, chunks: plan.chunks, commUs: plan.commUs };
}

export function draftOf(shape: PipelineShape): ShapeDraft {
  return { schedule: shape.schedule, stages: String(shape.stages), microbatches: String(shape.microbatches), chunks: String(shape.chunks), commUs: String(shape.commUs) };
}

export function sameShape(a: PipelineShape, b: PipelineShape): boolean {
  return a.schedule === b.schedule && a.stages === b.stages && a.microbatches === b.microbatches && a.chunks === b.chunks && a.commUs === b.commUs;
}

/** `schedule (V = 2)` for interleaved, else the schedule's name. */
export function scheduleLabel(shape: Pick<PipelineShape, 'schedule' | 'chunks'>): string {
  return shape.schedule === 'interleaved' ? `${SCHEDULE_LABELS.interleaved} (V = ${shape.chunks})` : SCHEDULE_LABELS[shape.schedule];
}

const integer = (text: string, name: string, lo: number, hi: number): number | string => {
  const v = Number(text.trim());
  if (!text.trim() || !Number.isInteger(v) || v < lo || v > hi) return `${name} must be a whole number from ${lo} to ${hi}, got ${JSON.stringify(text)}`;
  return v;
};

/**
 * The shape of a draft, or why it is not one. Only the controls' own bounds are checked here; what
 * a schedule cannot run (V < 2 interleaved, M not a multiple of P, more stages than units) is
 * `simulatePlan`'s to say. V is 1 for every schedule but interleaved, whatever its field holds.
 */
export function parseShape(d: ShapeDraft): PipelineShape | { error: string } {
  if (!(SCHEDULES as readonly string[]).includes(d.schedule)) return { error: `unknown schedule ${JSON.stringify(d.schedule)}; expected one of: ${SCHEDULES.join(', ')}` };
  const schedule = d.schedule as ScheduleName;
  const stages = integer(d.stages, 'P (stages)', 1, PIPELINE_LIMITS.stages);
  if (typeof stages === 'string') return { error: stages };
  const microbatches = integer(d.microbatches, 'M (micro-batches)', 1, PIPELINE_LIMITS.microbatches);
  if (typeof microbatches === 'string') return { error: microbatches };
  const chunks = schedule === 'interleaved' ? integer(d.chunks, 'V (chunks per stage)', 1, PIPELINE_LIMITS.chunks) : 1;
  if (typeof chunks === 'string') return { error: chunks };
  const commUs = Number(d.commUs.trim());
  if (!d.commUs.trim() || !Number.isFinite(commUs) || commUs < 0 || commUs > PIPELINE_LIMITS.commUs) return { error: `hop time must be a number of microseconds from 0 to ${PIPELINE_LIMITS.commUs}, got ${JSON.stringify(d.commUs)}` };
  return { schedule, stages, microbatches, chunks, commUs };
}

/** The plan's own figures. */
export function savedFigures(plan: PipelinePlan): PipelineFigures {
  const { bubbleFraction, makespanUs, timeline, stageStats, peakInFlight, closedFormBubble, warnings } = plan;
  return { shape: shapeOf(plan), bubbleFraction, makespanUs, timeline, stageStats, peakInFlight, closedFormBubble, warnings, resimulated: false };
}

/**
 * The figures for `shape`: the plan's own when the shape is the plan's, else `simulatePlan` on the
 * plan's unit costs. A shape the schedule cannot run comes back as the simulator's message.
 */
export function figuresFor(plan: PipelinePlan, shape: PipelineShape): PipelineFigures | { error: string } {
  if (sameShape(shape, shapeOf(plan))) return savedFigures(plan);
  try {
    const sim = simulatePlan(plan.layers, shape);
    const { bubbleFraction, makespanUs, timeline } = sim.simulation;
    return { shape, bubbleFraction, makespanUs, timeline, stageStats: sim.stageStats, peakInFlight: Math.max(...sim.stageStats.map((s) => s.peakInFlight)), closedFormBubble: sim.closedFormBubble, warnings: sim.warnings, resimulated: true };
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
}

/**
 * Whether the host can run the plan's model as a real pipeline, and if not why: the plan must carry
 * `modelSource` (a built-in or a model path), which the planner leaves out when it knows no graph to
 * cut into stages (uniform costs, or costs read from a run whose model is not at hand).
 */
export function measurable(plan: PipelinePlan): { ok: true } | { ok: false; reason: string } {
  if (plan.modelSource?.trim()) return { ok: true };
  const costs = plan.costSource.kind === 'uniform' ? 'uniform costs' : `costs from a ${plan.costSource.kind}`;
  return { ok: false, reason: `This plan (${costs}) names no model to run: plan from a built-in model or an .onnx file to measure it.` };
}

/** The request to measure `shape` for `plan`. */
export function measureParams(plan: PipelinePlan, shape: PipelineShape): PipelineMeasureParams {
  return { planId: plan.id, schedule: shape.schedule, stages: shape.stages, microbatches: shape.microbatches, chunks: shape.chunks, commUs: shape.commUs };
}

/** Whether the plan's costs say their activation bytes are estimated. */
export function activationsEstimated(plan: PipelinePlan): boolean {
  return plan.costSource.kind === 'uniform' || plan.costSource.estimated.some((e) => /activation/i.test(e));
}

/** Unit names of a group, shortened past four: `layer 0 … layer 9 (10 units)`. */
export function unitNames(plan: PipelinePlan, group: readonly number[]): string {
  const names = group.map((i) => plan.layers[i]?.name ?? `#${i}`);
  return names.length <= 4 ? names.join(', ') : `${names[0]} … ${names[names.length - 1]} (${names.length} units)`;
}
