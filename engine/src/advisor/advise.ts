/**
 * The advisor: runs every rule that reads the document's kind and ranks what fired. Pure — the
 * kernel calibration (measured beforehand by calibrate.ts, or null) and the machine come in as
 * values, and so does the time.
 */
import type { AccuracyRisk, AdviceBaseline, KernelCalibration, Suggestion, SuggestionsReport } from '../schema/advice';
import { ACCURACY_RISKS, ADVICE_SCHEMA_VERSION } from '../schema/advice';
import type { TraceRun } from '../schema/trace';
import type { WorkbenchDocument } from '../schema/validate-document';
import { describeDocument } from '../schema/validate-document';
import { resultId } from '../util/result-id';
import { TwbError } from '../util/errors';
import { ATTENTION_RULES, attentionWarnings } from './rules/attention';
import { PARALLEL_RULES } from './rules/parallel';
import { PRUNING_RULES } from './rules/pruning';
import { QUANTIZATION_RULES } from './rules/quantization';
import { RUNTIME_RULES } from './rules/runtime';
import { SHARING_RULES } from './rules/sharing';
import { TRACE_GPU_TIME_RULES } from './rules/trace-gpu-time';
import { TRACE_MODEL_RULES } from './rules/trace-model';
import { stepTime } from './trace-facts';
import { AdvisableDocument, AdviseEnv, isQuiet, Rule } from './rules/types';

/** Every rule, in the order ties fall back to (then by id). */
export const RULES: readonly Rule[] = [...QUANTIZATION_RULES, ...PRUNING_RULES, ...ATTENTION_RULES, ...SHARING_RULES, ...RUNTIME_RULES, ...PARALLEL_RULES, ...TRACE_GPU_TIME_RULES, ...TRACE_MODEL_RULES];

export const RANKING =
  'largest estimated time saved first (1 − 1/speedup, to the percent; an unknown speedup counts as none, a slowdown as negative), ' +
  'then the larger of memory and size saved (to the percent), then lower accuracy risk, then id';

/** The documents `twb suggest` reads; anything else is a usage error naming what was given. */
export function advisable(doc: WorkbenchDocument): AdvisableDocument {
  if (doc.kind === 'inference' || doc.kind === 'training' || doc.kind === 'trace') return { kind: doc.kind, run: doc.run } as AdvisableDocument;
  if (doc.kind === 'pipeline' || doc.kind === 'memory-plan') return { kind: doc.kind, plan: doc.plan } as AdvisableDocument;
  throw new TwbError('usage', `the advisor reads an inference run, a training run, a pipeline plan, a memory plan or an imported trace; this is ${describeDocument(doc)}`, 'twb suggest takes the JSON of twb profile, twb train, twb pipeline, twb memory-plan or twb import (--json), or a trace file.');
}

function sourceOf(doc: AdvisableDocument): SuggestionsReport['source'] {
  switch (doc.kind) {
    case 'inference':
      return { kind: 'inference', id: doc.run.id, model: doc.run.model.source };
    case 'training':
      return { kind: 'training', id: doc.run.id, model: doc.run.model };
    case 'trace':
      return { kind: 'trace', id: doc.run.id, model: doc.run.source.name };
    default:
      return { kind: doc.kind, id: doc.plan.id, model: doc.plan.model };
  }
}

function baselineOf(doc: AdvisableDocument): AdviceBaseline {
  switch (doc.kind) {
    case 'inference':
      return { latencyMs: doc.run.latencyMs.p50, memoryBytes: doc.run.memory.unavailable ? null : doc.run.memory.peakBytes, sizeBytes: doc.run.model.sizeBytes };
    case 'training':
      return { latencyMs: doc.run.stepMs.p50, memoryBytes: doc.run.memory.peakBytes, sizeBytes: null };
    case 'pipeline':
      return { latencyMs: doc.plan.makespanUs / 1000, memoryBytes: Math.max(0, ...doc.plan.stageStats.map((s) => s.activationBytes + s.paramBytes)), sizeBytes: null };
    case 'memory-plan':
      return { latencyMs: null, memoryBytes: doc.plan.bytesPerGpu, sizeBytes: null };
    case 'trace':
      return { latencyMs: stepTime(doc.run).us / 1000, memoryBytes: doc.run.memory?.peakBytes ?? null, sizeBytes: null };
  }
}

