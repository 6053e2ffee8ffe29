/**
 * The documents kept in `.twb/runs/`: inference runs and compression reports side by side, told
 * apart by their `kind`, each checked by its own validator.
 */
import { CompressionReport } from './compression';
import { InferenceRun } from './run';
import { validateCompressionReport } from './validate-compression';
import { validateRun } from './validate-run';
import { parseJsonText } from './validate';
import { TwbError } from '../util/errors';

export type WorkbenchDocument = { kind: 'inference'; run: InferenceRun } | { kind: 'compression'; report: CompressionReport };

export const DOCUMENT_KINDS = ['inference', 'quantization', 'pruning'] as const;

/** Validates a parsed document of any kept kind; throws naming the bad path. */
export function validateDocument(v: unknown): WorkbenchDocument {
  const kind = v && typeof v === 'object' && !Array.isArray(v) ? (v as { kind?: unknown }).kind : undefined;
  if (kind === 'inference') return { kind: 'inference', run: validateRun(v) };
  if (kind === 'quantization' || kind === 'pruning') return { kind: 'compression', report: validateCompressionReport(v) };
  throw new TwbError('io', `document.kind: expected one of: ${DOCUMENT_KINDS.join(', ')}, got ${kind === undefined ? 'nothing' : JSON.stringify(kind)}`);
}

/** Parses and validates the JSON text of a kept document. */
export function parseDocumentJson(text: string): WorkbenchDocument {
  return validateDocument(parseJsonText(text));
}
