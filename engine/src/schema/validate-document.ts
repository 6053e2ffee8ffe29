/**
 * The documents kept in `.twb/runs/`: inference runs, compression reports, training runs and variant
 * comparisons side by side, told apart by their `kind`, each checked by its own validator.
 */
import { CompressionReport } from './compression';
import { InferenceRun } from './run';
import { validateCompressionReport } from './validate-compression';
import { validateRun } from './validate-run';
import { TrainingRun, VariantsReport } from './training';
import { validateTrainingRun, validateVariantsReport } from './validate-training';
import { parseJsonText } from './validate';
import { TwbError } from '../util/errors';

export type WorkbenchDocument =
  | { kind: 'inference'; run: InferenceRun }
  | { kind: 'compression'; report: CompressionReport }
  | { kind: 'training'; run: TrainingRun }
  | { kind: 'variants'; report: VariantsReport };

export const DOCUMENT_KINDS = ['inference', 'quantization', 'pruning', 'training', 'variants'] as const;

/** Validates a parsed document of any kept kind; throws naming the bad path. */
export function validateDocument(v: unknown): WorkbenchDocument {
  const kind = v && typeof v === 'object' && !Array.isArray(v) ? (v as { kind?: unknown }).kind : undefined;
  if (kind === 'inference') return { kind: 'inference', run: validateRun(v) };
  if (kind === 'quantization' || kind === 'pruning') return { kind: 'compression', report: validateCompressionReport(v) };
  if (kind === 'training') return { kind: 'training', run: validateTrainingRun(v) };
  if (kind === 'variants') return { kind: 'variants', report: validateVariantsReport(v) };
  throw new TwbError('io', `document.kind: expected one of: ${DOCUMENT_KINDS.join(', ')}, got ${kind === undefined ? 'nothing' : JSON.stringify(kind)}`);
}

/** Parses and validates the JSON text of a kept document. */
export function parseDocumentJson(text: string): WorkbenchDocument {
  return validateDocument(parseJsonText(text));
}