/** What the trace's own import said that bears on the advice, and that the advice is for another machine. */
function traceWarnings(run: TraceRun): string[] {
  const w = ['the trace was recorded on another machine: its figures (and the bounds made from them) are that machine\'s, not this one\'s'];
  if (run.source.truncated) w.push(`the trace file was cut off (${run.source.truncated.detail}): the advice reads only the events before the cut`);
  if (run.steps.length === 0) w.push('the trace has no ProfilerStep#N (record with torch.profiler.schedule and prof.step()): step times are the whole span');
  return w;
}

/** Fraction of time saved: 1 − 1/speedup (negative for a slowdown, 0 when unknown). */
export function timeGain(s: Suggestion): number {
  const x = s.estimate.speedup;
  return x === null || !(x > 0) ? 0 : 1 - 1 / x;
}

/** The larger of the memory and size fractions saved against the baseline. */
export function resourceGain(s: Suggestion, base: AdviceBaseline): number {
  const saved = (after: number | null, before: number | null) => (after === null || before === null || before <= 0 ? 0 : 1 - after / before);
  return Math.max(saved(s.estimate.memoryBytes, base.memoryBytes), saved(s.estimate.sizeBytes, base.sizeBytes));
}

const riskRank = (r: AccuracyRisk) => ACCURACY_RISKS.indexOf(r);
const percent = (x: number) => Math.round(x * 100);

/** Sorts by `RANKING`. */
export function rankSuggestions(list: Suggestion[], base: AdviceBaseline): Suggestion[] {
  return [...list].sort(
    (a, b) =>
      percent(timeGain(b)) - percent(timeGain(a)) ||
      percent(resourceGain(b, base)) - percent(resourceGain(a, base)) ||
      riskRank(a.estimate.accuracyRisk) - riskRank(b.estimate.accuracyRisk) ||
      a.id.localeCompare(b.id),
  );
}

/** Suggestions for one document, ranked, with the quiet rules and why they stayed quiet. */
export function adviseRun(input: WorkbenchDocument | AdvisableDocument, calibration: KernelCalibration | null, env: AdviseEnv): SuggestionsReport {
  const doc = advisable(input as WorkbenchDocument);
  const fired: Suggestion[] = [];
  const quiet: SuggestionsReport['quiet'] = [];
  for (const rule of RULES) {
    if (!rule.appliesTo.includes(doc.kind)) continue;
    const outcome = rule.apply({ doc, calibration, env });
    if (isQuiet(outcome)) quiet.push({ rule: `${rule.family}/${rule.id}`, why: outcome.quiet });
    else fired.push(outcome);
  }
  const warnings: string[] = [];
  if (calibration === null && doc.kind === 'inference') warnings.push('no kernel calibration: speed estimates that need measured kernels are left out (null)');
  if (calibration && (doc.kind === 'inference' || doc.kind === 'trace') && calibration.runId !== doc.run.id) warnings.push(`the kernel calibration was measured for run ${calibration.runId}, not ${doc.run.id}`);
  if (doc.kind === 'trace') warnings.push(...traceWarnings(doc.run));
  warnings.push(...attentionWarnings(doc));
  const source = sourceOf(doc);
  const baseline = baselineOf(doc);
  return {
    schemaVersion: ADVICE_SCHEMA_VERSION,
    kind: 'suggestions',
    id: resultId(env.now, source.model, 'suggestions'),
    createdAt: env.now.toISOString(),
    source,
    baseline,
    calibration,
    suggestions: rankSuggestions(fired, baseline),
    ranking: RANKING,
    quiet,
    warnings,
  };
}
