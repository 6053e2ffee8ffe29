/**
 * Validator of the apply document (schema/apply.ts): a result read from a file or sent over IPC is
 * checked field by field before the Suggestions view puts it beside a card. The suggestion and its
 * estimate get the suggestions document's own checks, the kept runs and report theirs, and each
 * `error` figure must be what measured ÷ estimated − 1 says, so a result cannot claim an accuracy it
 * did not measure. Each error names the JSON path.
 */
import type { ApplyResult, EstimateError, Measured } from './apply';
import type { Estimate, Suggestion } from './advice';
import { validateSuggestionsReport } from './validate-advice';
import { validateCompressionReport } from './validate-compression';
import { validateRun } from './validate-run';
import { literal, nullable, numberIn, object, optional, strUpTo, arrayUpTo, Validator } from './validate';
import { TwbError } from '../util/errors';

const MAX_TEXT = 10_000;
const text = strUpTo(MAX_TEXT);
const nonNegative = numberIn(0, Number.MAX_VALUE);
const fraction = numberIn(0, 1);
/** SQNR may be negative (more noise than signal), but it is finite. */
const finite = numberIn(-Number.MAX_VALUE, Number.MAX_VALUE);
/** measured ÷ estimated − 1 of non-negative figures: never below −1. */
const relative = nullable(numberIn(-1, Number.MAX_VALUE));
const FIGURES = ['speedup', 'latencyMs', 'memoryBytes', 'sizeBytes'] as const;
/** Relative slack when checking `error` against the figures (JSON keeps doubles exact; this covers writers that round). */
const ERROR_TOLERANCE = 1e-6;

const measured = object<Measured>({
  speedup: nullable(numberIn(Number.MIN_VALUE, Number.MAX_VALUE)),
  latencyMs: nullable(nonNegative),
  memoryBytes: nullable(nonNegative),
  sizeBytes: nullable(nonNegative),
  accuracy: optional(object<NonNullable<Measured['accuracy']>>({ sqnrDb: nullable(finite), top1Agreement: fraction, accuracyBefore: optional(fraction), accuracyAfter: optional(fraction) })),
  basis: text,
});

const estimateError = object<EstimateError>({ speedup: relative, latencyMs: relative, memoryBytes: relative, sizeBytes: relative });

/** Wraps another validator's whole-document check so its errors name a path inside this document. */
const nested = <T>(check: (v: unknown) => T, from: string): Validator<T> => (v, at) => {
  try {
    return check(v);
  } catch (e) {
    if (e instanceof TwbError && e.message.startsWith(from)) throw new TwbError(e.code, `${at}${e.message.slice(from.length)}`, e.hint);
    if (e instanceof TwbError) throw new TwbError(e.code, `${at}: ${e.message}`, e.hint);
    throw e;
  }
};

/**
 * A suggestion, checked by the suggestions document's validator (validate-advice.ts exports only the
 * whole-report check, so the suggestion travels inside a minimal report).
 */
const suggestionOnly = (v: unknown): Suggestion =>
  validateSuggestionsReport({
    schemaVersion: 1,
    kind: 'suggestions',
    id: 'apply',
    createdAt: '',
    source: { kind: 'inference', id: '', model: '' },
    baseline: { latencyMs: null, memoryBytes: null, sizeBytes: null },
    calibration: null,
    suggestions: [v],
    ranking: '',
    quiet: [],
    warnings: [],
  }).suggestions[0];
const SUGGESTION_AT = 'suggestions.suggestions[0]';
const suggestion = nested(suggestionOnly, SUGGESTION_AT);

/** An estimate, checked as the estimate of a suggestion (see `suggestionOnly`). */
const estimate: Validator<Estimate> = (v, at) => {
  const probe = (x: unknown): Estimate => suggestionOnly({ id: 'probe', title: '', rule: '', evidence: { summary: '', items: [] }, change: { kind: 'config', patch: {} }, command: '', estimate: x, warnings: [] }).estimate;
  return nested(probe, `${SUGGESTION_AT}.estimate`)(v, at);
};

const result = object<ApplyResult>({
  schemaVersion: literal(1),
  kind: literal('apply'),
  id: strUpTo(200),
  createdAt: text,
  source: object({ runId: text, model: text }),
  suggestion,
  estimate,
  measured,
  error: estimateError,
  artifacts: object<ApplyResult['artifacts']>({
    baseline: optional(nested(validateRun, 'run')),
    changed: optional(nested(validateRun, 'run')),
    report: optional(nested(validateCompressionReport, 'report')),
    modelPath: optional(strUpTo(4096)),
  }),
  warnings: arrayUpTo(text, 1000),
});

/** Checks each `error` figure against measured ÷ estimated − 1 (null exactly where that is undefined). */
function checkErrors(r: ApplyResult): void {
  for (const k of FIGURES) {
    const e = r.estimate[k];
    const m = r.measured[k];
    const want = e === null || m === null || e === 0 ? null : m / e - 1;
    const got = r.error[k];
    if (want === null ? got !== null : got === null || Math.abs(got - want) > ERROR_TOLERANCE * Math.max(1, Math.abs(want))) {
      throw new TwbError('io', `apply.error.${k}: is ${String(got)}, but measured ÷ estimated − 1 is ${String(want)} (estimate ${String(e)}, measured ${String(m)})`);
    }
  }
}

/** Validates a parsed apply result; throws an io error naming the bad path. */
export function validateApplyResult(v: unknown): ApplyResult {
  const version = v && typeof v === 'object' ? (v as { schemaVersion?: unknown }).schemaVersion : undefined;
  if (version !== undefined && version !== 1) throw new TwbError('io', `apply result has schemaVersion ${String(version)}; this version of the workbench reads 1`);
  const r = result(v, 'apply');
  checkErrors(r);
  return r;
}
