/**
 * The documents kept in `.twb/runs/`: inference runs, compression reports, training runs, variant
 * comparisons, pipeline plans, memory plans, suggestion reports, tuning reports and imported traces side by side, told apart by their `kind`, each checked by its own validator.
 */
import { CompressionReport } from './compression';
import { InferenceRun } from './run';
import { validateCompressionReport } from './validate-compression';
import { validateRun } from './validate-run';
import { TrainingRun, VariantsReport } from './training';
import { validateTrainingRun, validateVariantsReport } from './validate-training';
import { parseJsonText } from './validate';
import { MemoryPlan, PipelinePlan } from './parallel';
import { validateMemoryPlan, validatePipelinePlan } from './validate-parallel';
import type { SuggestionsReport } from './advice';
import { validateSuggestionsReport } from './validate-advice';
import type { TuningReport } from './tuning';
import { validateTuningReport } from './validate-tuning';
import type { TraceRun } from './trace';
import { validateTraceRun } from './validate-trace';
import { TwbError } from '../util/errors';

export type WorkbenchDocument =
  | { kind: 'inference'; run: InferenceRun }
  | { kind: 'compression'; report: CompressionReport }
  | { kind: 'training'; run: TrainingRun }
  | { kind: 'variants'; report: VariantsReport }
  | { kind: 'pipeline'; plan: PipelinePlan }
  | { kind: 'memory-plan'; plan: MemoryPlan }
  | { kind: 'suggestions'; report: SuggestionsReport }
  | { kind: 'tuning'; report: TuningReport }
  | { kind: 'trace'; run: TraceRun };

export const DOCUMENT_KINDS = ['inference', 'quantization', 'pruning', 'training', 'variants', 'pipeline', 'memory-plan', 'suggestions', 'tuning', 'trace'] as const;

/** Validates a parsed document of any kept kind; throws naming the bad path. */
export function validateDocument(v: unknown): WorkbenchDocument {
  const kind = v && typeof v === 'object' && !Array.isArray(v) ? (v as { kind?: unknown }).kind : undefined;
  if (kind === 'inference') return { kind: 'inference', run: validateRun(v) };
  if (kind === 'quantization' || kind === 'pruning') return { kind: 'compression', report: validateCompressionReport(v) };
  if (kind === 'training') return { kind: 'training', run: validateTrainingRun(v) };
  if (kind === 'variants') return { kind: 'variants', report: validateVariantsReport(v) };
  if (kind === 'pipeline') return { kind: 'pipeline', plan: validatePipelinePlan(v) };
  if (kind === 'memory-plan') return { kind: 'memory-plan', plan: validateMemoryPlan(v) };
  if (kind === 'suggestions') return { kind: 'suggestions', report: validateSuggestionsReport(v) };
  if (kind === 'tuning') return { kind: 'tuning', report: validateTuningReport(v) };
  if (kind === 'trace') return { kind: 'trace', run: validateTraceRun(v) };
  throw new TwbError('io', `document.kind: expected one of: ${DOCUMENT_KINDS.join(', ')}, got ${kind === undefined ? 'nothing' : JSON.stringify(kind)}`);
}

/** Parses and validates the JSON text of a kept document. */
export function parseDocumentJson(text: string): WorkbenchDocument {
  return validateDocument(parseJsonText(text));
}

const KIND_NAMES: Record<WorkbenchDocument['kind'], string> = {
  inference: 'an inference run',
  compression: 'a compression report',
  training: 'a training run',
  variants: 'a variants comparison',
  pipeline: 'a pipeline plan',
  'memory-plan': 'a memory plan',
  suggestions: 'a suggestions report',
  tuning: 'a tuning report',
  trace: 'an imported trace',
};

/** `an inference run`, `a memory plan`: for messages that say what a file is instead of what was asked. */
export function describeDocument(doc: WorkbenchDocument): string {
  return KIND_NAMES[doc.kind];
}
