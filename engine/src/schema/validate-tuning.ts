/**
 * Validator of the tuning report (schema/tuning.ts): a file read back by the CLI, the run store or
 * the webview is checked field by field before use.
 */
import { CALIBRATION_METHODS, INT4_METHODS, PRUNE_METHODS, QUANT_MODES } from './compression';
import { STOP_REASONS, Trial, TRIAL_STATUSES, TrialChange, TUNING_SCHEMA_VERSION, TuningBudget, TuningReport } from './tuning';
import { TwbError } from '../util/errors';
import { arrayOf, bool, literal, nullable, num, numberIn, object, oneOf, optional, parseJsonText, str } from './validate';

const change = object<TrialChange>({
  mode: oneOf([...QUANT_MODES, ...PRUNE_METHODS]),
  perChannel: optional(bool),
  calibrate: optional(oneOf(CALIBRATION_METHODS)),
  method: optional(oneOf(INT4_METHODS)),
  blockSize: optional(num),
  amount: optional(num),
});

const fraction = numberIn(0, 1);

const trial = object<Trial>({
  id: str,
  change,
  status: oneOf(TRIAL_STATUSES),
  latencyMs: nullable(num),
  originalLatencyMs: nullable(num),
  speedup: nullable(num),
  sizeBytes: nullable(num),
  accuracy: nullable(fraction),
  accuracyDrop: nullable(num),
  top1Agreement: nullable(fraction),
  sqnrDb: nullable(num),
  withinBudget: bool,
  reason: optional(str),
  modelPath: optional(str),
  elapsedMs: num,
});

const budget = object<TuningBudget>({
  maxAccuracyDrop: nullable(fraction),
  minTop1Agreement: nullable(fraction),
  trials: numberIn(1, Number.MAX_SAFE_INTEGER, true),
  patience: numberIn(1, Number.MAX_SAFE_INTEGER, true),
});

const tuningReport = object<TuningReport>({
  schemaVersion: literal(TUNING_SCHEMA_VERSION),
  kind: literal('tuning'),
  id: str,
  createdAt: str,
  model: object({ name: str, source: str }),
  eval: object({ file: str, examples: num, searchExamples: num, heldBackExamples: num }),
  budget,
  config: object({ batch: num, seq: num, threads: num, executionProvider: str, seed: num, runs: num }),
  order: object({ by: oneOf(['advisor', 'space'] as const), detail: str, candidates: arrayOf(str) }),
  skipped: arrayOf(object({ candidate: str, reason: str })),
  baseline: object({ latencyMs: nullable(num), sizeBytes: num, accuracy: fraction, heldBackAccuracy: fraction }),
  trials: arrayOf(trial),
  pareto: arrayOf(str),
  best: nullable(str),
  bestHeldBack: nullable(object({ accuracy: fraction, accuracyDrop: num, top1Agreement: fraction, withinBudget: bool })),
  bestModel: optional(str),
  bestConfig: optional(str),
  stopped: object({ reason: oneOf(STOP_REASONS), detail: str }),
  elapsedMs: num,
  warnings: arrayOf(str),
});

/** Checks a parsed tuning report; throws an `io` error naming the first bad path. */
export function validateTuningReport(v: unknown): TuningReport {
  const report = tuningReport(v, 'tuning');
  // Ids in pareto and best must name trials: a reader draws them from the trials table.
  const ids = new Set(report.trials.map((t) => t.id));
  const unknown = (at: string, id: string) => new TwbError('io', `${at}: "${id}" names no trial; trials are: ${[...ids].join(', ') || 'none'}`);
  for (const [i, id] of report.pareto.entries()) if (!ids.has(id)) throw unknown(`tuning.pareto[${i}]`, id);
  if (report.best !== null && !ids.has(report.best)) throw unknown('tuning.best', report.best);
  return report;
}

/** Parses and checks the JSON text of a tuning report. */
export function parseTuningReport(text: string): TuningReport {
  return validateTuningReport(parseJsonText(text));
}
