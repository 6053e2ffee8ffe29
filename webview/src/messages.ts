/**
 * Checks the params of host → webview events before the app uses them. Shapes only, and only as
 * deep as the views read: a Run must have the arrays and objects the views index into.
 */
import { SESSION_MODES, VIEW_IDS, type HostEvents } from '../../engine/src/protocol/webview';
import type { InferenceRun } from '../../engine/src/schema/run';
import type { CompressionReport } from '../../engine/src/schema/compression';
import type { TrainingRun, VariantsReport } from '../../engine/src/schema/training';
import type { ErrorValue } from '../../engine/src/protocol/envelope';
import { validateCompressionReport } from '../../engine/src/schema/validate-compression';
import { validateTrainingRun, validateVariantsReport } from '../../engine/src/schema/validate-training';
import type { MemoryPlan, PipelinePlan } from '../../engine/src/schema/parallel';
import { validateMemoryPlan, validatePipelinePlan } from '../../engine/src/schema/validate-parallel';
import type { SuggestionsReport } from '../../engine/src/schema/advice';
import type { ApplyResult } from '../../engine/src/schema/apply';
import { validateSuggestionsReport } from '../../engine/src/schema/validate-advice';
import { validateApplyResult } from '../../engine/src/schema/validate-apply';
import type { TuningReport } from '../../engine/src/schema/tuning';
import { validateTuningReport } from '../../engine/src/schema/validate-tuning';
import type { TraceRun } from '../../engine/src/schema/trace';
import { validateTraceRun } from '../../engine/src/schema/validate-trace';

export type HostEvent = { [E in keyof HostEvents]: { event: E; params: HostEvents[E] } }[keyof HostEvents];

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isStr = (v: unknown): v is string => typeof v === 'string';

/** Why `v` is not a usable Run, or undefined when it is. */
export function runProblem(v: unknown): string | undefined {
  if (!isObj(v)) return 'run is not an object';
  if (v.kind !== 'inference') return `run kind ${JSON.stringify(v.kind)} is not "inference"`;
  if (!isStr(v.id)) return 'run has no id';
  const id = v.id;
  const missing = (what: string) => `run ${id}: ${what}`;
  if (!isObj(v.model) || !isStr(v.model.name)) return missing('model.name is missing');
  if (!isObj(v.config) || !isObj(v.env)) return missing('config or env is missing');
  const lat = v.latencyMs;
  if (!isObj(lat) || !isNum(lat.p50) || !isNum(lat.p90) || !isNum(lat.mean)) return missing('latencyMs p50/p90/mean are missing');
  for (const k of ['ops', 'opTypes', 'layers', 'warnings'] as const) if (!Array.isArray(v[k])) return missing(`${k} is not an array`);
  if (!(v.ops as unknown[]).every((o) => isObj(o) && isStr(o.node) && isStr(o.opType) && isNum(o.totalUs) && Array.isArray(o.outputShapes))) return missing('an op lacks node, opType, totalUs or outputShapes');
  const mem = v.memory;
  if (!isObj(mem) || !Array.isArray(mem.timeline) || !isNum(mem.peakBytes)) return missing('memory.timeline or memory.peakBytes is missing');
  const t = v.trace;
  if (!isObj(t)) return missing('trace is missing');
  const cols = ['op', 'run', 'startUs', 'durUs'] as const;
  for (const c of [...cols, 'runUs'] as const) if (!Array.isArray(t[c])) return missing(`trace.${c} is not an array`);
  const n = (t.op as unknown[]).length;
  if (cols.some((c) => (t[c] as unknown[]).length !== n)) return missing('trace columns differ in length');
  const opCount = (v.ops as unknown[]).length;
  if (!(t.op as unknown[]).every((i) => Number.isInteger(i) && (i as number) >= 0 && (i as number) < opCount)) return missing('trace.op indexes past ops');
  if (!(t.run as unknown[]).every((i) => Number.isInteger(i) && (i as number) >= 0 && (i as number) < 100_000)) return missing('trace.run has a bad run index');
  return undefined;
}

