/**
 * `twb pipeline` and the engine's `pipeline/plan`: read unit costs (from a kept run, or by profiling
 * the model with ORT), plan and simulate the schedule, and optionally run the pipeline for real in
 * workers and set the measurement beside the simulation.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { costsFromInferenceRun, costsFromTrainingRun, uniformCosts, UnitCosts } from '../analysis/pipeline/costs';
import { forwardOrders, planPipeline, simulateForwardOnly, simulatePlan } from '../analysis/pipeline/plan';
import { describeDocument, parseDocumentJson } from '../schema/validate-document';
import type { PipelinePlan, ScheduleName } from '../schema/parallel';
import { SCHEDULES } from '../schema/parallel';
import type { ModelProto } from '../onnx/types';
import { loadModelSource } from '../profile/model-source';
import { defaultDeps, profileInference } from '../profile/profiler';
import { choices, TwbError } from '../util/errors';
import { measurePipeline } from './measure';
import { modelUnits } from './units';
import { unitParamBytes } from './unit-params';

export interface PipelineRequest {
  /** `builtin:NAME`, an .onnx path, or a kept run (.json: inference or training). */
  source: string;
  schedule: ScheduleName;
  stages: number;
  microbatches: number;
  /** Chunks per stage (interleaved). */
  chunks: number;
  /** Per-hop time for the simulation, microseconds. */
  commUs: number;
  /** Every unit the same cost (no profiling). */
  uniform: boolean;
  /** Also run the pipeline for real (forward only, ORT in one worker per stage). */
  measure: boolean;
  /** Micro-batch shape for profiling and measuring. */
  batch: number;
  seq: number;
  executionProvider: string;
  seed: number;
}

export interface PipelineProgress {
  phase: 'costs' | 'measure';
  message: string;
  /** 0..1 within the phase. */
  fraction: number;
}

export interface PipelineDeps {
  now: () => Date;
  cpuCount: number;
  signal?: AbortSignal;
  onProgress?: (p: PipelineProgress) => void;
}

/** `gpipe`, `1f1b`, `interleaved:V`, `zb-h1` → schedule and V. */
export function parseSchedule(text: string): { schedule: ScheduleName; chunks: number } {
  const m = /^(interleaved)(?::(\d+))?$/.exec(text.trim());
  if (m) return { schedule: 'interleaved', chunks: m[2] === undefined ? 2 : Number(m[2]) };
  if ((SCHEDULES as readonly string[]).includes(text)) return { schedule: text as ScheduleName, chunks: 1 };
  throw new TwbError('usage', `unknown schedule "${text}"; ${choices(['gpipe', '1f1b', 'interleaved:V', 'zb-h1'])}`);
}

interface Costed {
  costs: UnitCosts;
  /** The model to run when measuring, and a label for the plan. */
  modelRef?: string;
  label: string;
}

async function costsFor(req: PipelineRequest, deps: PipelineDeps): Promise<Costed> {
  const progress = (message: string, fraction: number) => deps.onProgress?.({ phase: 'costs', message, fraction });
  if (/\.json$/i.test(req.source)) {
    let text: string;
    try {
      text = await fs.readFile(req.source, 'utf8');
    } catch {
      throw new TwbError('io', `run file "${req.source}" cannot be read`);
    }
    const doc = parseDocumentJson(text);
    if (doc.kind === 'inference') {
      return { costs: req.uniform ? uniformCosts(costsFromInferenceRun(doc.run).layers.map((l) => l.name), doc.run.model.name) : costsFromInferenceRun(doc.run), modelRef: doc.run.model.source, label: doc.run.model.name };
    }
    if (doc.kind === 'training') {
      return { costs: req.uniform ? uniformCosts(costsFromTrainingRun(doc.run).layers.map((l) => l.name), doc.run.model) : costsFromTrainingRun(doc.run), modelRef: doc.run.model, label: doc.run.model };
    }
    throw new TwbError('usage', `"${path.basename(req.source)}" is ${describeDocument(doc)}; twb pipeline reads an inference run (twb profile --json) or a training run (twb train --json), or a model`);
  }
  const src = await loadModelSource(req.source, req.seed);
  const units = modelUnits(src.model);
  if (req.uniform) return { costs: withParams(uniformCosts(units.names, src.name), src.model), modelRef: req.source, label: src.name };
  progress(`profiling ${src.name} with ONNX Runtime for per-layer costs`, 0);
  // ORT's default optimizations, as the measured stages run: fused nodes keep their layer (GraphIndex).
  const run = await profileInference(
    { model: req.source, executionProvider: req.executionProvider, batch: req.batch, seq: req.seq, warmup: 2, runs: 3, profiledRuns: 5, seed: req.seed },
    defaultDeps({ signal: deps.signal, onProgress: (p) => progress(p.message, p.total ? p.done / p.total : 0) }),
  );
  return { costs: withParams(costsFromInferenceRun(run), src.model), modelRef: req.source, label: src.name };
}

/** Weights per unit from the graph's initializers (ORT's own per-node figure is unreliable). */
function withParams(costs: UnitCosts, model: ModelProto): UnitCosts {
  const bytes = unitParamBytes(model);
  if (bytes.size === 0) return costs;
  return { ...costs, layers: costs.layers.map((l) => (bytes.has(l.name) ? { ...l, paramBytes: bytes.get(l.name)! } : l)) };
}

/** Plans (and with `measure`, runs) a pipeline. */
export async function planPipelineRequest(req: PipelineRequest, deps: PipelineDeps): Promise<PipelinePlan> {
  const { costs, modelRef, label } = await costsFor(req, deps);
  const shape = { schedule: req.schedule, stages: req.stages, microbatches: req.microbatches, chunks: req.chunks, commUs: req.commUs };
  const sim = simulatePlan(costs.layers, shape);
  let measured: PipelinePlan['measured'];
  if (req.measure) {
    if (!modelRef) throw new TwbError('usage', 'this run names no model to run; --measure needs a model');
    const src = await loadModelSource(modelRef, req.seed).catch((e: unknown) => {
      throw new TwbError('io', `--measure needs the model the costs came from, "${modelRef}": ${(e as Error).message}`);
    });
    const units = modelUnits(src.model);
    const names = costs.layers.map((l) => l.name);
    if (units.names.join() !== names.join()) {
      throw new TwbError('bad-input', `the model's units (${units.names.join(', ')}) differ from the run's (${names.join(', ')}); profile this model again`);
    }
    const threadsPerStage = Math.max(1, Math.floor(deps.cpuCount / req.stages));
    const raw = await measurePipeline({
      model: src.model,
      virtualStages: sim.groups,
      stages: req.stages,
      order: forwardOrders(sim.orders),
      microbatches: req.microbatches,
      batch: req.batch,
      seq: req.seq,
      executionProvider: req.executionProvider,
      threadsPerStage,
      seed: req.seed,
      signal: deps.signal,
      onProgress: (message, fraction) => deps.onProgress?.({ phase: 'measure', message, fraction }),
    });
    const simulated = simulateForwardOnly(sim.orders, raw.stageUs, raw.commUs);
    measured = { ...raw, phases: 'forward', simulated: { bubbleFraction: simulated.bubbleFraction, makespanUs: simulated.makespanUs, timeline: simulated.timeline } };
  }
  return planPipeline({ model: label, modelSource: modelRef, batch: req.batch, seq: req.seq, costs, ...shape, now: deps.now(), measured });
}
