/**
 * Validators of the suggestions document (schema/advice.ts): a report read from a file, the run
 * store or IPC is checked field by field, with bounds on every array, before a view or the apply
 * step acts on it. Each error names the JSON path.
 */
import {
  ACCURACY_RISKS,
  ADVICE_SCHEMA_VERSION,
  ADVICE_SOURCE_KINDS,
  AdviceBaseline,
  BatchScaling,
  Change,
  CHANGE_KINDS,
  Estimate,
  Evidence,
  KernelCalibration,
  MatMulKernel,
  Suggestion,
  SuggestionsReport,
  ThreadScaling,
} from './advice';
import { QUANT_MODES, PRUNE_METHODS, CALIBRATION_METHODS, INT4_METHODS } from './compression';
import { SCHEDULES, ZERO_STAGES } from './parallel';
import { arrayUpTo, bool, literal, nullable, numberIn, object, oneOf, optional, recordOf, strUpTo, Validator } from './validate';
import { TwbError } from '../util/errors';

const MAX_SUGGESTIONS = 256;
const MAX_ITEMS = 1000;
const MAX_KERNELS = 64;
const MAX_DIMS = 16;
const MAX_TEXT = 10_000;

const text = strUpTo(MAX_TEXT);
const texts = arrayUpTo(text, MAX_ITEMS);
const nonNegative = numberIn(0, Number.MAX_VALUE);
const positive = numberIn(1, Number.MAX_SAFE_INTEGER, true);
const count = numberIn(0, Number.MAX_SAFE_INTEGER, true);
const fraction = numberIn(0, 1);
const dims = arrayUpTo(count, MAX_DIMS);

/** A run-config patch: only known keys, each of the type RunConfig gives it. */
const patch: Validator<Record<string, unknown>> = (v, at) => {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new TwbError('io', `${at}: expected an object`);
  const p = v as Record<string, unknown>;
  const strings = new Set(['executionProvider', 'optLevel', 'attention', 'shareLayers']);
  const numbers = new Set(['threads', 'batch', 'seq', 'past', 'warmup', 'runs', 'profiledRuns', 'seed']);
  for (const [key, value] of Object.entries(p)) {
    if (strings.has(key)) text(value, `${at}.${key}`);
    else if (numbers.has(key)) count(value, `${at}.${key}`);
    else if (key === 'dims') recordOf(count)(value, `${at}.dims`);
    else throw new TwbError('io', `${at}.${key}: not a run-config field; expected one of: ${[...strings, ...numbers, 'dims'].join(', ')}`);
  }
  return p;
};

const zeroStage: Validator<(typeof ZERO_STAGES)[number]> = (v, at) => {
  if (!(ZERO_STAGES as readonly unknown[]).includes(v)) throw new TwbError('io', `${at}: expected one of: ${ZERO_STAGES.join(', ')}, got ${JSON.stringify(v)}`);
  return v as (typeof ZERO_STAGES)[number];
};

const change: Validator<Change> = (v, at) => {
  const kind = v && typeof v === 'object' ? (v as { kind?: unknown }).kind : undefined;
  switch (kind) {
    case 'config':
      return object({ kind: literal('config'), patch })(v, at) as Change;
    case 'pass':
      return object({
        kind: literal('pass'),
        config: object({
          mode: oneOf([...QUANT_MODES, ...PRUNE_METHODS]),
          perChannel: optional(bool),
          calibrate: optional(oneOf(CALIBRATION_METHODS)),
          method: optional(oneOf(INT4_METHODS)),
          blockSize: optional(positive),
          amount: optional(fraction),
        }),
      })(v, at) as Change;
    case 'pipeline':
      return object({ kind: literal('pipeline'), schedule: oneOf(SCHEDULES), stages: positive, microbatches: positive, chunks: positive })(v, at) as Change;
    case 'zero':
      return object({ kind: literal('zero'), zeroStage, gpus: positive })(v, at) as Change;
    case 'code':
      return object({ kind: literal('code'), language: literal('python'), snippet: text, where: strUpTo(1000) })(v, at) as Change;
    default:
      throw new TwbError('io', `${at}.kind: expected one of: ${CHANGE_KINDS.join(', ')}, got ${JSON.stringify(kind)}`);
  }
};

