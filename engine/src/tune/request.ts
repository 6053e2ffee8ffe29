/**
 * What `twb tune` is asked to do, its defaults and checks, and the budget verdict every trial gets.
 * Every bad field is a usage error naming it and its valid range, raised before anything runs.
 */
import { resolveCompressionConfig } from '../compress/config';
import type { TuningBudget } from '../schema/tuning';
import { TwbError } from '../util/errors';

export interface TuneRequest {
  /** Path to an .onnx file or `builtin:NAME`. */
  model: string;
  /** Eval file with labels (compress/eval-file.ts format); split into a search and a held-back part. */
  evalFile: string;
  /** Where best.onnx, best.twb.json (and with `keepAll` every trial model) go. */
  outDir: string;
  /** Largest accuracy loss allowed, fraction 0..1 (default 0.01 when no bound is given). */
  maxAccuracyDrop?: number;
  /** Smallest top-1 agreement with the original, fraction 0..1. */
  minTop1Agreement?: number;
  /** Trials at most (default 8). */
  trials?: number;
  /** Trials in a row adding nothing to the Pareto front before stopping (default 3). */
  patience?: number;
  batch?: number;
  seq?: number;
  /** Intra-op threads (default: all cores). */
  threads?: number;
  executionProvider?: string;
  seed?: number;
  /** Timed runs per model in each trial (default 20). */
  runs?: number;
  /** Fraction of the labelled examples held back from the search (default 0.3). */
  heldBack?: number;
  /** Candidate ids to try (default: the whole space). */
  candidates?: string[];
  /** Keep every trial's model under `<outDir>/trials/` (default: only the best). */
  keepAll?: boolean;
  /** Order the search by the advisor's ranking of a profile (default true). */
  advisor?: boolean;
  /** Calibration data for int8-static and GPTQ (default: the search part of the eval file). */
  calibrationFile?: string;
}

export interface ResolvedTuneRequest extends Required<Omit<TuneRequest, 'maxAccuracyDrop' | 'minTop1Agreement' | 'candidates' | 'calibrationFile'>> {
  budget: TuningBudget;
  candidates?: string[];
  calibrationFile?: string;
}

export const DEFAULT_MAX_ACCURACY_DROP = 0.01;
export const DEFAULT_TRIALS = 8;
export const DEFAULT_PATIENCE = 3;
export const DEFAULT_HELD_BACK = 0.3;
const DEFAULT_RUNS = 20;
const MAX_TRIALS = 1000;

function fractionIn(name: string, v: number | undefined, lo: number, hi: number, open = false): void {
  if (v === undefined) return;
  const ok = Number.isFinite(v) && (open ? v > lo && v < hi : v >= lo && v <= hi);
  if (!ok) throw new TwbError('usage', `${name} must be a fraction in ${open ? '(' : '['}${lo}, ${hi}${open ? ')' : ']'}, got ${v}`);
}

function intIn(name: string, v: number, lo: number, hi: number): void {
  if (!Number.isInteger(v) || v < lo || v > hi) throw new TwbError('usage', `${name} must be an integer in [${lo}, ${hi}], got ${v}`);
}

export function resolveTuneRequest(req: TuneRequest): ResolvedTuneRequest {
  if (!req.model) throw new TwbError('usage', 'tuning needs a model: a path to an .onnx file or builtin:NAME');
  if (!req.evalFile) throw new TwbError('usage', 'tuning needs an eval file with labels (--eval FILE): accuracy is what the budget bounds');
  fractionIn('--max-accuracy-drop', req.maxAccuracyDrop, 0, 1);
  fractionIn('--min-top1', req.minTop1Agreement, 0, 1);
  fractionIn('--held-back', req.heldBack, 0, 1, true);
  const trials = req.trials ?? DEFAULT_TRIALS;
  const patience = req.patience ?? DEFAULT_PATIENCE;
  intIn('--trials', trials, 1, MAX_TRIALS);
  intIn('--patience', patience, 1, MAX_TRIALS);
  const bounded = req.maxAccuracyDrop !== undefined || req.minTop1Agreement !== undefined;
  // The shared run options are checked as the compression lab checks them, before the first trial.
  const common = resolveCompressionConfig({ mode: 'int8-dynamic', executionProvider: req.executionProvider, threads: req.threads, batch: req.batch, seq: req.seq, seed: req.seed, runs: req.runs ?? DEFAULT_RUNS });
  return {
    model: req.model,
    evalFile: req.evalFile,
    outDir: req.outDir,
    budget: {
      maxAccuracyDrop: bounded ? req.maxAccuracyDrop ?? null : DEFAULT_MAX_ACCURACY_DROP,
      minTop1Agreement: req.minTop1Agreement ?? null,
      trials,
      patience,
    },
    trials,
    patience,
    batch: common.batch,
    seq: common.seq,
    threads: common.threads,
    executionProvider: common.executionProvider,
    seed: common.seed,
    runs: common.runs,
    heldBack: req.heldBack ?? DEFAULT_HELD_BACK,
    keepAll: req.keepAll ?? false,
    advisor: req.advisor ?? true,
    ...(req.candidates && req.candidates.length > 0 ? { candidates: req.candidates } : {}),
    ...(req.calibrationFile ? { calibrationFile: req.calibrationFile } : {}),
  };
}

/** Accuracy figures compare as equal within this: 1 − 31/32 is not exactly 1/32 in floating point. */
const EPS = 1e-9;
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** Why a result breaks the budget, one phrase per broken bound; empty when it is within. */
export function budgetBreaches(budget: TuningBudget, accuracyDrop: number, top1Agreement: number): string[] {
  const out: string[] = [];
  if (budget.maxAccuracyDrop !== null && accuracyDrop > budget.maxAccuracyDrop + EPS) out.push(`accuracy drop ${pct(accuracyDrop)} > ${pct(budget.maxAccuracyDrop)} allowed`);
  if (budget.minTop1Agreement !== null && top1Agreement < budget.minTop1Agreement - EPS) out.push(`top-1 agreement ${pct(top1Agreement)} < ${pct(budget.minTop1Agreement)} required`);
  return out;
}
