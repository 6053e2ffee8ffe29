/**
 * Accuracy-aware auto-tuning, as Olive and Neural Compressor do it: try graph passes one by one
 * (most promising first), measure each with the compression lab on the search part of an eval file,
 * keep those within the accuracy budget on a Pareto front of latency, accuracy and size, stop when
 * the trial budget is spent or the front stops growing, then re-check the best on held-back examples
 * and keep its model and config.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { compressModel, CompressDeps, CompressRequest } from '../compress/lab';
import { readEvalFile } from '../compress/eval-file';
import { needsCalibration } from '../compress/pass-registry';
import { loadModelSource } from '../profile/model-source';
import { probeModelBytes } from '../model/probe';
import { requireProvider, SessionSpec } from '../runtime/ort';
import type { CompressionReport } from '../schema/compression';
import type { SuggestionsReport } from '../schema/advice';
import { StopReason, Trial, TUNING_SCHEMA_VERSION, TuningReport } from '../schema/tuning';
import { resultId } from '../util/result-id';
import { percentile } from '../util/stats';
import { TwbError } from '../util/errors';
import { accuracyOf, agreementOf, predictTop1 } from './accuracy';
import { splitEvalFile } from './eval-split';
import { adviseForTuning, isCancel, orderCandidates, OrderRequest } from './order';
import { paretoFront, pickBest, TrialPoint, trialsWithoutGain } from './pareto';
import { budgetBreaches, resolveTuneRequest, TuneRequest } from './request';
import { Candidate, searchSpace } from './space';
import { BEST_MODEL, keepBest } from './keep';

export type TunePhase = 'prepare' | 'order' | 'trial' | 'check' | 'keep';

export interface TuneProgress {
  phase: TunePhase;
  /** 1-based number of the trial running (phase `trial`). */
  trial?: number;
  /** Trials the budget allows. */
  trials?: number;
  candidate?: string;
  message: string;
}

export interface TuneDeps {
  /** Monotonic milliseconds. */
  clock: () => number;
  now: () => Date;
  onProgress?: (p: TuneProgress) => void;
  /** Aborting stops the search after the trial in flight; the report so far is returned. */
  signal?: AbortSignal;
  compress: (request: CompressRequest, deps: CompressDeps) => Promise<CompressionReport>;
  advise: (request: OrderRequest, signal: AbortSignal | undefined, now: () => Date, onProgress?: (m: string) => void) => Promise<SuggestionsReport>;
}

export function defaultTuneDeps(overrides: Partial<TuneDeps> = {}): TuneDeps {
  return { clock: () => performance.now(), now: () => new Date(), compress: compressModel, advise: adviseForTuning, ...overrides };
}

const pointOf = (t: Trial): TrialPoint => ({ id: t.id, latency: 1 / t.speedup!, accuracy: t.accuracy!, sizeBytes: t.sizeBytes! });
/** Median of the original's p50 over the trials that timed it. */
function originalLatency(trials: Trial[]): number | null {
  const timed = trials.map((t) => t.originalLatencyMs).filter((x): x is number => x !== null);
  return timed.length > 0 ? percentile(timed, 50) : null;
}
const withinBudget = (trials: Trial[]) => trials.filter((t) => t.withinBudget && (t.speedup ?? 0) > 0);

export type { TuneRequest };