const evidence = object<Evidence>({ summary: text, items: arrayUpTo(object({ what: text, share: fraction }), MAX_ITEMS) });

const estimate = object<Estimate>({
  speedup: nullable(numberIn(Number.MIN_VALUE, Number.MAX_VALUE)),
  latencyMs: nullable(nonNegative),
  memoryBytes: nullable(nonNegative),
  sizeBytes: nullable(nonNegative),
  accuracyRisk: oneOf(ACCURACY_RISKS),
  basis: text,
});

const suggestion = object<Suggestion>({
  id: strUpTo(100),
  title: text,
  rule: strUpTo(200),
  evidence,
  change,
  command: text,
  estimate,
  warnings: texts,
});

const kernel = object<MatMulKernel>({
  input: dims,
  m: positive,
  k: positive,
  n: positive,
  bias: bool,
  share: fraction,
  fp32Us: nonNegative,
  int8DynamicUs: nonNegative,
  int8StaticUs: nullable(nonNegative),
  int4Us: nullable(nonNegative),
  samples: count,
});

const pair: Validator<[number, number]> = (v, at) => {
  const values = arrayUpTo(nonNegative, 2)(v, at);
  if (values.length !== 2) throw new TwbError('io', `${at}: expected 2 values, got ${values.length}`);
  return values as [number, number];
};

const threadScaling = object<ThreadScaling>({ input: dims, n: positive, threads: pair, us: pair });
const batchScaling = object<BatchScaling>({ input: dims, n: positive, batch: positive, scaledBatch: positive, us: nonNegative, scaledUs: nonNegative });

const calibration = object<KernelCalibration>({
  executionProvider: text,
  ortVersion: text,
  cpu: text,
  cores: positive,
  threads: count,
  optLevel: text,
  runId: text,
  createdAt: text,
  matmul: arrayUpTo(kernel, MAX_KERNELS),
  threadScaling: nullable(threadScaling),
  batchScaling: nullable(batchScaling),
  elapsedMs: nonNegative,
});

const baseline = object<AdviceBaseline>({ latencyMs: nullable(nonNegative), memoryBytes: nullable(nonNegative), sizeBytes: nullable(nonNegative) });

const report = object<SuggestionsReport>({
  schemaVersion: literal(ADVICE_SCHEMA_VERSION),
  kind: literal('suggestions'),
  id: text,
  createdAt: text,
  source: object({ kind: oneOf(ADVICE_SOURCE_KINDS), id: text, model: text }),
  baseline,
  calibration: nullable(calibration),
  suggestions: arrayUpTo(suggestion, MAX_SUGGESTIONS),
  ranking: text,
  quiet: arrayUpTo(object({ rule: strUpTo(200), why: text }), MAX_SUGGESTIONS),
  warnings: texts,
});

function checkVersion(v: unknown): void {
  const version = v && typeof v === 'object' ? (v as { schemaVersion?: unknown }).schemaVersion : undefined;
  if (version !== undefined && version !== ADVICE_SCHEMA_VERSION) {
    throw new TwbError('io', `suggestions document has schemaVersion ${String(version)}; this version of the workbench reads ${ADVICE_SCHEMA_VERSION}`);
  }
}

/** Validates a parsed suggestions report; throws an io error naming the bad path. */
export function validateSuggestionsReport(v: unknown): SuggestionsReport {
  checkVersion(v);
  const r = report(v, 'suggestions');
  const ids = new Set<string>();
  r.suggestions.forEach((s, i) => {
    if (ids.has(s.id)) throw new TwbError('io', `suggestions.suggestions[${i}].id: "${s.id}" appears twice`);
    ids.add(s.id);
  });
  return r;
}

/** Validates a parsed kernel calibration (e.g. one kept to reuse); throws an io error naming the bad path. */
export function validateKernelCalibration(v: unknown): KernelCalibration {
  return calibration(v, 'calibration');
}
