/**
 * `sweepVariants`: the structural options side by side — parameters, FLOPs, measured step time and
 * memory, optionally the accuracy each reaches on a task — and a sequence-length sweep per variant
 * whose log-log slopes show quadratic against linear growth.
 *
 * Every variant is built with maxSeq = the longest length swept, so position tables (and
 * Linformer's projections) are the same size for all and parameter counts compare. A point is one
 * warm-up step, then the median wall time of a few steps, and the peak memory of one step under
 * tf.profile (the engine's accounting, so the same shapes give the same bytes). A point that is
 * over the time budget or fails (out of memory) ends that variant's sweep: longer lengths would
 * only fail slower. Mixer's token-mixing weights are maxSeq × maxSeq, so it too is built for the
 * longest length and mixes that fixed number of positions: the report says so in its warnings.
 */
import type { Tf } from '../runtime/tfjs';
import { loadTf } from '../runtime/tfjs';
import { TransformerSpec, validateSpec } from '../model/spec';
import { formatAttention, formatShareLayers, parseAttention, parseShareLayers } from '../model/variants';
import { initialWeights } from '../model/transformer';
import { resultId } from '../util/result-id';
import { percentile } from '../util/stats';
import { TwbError } from '../util/errors';
import type { LearnedSpans, SweepPoint, VariantResult, VariantsReport } from '../schema/training';
import { TRAINING_SCHEMA_VERSION } from '../schema/training';
import type { JobOptions, SweepProgress, SweepRequest } from './request';
import { createTfTransformer, TfTransformer } from './tf-model';
import { AdamW, createAdamW } from './optimizer';
import { crossEntropy, randomBatch, TASK_KIND } from './tasks';
import { recordStep } from './step-profile';
import { resolveSpec, take, trainDefaults, trainModel, trainStep } from './trainer';
import { transformerFlops } from '../analysis/transformer-flops';

/**
 * The variants a sweep compares when none are named. Of issue #9's three, dynamic convolution is
 * in: it is linear in the sequence in ONNX Runtime too, where window and BigBird run as dense
 * attention. Its tfjs cost is per tap (measured on the 2-core machine, tiny-bert batch 1 at seq
 * 512: K = 7 1.8 s a step, K = 31 9.4 s, dense 4.9 s, window:32 1.5 s), so K = 7 (one of Wu et
 * al.'s kernel sizes) adds about 45 s to the default sweep, where K = 31 adds minutes (its 1024
 * point went over the 60 s budget while the machine was shared). Mixer and adaptive span cost what
 * dense attention costs (seq² per layer; about 85 s and 120 s more), and adaptive span shows its
 * learned spans only with --task: name them with --variants.
 */
export const DEFAULT_VARIANTS = ['dense', 'window:32', 'bigbird:16,1,1', 'linformer:32', 'dynamic-conv:7'];
export const DEFAULT_SEQS = [64, 128, 256, 512, 1024];
export const SWEEP_DEFAULTS = { batch: 1, seq: 128, pointBudgetMs: 60_000 } as const;

/** Timed steps per point: three, or two when a step takes longer than this. */
const SLOW_STEP_MS = 2000;

export interface VariantLabel {
  attention: string;
  shareLayers: string;
}

/** Splits `attention[+share:N|all]` (e.g. `window:32+share:all`) into its two options. */
export function parseVariantLabel(label: string): VariantLabel {
  const [attention, ...rest] = label.split('+');
  let shareLayers = 'none';
  for (const part of rest) {
    if (!part.startsWith('share:')) throw new TwbError('usage', `variant "${label}": "+${part}" is not +share:N or +share:all`);
    shareLayers = part.slice('share:'.length);
  }
  parseAttention(attention);
  return { attention, shareLayers };
}

/** Least-squares slope of log(y) over log(x); null with fewer than two points. */
export function growthExponent(points: ReadonlyArray<{ x: number; y: number }>): number | null {
  const pts = points.filter((p) => p.x > 0 && p.y > 0);
  if (pts.length < 2) return null;
  const lx = pts.map((p) => Math.log(p.x));
  const ly = pts.map((p) => Math.log(p.y));
  const mx = lx.reduce((a, b) => a + b, 0) / pts.length;
  const my = ly.reduce((a, b) => a + b, 0) / pts.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < pts.length; i++) {
    num += (lx[i] - mx) * (ly[i] - my);
    den += (lx[i] - mx) ** 2;
  }
  return den > 0 ? num / den : null;
}

function positiveInts(values: number[], what: string): number[] {
  for (const v of values) if (!Number.isInteger(v) || v < 1) throw new TwbError('usage', `${what} must be positive integers, got ${v}`);
  return [...new Set(values)].sort((a, b) => a - b);
}