/** Why `validate` rejects `v`, or undefined when it accepts it. */
function problemOf(validate: (v: unknown) => unknown, v: unknown): string | undefined {
  try {
    validate(v);
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/** Why `v` is not a usable compression report (the full schema check), or undefined when it is. */
export const compressionProblem = (v: unknown): string | undefined => problemOf(validateCompressionReport, v);

/** Why `v` is not a usable training run (the full schema check), or undefined when it is. */
export const trainingProblem = (v: unknown): string | undefined => problemOf(validateTrainingRun, v);

/** Why `v` is not a usable variants comparison (the full schema check), or undefined when it is. */
export const variantsProblem = (v: unknown): string | undefined => problemOf(validateVariantsReport, v);

/** Why `v` is not a usable pipeline plan (the full schema check), or undefined when it is. */
export const pipelineProblem = (v: unknown): string | undefined => problemOf(validatePipelinePlan, v);

/** Why `v` is not a usable memory plan (the full schema check), or undefined when it is. */
export const memoryPlanProblem = (v: unknown): string | undefined => problemOf(validateMemoryPlan, v);

/** Why `v` is not a usable suggestions report (the full schema check), or undefined when it is. */
export const suggestionsProblem = (v: unknown): string | undefined => problemOf(validateSuggestionsReport, v);

/** Why `v` is not a usable apply result (the full schema check), or undefined when it is. */
export const applyProblem = (v: unknown): string | undefined => problemOf(validateApplyResult, v);

/** Why `v` is not a usable tuning report (the full schema check), or undefined when it is. */
export const tuningProblem = (v: unknown): string | undefined => problemOf(validateTuningReport, v);

/** Why `v` is not a usable imported trace (the full schema check), or undefined when it is. */
export const traceProblem = (v: unknown): string | undefined => problemOf(validateTraceRun, v);

/** Why an optional list of documents in `session/init` is unusable, or undefined when every one passes. */
function listProblem(name: string, list: unknown, problem: (v: unknown) => string | undefined): string | undefined {
  if (list === undefined) return undefined;
  if (!Array.isArray(list)) return `session/init: ${name} is not an array`;
  for (const d of list) {
    const p = problem(d);
    if (p) return `session/init: ${p}`;
  }
  return undefined;
}

const optNum = (v: unknown): v is number | undefined => v === undefined || isNum(v);

/** The event typed, or why its params are unusable. */
export function parseHostEvent(event: string, params: unknown): HostEvent | string {
  if (!isObj(params)) return `${event}: params are not an object`;
  switch (event) {
    case 'session/init': {
      if (!(SESSION_MODES as readonly unknown[]).includes(params.mode)) return `session/init: unknown mode ${JSON.stringify(params.mode)}`;
      if (typeof params.trusted !== 'boolean') return 'session/init: trusted is not a boolean';
      if (!isObj(params.form)) return 'session/init: form is missing';
      if (!Array.isArray(params.providers) || !Array.isArray(params.runs)) return 'session/init: providers or runs is not an array';
      for (const r of params.runs) {
        const p = runProblem(r);
        if (p) return `session/init: ${p}`;
      }
      const docs = listProblem('compressions', params.compressions, compressionProblem) ?? listProblem('trainings', params.trainings, trainingProblem) ?? listProblem('variants', params.variants, variantsProblem) ?? listProblem('pipelines', params.pipelines, pipelineProblem) ?? listProblem('memoryPlans', params.memoryPlans, memoryPlanProblem) ?? listProblem('suggestions', params.suggestions, suggestionsProblem) ?? listProblem('applied', params.applied, applyProblem) ?? listProblem('tunings', params.tunings, tuningProblem) ?? listProblem('traces', params.traces, traceProblem);
      if (docs) return docs;
      if (params.error !== undefined && (!isObj(params.error) || !isStr(params.error.message))) return 'session/init: error has no message';
      if (params.summary !== undefined && (!isObj(params.summary) || !isObj(params.summary.opCounts) || !Array.isArray(params.summary.inputs))) return 'session/init: summary is malformed';
      if (params.view !== undefined && !(VIEW_IDS as readonly unknown[]).includes(params.view)) return `session/init: unknown view ${JSON.stringify(params.view)}`;
      return { event, params: params as unknown as HostEvents['session/init'] };
    }
    case 'run/added': {
      const p = runProblem(params.run);
      return p ? `run/added: ${p}` : { event, params: { run: params.run as InferenceRun } };
    }
    case 'compress/added': {
      const p = compressionProblem(params.report);
      return p ? `compress/added: ${p}` : { event, params: { report: params.report as CompressionReport } };
    }
    case 'training/added': {
      const p = trainingProblem(params.run);
      return p ? `training/added: ${p}` : { event, params: { run: params.run as TrainingRun } };
    }
    case 'variants/added': {
      const p = variantsProblem(params.report);
      return p ? `variants/added: ${p}` : { event, params: { report: params.report as VariantsReport } };
    }
    case 'pipeline/added': {
      const p = pipelineProblem(params.plan);
      return p ? `pipeline/added: ${p}` : { event, params: { plan: params.plan as PipelinePlan } };
    }
    case 'memoryPlan/added': {
      const p = memoryPlanProblem(params.plan);
      return p ? `memoryPlan/added: ${p}` : { event, params: { plan: params.plan as MemoryPlan } };
    }
    case 'suggestions/added': {
      const p = suggestionsProblem(params.report);
      return p ? `suggestions/added: ${p}` : { event, params: { report: params.report as SuggestionsReport } };
    }
    case 'tuning/added': {
      const p = tuningProblem(params.report);
      return p ? `tuning/added: ${p}` : { event, params: { report: params.report as TuningReport } };
    }
    case 'trace/added': {
      const p = traceProblem(params.trace);
      return p ? `trace/added: ${p}` : { event, params: { trace: params.trace as TraceRun } };
    }
    case 'traceCompare/show': {
      const { baseId, otherId } = params;
      if (!isStr(baseId) || !isStr(otherId)) return 'traceCompare/show: baseId and otherId must be strings';
      return { event, params: { baseId, otherId } };
    }
    case 'apply/added': {
      const p = applyProblem(params.result);
      return p ? `apply/added: ${p}` : { event, params: { result: params.result as ApplyResult } };
    }
    case 'training/progress': {
      const { jobId, model, variant, step, steps, loss, accuracy, message } = params;
      if (!isStr(jobId) || !isStr(model) || !isStr(variant) || !isStr(message) || !isNum(step) || !isNum(steps)) return 'training/progress: jobId, model, variant, step, steps or message is missing';
      if (!optNum(loss) || !optNum(accuracy)) return 'training/progress: loss and accuracy must be finite numbers when present';
      return { event, params: { jobId, model, variant, step, steps, message, ...(loss !== undefined ? { loss } : {}), ...(accuracy !== undefined ? { accuracy } : {}) } };
    }
    case 'training/ended': {
      const { jobId, error } = params;
      const err = error as Record<string, unknown> | undefined;
      if (!isStr(jobId) || !err || typeof err !== 'object' || !isStr(err.code) || !isStr(err.message)) return 'training/ended: jobId or error {code, message} is missing';
      return { event, params: { jobId, error: { code: err.code, message: err.message, ...(isStr(err.hint) ? { hint: err.hint } : {}) } as ErrorValue } };
    }
    case 'run/progress':
      if (!isNum(params.requestId) || !isStr(params.message) || !isNum(params.done) || !isNum(params.total)) return 'run/progress: requestId, done, total or message is missing';
      return { event, params: { requestId: params.requestId, phase: isStr(params.phase) ? params.phase : '', done: params.done, total: params.total, message: params.message } };
    case 'compare/show':
      if (!isStr(params.baseId) || !isStr(params.otherId)) return 'compare/show: baseId or otherId is missing';
      return { event, params: { baseId: params.baseId, otherId: params.otherId } };
    case 'view/show':
      if (!(VIEW_IDS as readonly unknown[]).includes(params.view)) return `view/show: unknown view ${JSON.stringify(params.view)}; expected one of: ${VIEW_IDS.join(', ')}`;
      return { event, params: { view: params.view as HostEvents['view/show']['view'] } };
    default:
      return `unknown event "${event}"`;
  }
}
