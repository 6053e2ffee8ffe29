/**
 * The compression lab: runs one quantization or pruning pass on a model, writes the new model, and
 * measures in the same run what it cost and bought — file size, latency of both models side by side,
 * per-layer and end-to-end error on the same inputs, and task accuracy when an eval file is given.
 */
import * as path from 'node:path';
import { loadModelSource } from '../profile/model-source';
import { defaultDeps, profileInference } from '../profile/profiler';
import { encodeModel } from '../onnx/codec';
import { inlineExternalData } from '../onnx/external-data';
import { buildFeeds, FeedTensor } from '../runtime/feeds';
import { requireProvider, SessionSpec } from '../runtime/ort';
import { runEnv } from '../runtime/env';
import { resultId } from '../util/result-id';
import { probeModelBytes } from '../model/probe';
import { CompressionConfig, CompressionReport, COMPRESSION_SCHEMA_VERSION } from '../schema/compression';
import { InferenceRun } from '../schema/run';
import { percentile } from '../util/stats';
import { writeFileAtomic } from '../util/atomic-write';
import { throwIfAborted } from '../util/abort';
import { TwbError } from '../util/errors';
import { chunkFeeds, chunkLabels, EvalData, readEvalFile } from './eval-file';
import { analyzeError } from './error-analysis';
import { compareLatency } from './latency';
import { captureWith } from './runner';
import { kindOfMode, needsCalibration, runPass } from './pass-registry';
import { resolveCompressionConfig } from './config';

export type CompressPhase = 'load' | 'transform' | 'write' | 'latency' | 'analyze' | 'profile';

export interface CompressProgress {
  phase: CompressPhase;
  done: number;
  total: number;
  message: string;
}

export interface CompressRequest extends Partial<Omit<CompressionConfig, 'exclude'>> {
  /** Path to an .onnx file or `builtin:NAME`. */
  model: string;
  mode: CompressionConfig['mode'];
  /** Where to write the new model. */
  out: string;
  exclude?: string[];
  /** Examples per batch when an eval or calibration file is split (default 8). */
  fileBatch?: number;
}

export interface CompressDeps {
  clock: () => number;
  now: () => Date;
  onProgress?: (p: CompressProgress) => void;
  signal?: AbortSignal;
}

export function defaultCompressDeps(overrides: Partial<CompressDeps> = {}): CompressDeps {
  return { clock: () => performance.now(), now: () => new Date(), ...overrides };
}

/** Generated calibration batches when no file is given, and analysis batches likewise. */
const GENERATED_CALIBRATION_BATCHES = 4;
/** Generated examples the error analysis runs on at least (top-1 agreement over 2 examples says little). */
const GENERATED_ANALYSIS_EXAMPLES = 16;
const WARMUP = 3;