export async function sweepVariants(req: SweepRequest, opts: JobOptions<SweepProgress> = {}): Promise<VariantsReport> {
  const createdAt = new Date();
  const labels = req.variants ?? DEFAULT_VARIANTS;
  if (labels.length === 0) throw new TwbError('usage', 'the sweep needs at least one variant');
  const parsed = labels.map(parseVariantLabel);
  const seqs = positiveInts(req.seqs ?? DEFAULT_SEQS, 'sweep lengths');
  if (seqs.length === 0) throw new TwbError('usage', 'the sweep needs at least one sequence length');
  const [seq] = positiveInts([req.seq ?? SWEEP_DEFAULTS.seq], 'the base sequence length');
  const [batch] = positiveInts([req.batch ?? SWEEP_DEFAULTS.batch], 'the batch');
  const seed = req.seed ?? 0;
  const budgetMs = req.pointBudgetMs ?? SWEEP_DEFAULTS.pointBudgetMs;
  const base = resolveSpec(req.model, req.specOverrides);
  const spec: TransformerSpec = { ...base, maxSeq: Math.max(...seqs, seq) };
  if (req.task && TASK_KIND[req.task] !== spec.kind) throw new TwbError('usage', `task "${req.task}" does not fit ${req.model}, which is ${spec.kind === 'encoder' ? 'an encoder' : 'a decoder'}`);
  const trainSteps = req.task ? (req.trainSteps ?? trainDefaults(spec, req.task).steps) : 0;
  const rt = await loadTf(req.backend ?? 'auto');
  const warnings: string[] = [];
  const variants: VariantResult[] = [];
  const lengths = [...new Set([...seqs, seq])].sort((a, b) => a - b);
  let cancelled = false;

  for (let index = 0; index < parsed.length && !cancelled; index++) {
    const label = labels[index];
    const progress = (message: string, at?: number) => opts.onProgress?.({ variant: label, index, count: labels.length, ...(at === undefined ? {} : { seq: at }), message });
    const v = parsed[index];
    let vspec: TransformerSpec;
    try {
      vspec = { ...spec, attention: parseAttention(v.attention), shareLayers: parseShareLayers(v.shareLayers, spec.layers) };
      validateSpec(vspec);
    } catch (e) {
      variants.push(failedVariant(label, v, seqs, message(e)));
      progress(`skipped: ${message(e)}`);
      continue;
    }
    if (vspec.attention?.kind === 'mixer') warnings.push(mixerWarning(label, vspec.maxSeq, lengths));
    const measured = await measureVariant(rt.tf, vspec, lengths, batch, seed, budgetMs, opts.signal, (s) => progress(`seq ${s}`, s));
    cancelled = measured.cancelled;
    if (cancelled && measured.points.size === 0) break;
    const at = measured.points.get(seq);
    let accuracy: number | null = null;
    let spans: LearnedSpans | undefined;
    if (req.task && !cancelled && !at?.error) {
      progress(`training ${trainSteps} steps on ${req.task}`);
      try {
        const run = await trainModel(
          { model: req.model, specOverrides: { ...req.specOverrides, maxSeq: spec.maxSeq }, task: req.task, steps: trainSteps, seq, seed, backend: rt.backend as SweepRequest['backend'], attention: v.attention, shareLayers: v.shareLayers, evalEvery: trainSteps, profiledSteps: 0 },
          { signal: opts.signal, onProgress: (p) => progress(`training: ${p.message}`) },
        );
        cancelled = run.cancelled === true;
        accuracy = run.accuracy.at(-1)?.value ?? null;
        spans = run.spans;
      } catch (e) {
        warnings.push(`${label}: training on ${req.task} failed: ${message(e)}`);
      }
    }
    const sweep: SweepPoint[] = seqs.filter((s) => measured.points.has(s)).map((s) => measured.points.get(s)!);
    const ok = sweep.filter((p) => p.error === undefined);
    variants.push({
      label,
      variant: { attention: formatAttention(vspec.attention), shareLayers: formatShareLayers(vspec.shareLayers, vspec.layers) },
      params: measured.params,
      flopsPerStep: transformerFlops(vspec, batch, seq).trainingStep,
      stepMs: at?.stepMs ?? 0,
      peakBytes: at?.peakBytes ?? 0,
      tokensPerSecond: at?.stepMs ? (batch * seq * 1000) / at.stepMs : 0,
      accuracy,
      growth: { time: growthExponent(ok.map((p) => ({ x: p.seq, y: p.stepMs! }))), memory: growthExponent(ok.map((p) => ({ x: p.seq, y: p.peakBytes! }))) },
      ...(spans ? { spans } : {}),
      sweep,
      ...(at?.error ? { error: `at the base length ${seq}: ${at.error}` } : {}),
    });
  }
  if (cancelled) warnings.push('cancelled: the variants and lengths not reached are missing');
  return {
    schemaVersion: TRAINING_SCHEMA_VERSION,
    kind: 'variants',
    id: resultId(createdAt, req.model, 'variants'),
    createdAt: createdAt.toISOString(),
    model: req.model,
    spec,
    backend: rt.backend,
    env: rt.env,
    config: { batch, seq, seqs, task: req.task ?? null, trainSteps, seed },
    variants,
    ...(cancelled ? { cancelled: true } : {}),
    warnings,
  };
}

