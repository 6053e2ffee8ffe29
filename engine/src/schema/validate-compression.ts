/**
 * Runtime validation of compression reports (`twb quantize|prune --json`, `.twb/runs/`, IPC from the
 * engine, `session/init` in the webview). Structure is checked field by field and every error names
 * the JSON path; a few facts the views rely on are checked too (histogram halves of equal length,
 * the kind agreeing with the mode).
 */
import { RunEnv } from './run';
import {
  CALIBRATION_METHODS,
  COMPRESSION_SCHEMA_VERSION,
  CompressionConfig,
  CompressionReport,
  HistogramPair,
  INT4_METHODS,
  LayerError,
  PRUNE_METHODS,
  QUANT_MODES,
} from './compression';
import { arrayOf, bool, literal, nullable, num, object, oneOf, optional, parseJsonText, str, Validator } from './validate';
import { TwbError } from '../util/errors';

/** Every mode a report (or a request) may name: quantization modes, then pruning methods. */
export const COMPRESSION_MODES: readonly CompressionConfig['mode'][] = [...QUANT_MODES, ...PRUNE_METHODS];

/** Bins of one histogram half; far above any real report, low enough to refuse a runaway document. */
const MAX_BINS = 4096;

const histogram: Validator<HistogramPair> = (v, at) => {
  const h = object<HistogramPair>({ lo: num, hi: num, before: arrayOf(num), after: arrayOf(num) })(v, at);
  if (h.before.length !== h.after.length) throw new TwbError('io', `${at}: before has ${h.before.length} bins but after has ${h.after.length}; both halves share one range`);
  if (h.before.length > MAX_BINS) throw new TwbError('io', `${at}: ${h.before.length} bins, more than the ${MAX_BINS} a report may hold`);
  if (h.hi < h.lo) throw new TwbError('io', `${at}: hi (${h.hi}) is below lo (${h.lo})`);
  return h;
};

const layer = object<LayerError>({
  node: str,
  opType: str,
  tensor: str,
  sqnrDb: optional(nullable(num)),
  cumulativeSqnrDb: nullable(num),
  mse: num,
  cosine: num,
  cumulativeMse: num,
  cumulativeCosine: num,
  weightSqnrDb: optional(nullable(num)),
  latencyShare: optional(num),
  detail: optional(str),
  weightHistogram: optional(histogram),
  activationHistogram: optional(histogram),
});

const config = object<CompressionConfig>({
  mode: oneOf(COMPRESSION_MODES),
  perChannel: bool,
  calibrate: optional(oneOf(CALIBRATION_METHODS)),
  method: optional(oneOf(INT4_METHODS)),
  blockSize: optional(num),
  amount: optional(num),
  exclude: arrayOf(str),
  executionProvider: str,
  threads: num,
  batch: num,
  seq: num,
  seed: num,
  runs: num,
  calibrationFile: optional(str),
  evalFile: optional(str),
});

const env = object<RunEnv>({ executionProvider: str, threads: num, ortVersion: str, cpu: str, cpuCount: num, platform: str, nodeVersion: str });
const beforeAfter = object<{ before: number; after: number }>({ before: num, after: num });
const inputsUsed = object<CompressionReport['analysis']>({ inputs: oneOf(['eval file', 'calibration file', 'generated'] as const), batches: num, examples: num });

const report = object<CompressionReport>({
  schemaVersion: literal(COMPRESSION_SCHEMA_VERSION),
  kind: oneOf(['quantization', 'pruning'] as const),
  id: str,
  createdAt: str,
  model: object({ name: str, source: str }),
  outFile: str,
  config,
  env,
  sizeBytes: beforeAfter,
  latencyMs: beforeAfter,
  latencySamples: object({ before: arrayOf(num), after: arrayOf(num) }),
  speedup: num,
  layers: arrayOf(layer),
  skipped: arrayOf(object({ node: str, opType: str, reason: str })),
  output: object<CompressionReport['output']>({ name: str, sqnrDb: nullable(num), cosine: num, mse: num, top1Agreement: num }),
  eval: optional(object<NonNullable<CompressionReport['eval']>>({ file: str, examples: num, labels: num, accuracyBefore: num, accuracyAfter: num })),
  analysis: inputsUsed,
  calibration: optional(object<NonNullable<CompressionReport['calibration']>>({ inputs: oneOf(['calibration file', 'generated'] as const), batches: num, examples: num })),
  notes: arrayOf(str),
  warnings: arrayOf(str),
});

/** Validates a parsed compression report (from a file or another process); throws naming the bad path. */
export function validateCompressionReport(v: unknown): CompressionReport {
  if (v && typeof v === 'object' && !Array.isArray(v) && 'schemaVersion' in v && (v as { schemaVersion: unknown }).schemaVersion !== COMPRESSION_SCHEMA_VERSION) {
    throw new TwbError('io', `report.schemaVersion: compression report has schemaVersion ${JSON.stringify((v as { schemaVersion: unknown }).schemaVersion)}; this version of the workbench reads ${COMPRESSION_SCHEMA_VERSION}`);
  }
  const r = report(v, 'report');
  const isQuant = (QUANT_MODES as readonly string[]).includes(r.config.mode);
  if (r.kind !== (isQuant ? 'quantization' : 'pruning')) {
    throw new TwbError('io', `report.kind: "${r.kind}" does not match report.config.mode "${r.config.mode}" (a ${isQuant ? 'quantization' : 'pruning'} mode)`);
  }
  return r;
}

/** Parses and validates the JSON text of a compression report; throws an io error naming what is wrong. */
export function parseCompressionJson(text: string): CompressionReport {
  return validateCompressionReport(parseJsonText(text));
}