export async function tuneModel(request: TuneRequest, deps: TuneDeps): Promise<TuningReport> {
  const started = deps.clock();
  const r = resolveTuneRequest(request);
  const progress = (p: TuneProgress) => deps.onProgress?.(p);
  const aborted = () => deps.signal?.aborted === true;
  const warnings: string[] = [];

  progress({ phase: 'prepare', message: `loading ${r.model}` });
  const src = await loadModelSource(r.model, r.seed);
  const outputName = src.model.graph.output[0]?.name;
  if (!outputName) throw new TwbError('invalid-model', `"${r.model}" declares no output; accuracy needs the first output's logits`);
  const space = searchSpace(r.executionProvider, r.candidates);
  if (space.candidates.length === 0) throw new TwbError('usage', `no candidate left to try: ${space.skipped.map((s) => `${s.candidate}: ${s.reason}`).join('; ')}`);
  const ep = r.executionProvider === 'cpu' ? 'cpu' : await requireProvider(r.executionProvider, probeModelBytes());
  const spec: SessionSpec = { executionProvider: ep, threads: r.threads, optLevel: 'disabled' };
  const outDir = path.resolve(r.outDir);
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'twb-tune-'));
  try {
    const split = await splitEvalFile(r.evalFile, src.model, { heldBack: r.heldBack, seed: r.seed, dir: tmp });
    if (split.labelled < split.examples) warnings.push(`${split.examples - split.labelled} example(s) of the eval file have no label ≥ 0 and were left out of both parts`);
    const searchData = await readEvalFile(split.search.file, src.model, 'eval');
    const heldData = await readEvalFile(split.heldBack.file, src.model, 'eval');
    progress({ phase: 'prepare', message: 'measuring the original on the eval parts' });
    const baseSearch = await predictTop1(src.ortInput, outputName, searchData, spec, r.batch, 'original');
    const baseHeld = await predictTop1(src.ortInput, outputName, heldData, spec, r.batch, 'original');
    const baseAccuracy = accuracyOf(baseSearch, searchData.labels!.data);
    const heldBackAccuracy = accuracyOf(baseHeld, heldData.labels!.data);

    let cancelledEarly = false;
    let advice: SuggestionsReport | null = null;
    let context = 'advisor ranking turned off';
    if (r.advisor) {
      progress({ phase: 'order', message: 'profiling the original for the advisor\'s ranking' });
      try {
        advice = await deps.advise(r, deps.signal, deps.now, (m) => progress({ phase: 'order', message: m }));
        context = `at batch ${r.batch}, seq ${r.seq}`;
      } catch (e) {
        if (!isCancel(e)) {
          context = `no profile for the advisor: ${(e as Error).message}`;
          warnings.push(`search not ordered by the advisor: ${(e as Error).message}`);
        } else cancelledEarly = true;
      }
    }
    const ordering = orderCandidates(space.candidates, advice, context);

    const trialsDir = path.join(outDir, 'trials');
    await fs.mkdir(trialsDir, { recursive: true });
    /** One candidate through the compression lab on the search part; a failure becomes a failed trial. */
    const runTrial = async (c: Candidate, n: number, total: number): Promise<{ trial: Trial }> => {
      const out = path.join(trialsDir, `${c.id}.onnx`);
      const t0 = deps.clock();
      const calibrates = needsCalibration({ mode: c.change.mode, method: c.change.method });
      try {
        // The in-flight trial is not aborted: the user's stop takes effect between trials.
        const rep = await deps.compress(
          {
            model: r.model, ...c.change, out,
            executionProvider: ep, threads: r.threads, batch: r.batch, seq: r.seq, seed: r.seed, runs: r.runs,
            evalFile: split.search.file, fileBatch: r.batch,
            ...(calibrates ? { calibrationFile: r.calibrationFile ?? split.search.file } : {}),
          },
          { clock: deps.clock, now: deps.now, onProgress: (p) => progress({ phase: 'trial', trial: n, trials: total, candidate: c.id, message: `trial ${n}/${total} ${c.id}: ${p.message}` }) },
        );
        const accuracy = rep.eval?.accuracyAfter ?? 0;
        const accuracyDrop = (rep.eval?.accuracyBefore ?? baseAccuracy) - accuracy;
        const breaches = budgetBreaches(r.budget, accuracyDrop, rep.output.top1Agreement);
        if (!r.keepAll && breaches.length > 0) await fs.rm(out, { force: true });
        const trial: Trial = {
          id: c.id, change: c.change, status: breaches.length > 0 ? 'over-budget' : 'ok',
          latencyMs: rep.latencyMs.after, originalLatencyMs: rep.latencyMs.before, speedup: rep.speedup, sizeBytes: rep.sizeBytes.after,
          accuracy, accuracyDrop, top1Agreement: rep.output.top1Agreement, sqnrDb: rep.output.sqnrDb,
          withinBudget: breaches.length === 0,
          ...(breaches.length > 0 ? { reason: breaches.join('; ') } : {}),
          ...(r.keepAll ? { modelPath: out } : {}),
          elapsedMs: deps.clock() - t0,
        };
        return { trial };
      } catch (e) {
        await fs.rm(out, { force: true });
        // A pass that breaks on this model fails its trial, not the search.
        const reason = e instanceof TwbError ? e.message : `internal error: ${(e as Error).message}`;
        const trial: Trial = {
          id: c.id, change: c.change, status: 'failed',
          latencyMs: null, originalLatencyMs: null, speedup: null, sizeBytes: null, accuracy: null, accuracyDrop: null, top1Agreement: null, sqnrDb: null,
          withinBudget: false, reason, elapsedMs: deps.clock() - t0,
        };
        return { trial };
      }
    };

    const trials: Trial[] = [];
    let noGain = 0;
    let stop: { reason: StopReason; detail: string } | undefined;
    const left = (i: number) => ordering.candidates.slice(i).map((c) => c.id);
    for (const [i, c] of ordering.candidates.entries()) {
      if (aborted() || cancelledEarly) {
        stop = { reason: 'cancelled', detail: `stopped by the user after ${trials.length} trial(s); not tried: ${left(i).join(', ')}` };
        break;
      }
      if (trials.length >= r.trials) {
        stop = { reason: 'trials', detail: `the trial budget of ${r.trials} is spent; not tried: ${left(i).join(', ')}` };
        break;
      }
      if (noGain >= r.patience) {
        const last = trials.slice(-noGain).map((t) => t.id);
        stop = { reason: 'converged', detail: `${noGain} trial(s) in a row (${last.join(', ')}) added nothing to the Pareto front (patience ${r.patience}); not tried: ${left(i).join(', ')}` };
        break;
      }
      const n = trials.length + 1;
      const total = Math.min(r.trials, ordering.candidates.length);
      progress({ phase: 'trial', trial: n, trials: total, candidate: c.id, message: `trial ${n}/${total} ${c.id}` });
      const { trial } = await runTrial(c, n, total);
      trials.push(trial);
      noGain = trialsWithoutGain(trials.map((t) => t.id), withinBudget(trials).map(pointOf));
    }
    stop ??= aborted()
      ? { reason: 'cancelled', detail: `stopped by the user after the last candidate's trial; all ${trials.length} ran` }
      : { reason: 'exhausted', detail: `every candidate ran (${trials.length})` };

    const createdAt = deps.now();
    const id = resultId(createdAt, src.name, 'tuning');
    const ok = withinBudget(trials);
    const pareto = paretoFront(ok.map(pointOf));
    const best = pickBest(ok.map(pointOf));
    let bestHeldBack: TuningReport['bestHeldBack'] = null;
    let kept: { bestModel: string; bestConfig: string } | undefined;
    if (best !== null) {
      const bestTrial = trials.find((t) => t.id === best)!;
      progress({ phase: 'check', message: `re-checking ${best} on ${heldData.examples} held-back example(s)` });
      const predicted = await predictTop1(path.join(trialsDir, `${best}.onnx`), outputName, heldData, spec, r.batch, best);
      const accuracy = accuracyOf(predicted, heldData.labels!.data);
      const top1Agreement = agreementOf(predicted, baseHeld);
      const breaches = budgetBreaches(r.budget, heldBackAccuracy - accuracy, top1Agreement);
      bestHeldBack = { accuracy, accuracyDrop: heldBackAccuracy - accuracy, top1Agreement, withinBudget: breaches.length === 0 };
      if (breaches.length > 0) warnings.push(`${best} met the budget on the search part but not on the held-back part (${breaches.join('; ')}): the search part may be too small to trust; give a larger eval file`);
      if ((bestTrial.speedup ?? 0) < 1) warnings.push(`the best within budget, ${best}, is slower than the original here (${bestTrial.speedup!.toFixed(2)}×); it is kept for its size`);
      progress({ phase: 'keep', message: `keeping ${best} in ${outDir}` });
      kept = await keepBest({ outDir, trialsDir, best: bestTrial, trials, keepAll: r.keepAll, config: { ...r, executionProvider: ep }, reportId: id });
    } else {
      await keepBest({ outDir, trialsDir, best: null, trials, keepAll: r.keepAll, config: { ...r, executionProvider: ep }, reportId: id });
      warnings.push(trials.length === 0 ? 'no trial ran' : 'no trial met the accuracy budget: nothing was kept; loosen the budget or try other candidates');
      const stale = path.join(outDir, BEST_MODEL);
      if (await fs.stat(stale).then(() => true, () => false)) warnings.push(`${stale} is from an earlier tuning, not this one`);
    }

    return {
      schemaVersion: TUNING_SCHEMA_VERSION,
      kind: 'tuning',
      id,
      createdAt: createdAt.toISOString(),
      model: { name: src.name, source: src.source },
      eval: { file: path.resolve(r.evalFile), examples: split.examples, searchExamples: split.search.indices.length, heldBackExamples: split.heldBack.indices.length },
      budget: r.budget,
      config: { batch: r.batch, seq: r.seq, threads: r.threads, executionProvider: ep, seed: r.seed, runs: r.runs },
      order: { by: ordering.by, detail: ordering.detail, candidates: ordering.candidates.map((c) => c.id) },
      skipped: space.skipped,
      baseline: { latencyMs: originalLatency(trials), sizeBytes: src.sizeBytes, accuracy: baseAccuracy, heldBackAccuracy },
      trials,
      pareto,
      best,
      bestHeldBack,
      ...(kept ?? {}),
      stopped: stop,
      elapsedMs: deps.clock() - started,
      warnings,
    };

  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}