interface Measured {
  params: number;
  points: Map<number, SweepPoint>;
  cancelled: boolean;
}

/** Times and profiles one variant at each length, shortest first, until one fails or the job is cancelled. */
async function measureVariant(tf: Tf, spec: TransformerSpec, lengths: number[], batch: number, seed: number, budgetMs: number, signal: AbortSignal | undefined, onPoint: (seq: number) => void): Promise<Measured> {
  const model = createTfTransformer(tf, spec, initialWeights(spec, seed));
  const opt = createAdamW(tf, model.variables, { lr: 1e-4, warmupSteps: 0, totalSteps: 1, weightDecay: 0, clipNorm: 0 });
  const points = new Map<number, SweepPoint>();
  let failed: string | undefined;
  try {
    for (const seq of lengths) {
      const flops = transformerFlops(spec, batch, seq).trainingStep;
      if (failed) {
        points.set(seq, { seq, flops, error: failed });
        continue;
      }
      onPoint(seq);
      await new Promise((r) => setImmediate(r));
      if (signal?.aborted) return { params: model.paramCount(), points, cancelled: true };
      try {
        points.set(seq, { seq, flops, ...(await measurePoint(tf, model, opt, spec, batch, seq, seed, budgetMs)) });
      } catch (e) {
        points.set(seq, { seq, flops, error: message(e) });
      }
      const error = points.get(seq)!.error;
      if (error) failed = `not run: length ${seq} already failed (${error})`;
    }
    return { params: model.paramCount(), points, cancelled: false };
  } finally {
    opt.dispose();
    model.dispose();
  }
}

async function measurePoint(tf: Tf, model: TfTransformer, opt: AdamW, spec: TransformerSpec, batch: number, seq: number, seed: number, budgetMs: number): Promise<Pick<SweepPoint, 'stepMs' | 'peakBytes' | 'error'>> {
  const b = randomBatch(spec, batch, seq, seed);
  const task = { loss: crossEntropy };
  const step = (i: number) => {
    const t0 = performance.now();
    take(trainStep(tf, model, opt, task, b, i));
    return performance.now() - t0;
  };
  const over = (ms: number) => `a step took ${(ms / 1000).toFixed(1)} s, over the budget of ${(budgetMs / 1000).toFixed(1)} s per point`;
  const warm = step(0);
  if (warm > budgetMs) return { error: over(warm) };
  const times = Array.from({ length: warm > SLOW_STEP_MS ? 2 : 3 }, (_, i) => step(i + 1));
  const stepMs = percentile(times, 50);
  if (stepMs > budgetMs) return { error: over(stepMs) };
  const record = await recordStep(tf, () => take(trainStep(tf, model, opt, task, b, 0)));
  return { stepMs, peakBytes: record.peakBytes };
}

/** Mixer's caveat: its weights fix how many positions it mixes, here the longest length swept. */
export function mixerWarning(label: string, maxSeq: number, lengths: readonly number[]): string {
  const shorter = lengths.filter((s) => s < maxSeq);
  return (
    `${label}: token mixing has ${maxSeq} × ${maxSeq} weights per layer (maxSeq = the longest length swept), so the model mixes a fixed number of positions: ` +
    `${shorter.length ? `the shorter lengths (${shorter.join(', ')}) use their top-left block, ` : ''}its parameter count grows with the longest length, and a trained mixer cannot take longer sequences`
  );
}

function failedVariant(label: string, v: VariantLabel, seqs: number[], error: string): VariantResult {
  return {
    label,
    variant: { attention: v.attention, shareLayers: v.shareLayers },
    params: 0,
    flopsPerStep: 0,
    stepMs: 0,
    peakBytes: 0,
    tokensPerSecond: 0,
    accuracy: null,
    growth: { time: null, memory: null },
    sweep: seqs.map((seq) => ({ seq, flops: 0, error })),
    error,
  };
}

function message(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0];
}