export async function compressModel(request: CompressRequest, deps: CompressDeps): Promise<CompressionReport> {
  const config = resolveCompressionConfig(request);
  const kind = kindOfMode(config.mode);
  const progress = (phase: CompressPhase, done: number, total: number, message: string) => deps.onProgress?.({ phase, done, total, message });
  const check = () => throwIfAborted(deps.signal, kind === 'quantization' ? 'quantization' : 'pruning');
  const notes: string[] = [];
  const warnings: string[] = [];

  progress('load', 0, 1, `loading ${request.model}`);
  const src = await loadModelSource(request.model, config.seed);
  const outFile = path.resolve(request.out);
  if (typeof src.ortInput === 'string' && path.resolve(src.ortInput) === outFile) {
    throw new TwbError('usage', `--out "${request.out}" is the input model; the original is never overwritten — choose another file`);
  }
  const original = typeof src.ortInput === 'string' ? await inlineExternalData(src.model, path.dirname(src.ortInput)) : src.model;
  const ep = config.executionProvider === 'cpu' ? 'cpu' : await requireProvider(config.executionProvider, probeModelBytes());
  const spec: SessionSpec = { executionProvider: ep, threads: config.threads, optLevel: 'all' };
  const generated = (count: number, seed: number) =>
    Array.from({ length: count }, (_, i) => buildFeeds(original, { batch: config.batch, seq: config.seq, past: 0, named: {} }, seed + i).feeds);
  const fileBatch = request.fileBatch ?? 8;
  const fromFile = async (file: string, what: 'eval' | 'calibration') => {
    const data = await readEvalFile(file, original, what);
    if (data.examples === 0) throw new TwbError('bad-input', `${what} file "${file}" holds no examples`);
    return data;
  };
  const calibrationData = config.calibrationFile ? await fromFile(config.calibrationFile, 'calibration') : undefined;
  const evalData = config.evalFile ? await fromFile(config.evalFile, 'eval') : undefined;
  if (evalData && !evalData.labels) throw new TwbError('bad-input', `eval file "${config.evalFile}" has no "labels"; accuracy needs them (a calibration file may omit them)`);
  check();

  progress('transform', 0, 1, `running ${config.mode}`);
  const calibrationBatches = calibrationData ? chunkFeeds(calibrationData.feeds, calibrationData.examples, fileBatch) : generated(GENERATED_CALIBRATION_BATCHES, config.seed + 100);
  if (needsCalibration(config) && !calibrationData) {
    notes.push(`calibrated on ${GENERATED_CALIBRATION_BATCHES} batches of generated inputs; pass --calibration FILE with representative data for a faithful result`);
  }
  const result = await runPass(original, config, {
    exclude: new Set(config.exclude),
    capture: captureWith(original, calibrationBatches, spec, deps.signal),
    onProgress: (f, m) => progress('transform', f, 1, m),
    signal: deps.signal,
  });
  notes.push(...result.notes);
  check();

  progress('write', 0, 1, `writing ${outFile}`);
  const bytes = encodeModel(result.model);
  await writeFileAtomic(outFile, bytes);
  const unknownExclusions = config.exclude.filter((n) => !original.graph.node.some((node) => node.name === n));
  if (unknownExclusions.length > 0) warnings.push(`--exclude names no node of the model: ${unknownExclusions.join(', ')}`);
  if (result.changed.length === 0) warnings.push('the pass changed no node: nothing in this model matched');

  const latencyFeeds = generated(1, config.seed)[0]!;
  progress('latency', 0, config.runs, 'timing the original and the new model');
  const times = await compareLatency({
    before: src.ortInput,
    after: bytes,
    spec,
    feeds: latencyFeeds,
    warmup: WARMUP,
    runs: config.runs,
    clock: deps.clock,
    signal: deps.signal,
    onProgress: (d, t, m) => progress('latency', d, t, m),
  });
  check();

  const analysisSource: CompressionReport['analysis']['inputs'] = evalData ? 'eval file' : calibrationData ? 'calibration file' : 'generated';
  const data: EvalData | undefined = evalData ?? calibrationData;
  const batches = data ? chunkFeeds(data.feeds, data.examples, fileBatch) : generated(Math.max(2, Math.ceil(GENERATED_ANALYSIS_EXAMPLES / config.batch)), config.seed + 1);
  const labels = evalData?.labels ? chunkLabels(evalData.labels, evalData.examples, fileBatch) : undefined;
  const analysis = await analyzeError({
    original,
    transformed: result.model,
    changed: result.changed,
    batches,
    ...(labels ? { labels } : {}),
    spec,
    signal: deps.signal,
    onProgress: (d, t, m) => progress('analyze', d, t, m),
  });
  warnings.push(...analysis.warnings);

  progress('profile', 0, 1, 'profiling the original for per-layer time shares');
  const shares = await latencyShares(request.model, config, deps.signal).catch((e: unknown) => {
    if (e instanceof TwbError && e.code === 'cancelled') throw e;
    warnings.push(`per-layer time shares unavailable: ${(e as Error).message}`);
    return new Map<string, number>();
  });
  for (const l of analysis.layers) {
    const share = shares.get(l.node);
    if (share !== undefined) l.latencyShare = share;
  }

  const before = percentile(times.before, 50);
  const after = percentile(times.after, 50);
  const createdAt = deps.now();
  const examples = (list: Array<Record<string, FeedTensor>>) => list.reduce((s, b) => s + (Object.values(b)[0]?.dims[0] ?? 0), 0);
  return {
    schemaVersion: COMPRESSION_SCHEMA_VERSION,
    kind,
    id: resultId(createdAt, src.name, config.mode.replace(':', 'of')),
    createdAt: createdAt.toISOString(),
    model: { name: src.name, source: src.source },
    outFile,
    config: { ...config, executionProvider: ep },
    env: runEnv(ep, config.threads),
    sizeBytes: { before: src.sizeBytes, after: bytes.length },
    latencyMs: { before, after },
    latencySamples: times,
    speedup: after > 0 ? before / after : 0,
    layers: analysis.layers,
    skipped: result.skipped,
    output: analysis.output,
    ...(evalData && analysis.accuracy
      ? { eval: { file: config.evalFile!, examples: evalData.examples, labels: analysis.accuracy.labels, accuracyBefore: analysis.accuracy.before, accuracyAfter: analysis.accuracy.after } }
      : {}),
    analysis: { inputs: analysisSource, batches: batches.length, examples: examples(batches) },
    ...(needsCalibration(config)
      ? { calibration: { inputs: calibrationData ? 'calibration file' : 'generated', batches: calibrationBatches.length, examples: examples(calibrationBatches) } as const }
      : {}),
    notes,
    warnings,
  };
}

/** Share of the original's kernel time per stored node, from a short profile (fused kernels split evenly over their sources). */
async function latencyShares(model: string, config: CompressionConfig, signal?: AbortSignal): Promise<Map<string, number>> {
  const run: InferenceRun = await profileInference(
    { model, executionProvider: config.executionProvider, threads: config.threads, batch: config.batch, seq: config.seq, seed: config.seed, warmup: 2, runs: 1, profiledRuns: 3 },
    defaultDeps({ signal }),
  );
  const shares = new Map<string, number>();
  for (const op of run.ops) {
    const sources = op.fusedFrom && op.fusedFrom.length > 0 ? op.fusedFrom : [op.node];
    for (const s of sources) shares.set(s, (shares.get(s) ?? 0) + op.share / sources.length);
  }
  return shares;
}
