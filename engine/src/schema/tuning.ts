/**
 * The tuning report (`kind: "tuning"`): what `twb tune` tried on one model under an accuracy budget,
 * what each trial measured, which trials are on the Pareto front of latency, accuracy and size, the
 * best one and how it held up on examples the search never saw, and where the kept model is.
 * Persisted as JSON (`twb tune --json`), read by the CLI table and the webview.
 */
import type { CompressionConfig } from './compression';

export const TUNING_SCHEMA_VERSION = 1;

/** One graph pass with the options that matter for it: what a trial runs through the compression lab. */
export type TrialChange = Pick<CompressionConfig, 'mode'> & Partial<Pick<CompressionConfig, 'perChannel' | 'calibrate' | 'method' | 'blockSize' | 'amount'>>;

export const TRIAL_STATUSES = ['ok', 'failed', 'over-budget'] as const;
/** `ok`: ran and met the budget; `over-budget`: ran and broke it; `failed`: did not run to the end. */
export type TrialStatus = (typeof TRIAL_STATUSES)[number];

export const STOP_REASONS = ['trials', 'converged', 'exhausted', 'cancelled'] as const;
/**
 * Why the search stopped: the trial budget was spent (`trials`), `patience` trials in a row added
 * nothing to a Pareto front that some trial within budget had started (`converged`), every candidate ran (`exhausted`), or the user stopped it
 * (`cancelled`, after the trial in flight finished).
 */
export type StopReason = (typeof STOP_REASONS)[number];

export interface Trial {
  /** The candidate's id (`int8-dynamic`, `int4-rtn-b128`, `heads-0.5`…); each candidate runs once. */
  id: string;
  change: TrialChange;
  status: TrialStatus;
  /** p50 latency of the trial's model, milliseconds, timed interleaved with the original in this trial; null when failed. */
  latencyMs: number | null;
  /**
   * p50 latency of the original, milliseconds, timed beside it in this trial; null when failed. It
   * moves between trials with the machine's load, which is why trials are compared by `speedup`.
   */
  originalLatencyMs: number | null;
  /** Original p50 ÷ this model's p50, both timed in this trial (> 1 is faster); null when failed. */
  speedup: number | null;
  /** Model file size, bytes; null when failed. */
  sizeBytes: number | null;
  /** Accuracy on the search part of the eval file (0..1, argmax of the first output against the labels); null when failed. */
  accuracy: number | null;
  /** Baseline accuracy − this accuracy, search part (0.02 = two points lost; negative = gained); null when failed. */
  accuracyDrop: number | null;
  /** Share of argmax rows of the first output equal to the original's on the search inputs (0..1); null when failed. */
  top1Agreement: number | null;
  /** End-to-end SQNR of the first output against the original, dB; null when failed or the outputs are identical. */
  sqnrDb: number | null;
  /** Whether it met every accuracy bound of the budget on the search part (false when failed). */
  withinBudget: boolean;
  /** Why it failed or broke the budget. */
  reason?: string;
  /** Where the trial's model is, when trial models are kept (`keepAll`); otherwise only the best is kept, as `bestModel`. */
  modelPath?: string;
  /** Wall time of the trial, milliseconds. */
  elapsedMs: number;
}

/** The accuracy budget and the trial budget of the search. */
export interface TuningBudget {
  /** Largest accuracy loss allowed against the original, as a fraction (0.01 = one point); null = not bounded. */
  maxAccuracyDrop: number | null;
  /** Smallest share of top-1 predictions that must match the original's (0..1); null = not bounded. */
  minTop1Agreement: number | null;
  /** Trials allowed at most (failed ones count). */
  trials: number;
  /** Trials in a row that add nothing to the Pareto front before the search stops (counted once some trial is within budget). */
  patience: number;
}

export interface TuningReport {
  schemaVersion: typeof TUNING_SCHEMA_VERSION;
  kind: 'tuning';
  id: string;
  /** ISO 8601. */
  createdAt: string;
  model: { name: string; source: string };
  /**
   * The eval file and how its labelled examples were split (deterministically, by `config.seed`): the
   * search part decides every trial, the held-back part only re-checks the best.
   */
  eval: { file: string; examples: number; searchExamples: number; heldBackExamples: number };
  budget: TuningBudget;
  /** Shared by every trial; batch and seq shape the timed inputs. */
  config: { batch: number; seq: number; threads: number; executionProvider: string; seed: number; runs: number };
  /**
   * The order candidates were tried in: `advisor` (the advisor's ranking of a profile of the model at
   * the tuning shape, most promising pass first, one variant of each pass in turn, passes it did not
   * suggest after) or `space` (the search space's own order: no profile, or `--no-advisor`).
   * `detail` says what the ranking rested on.
   */
  order: { by: 'advisor' | 'space'; detail: string; candidates: string[] };
  /** Candidates left out before the search, and why (fp16 on the CPU provider). */
  skipped: Array<{ candidate: string; reason: string }>;
  baseline: {
    /** The original's p50, milliseconds: median over the trials of its p50 timed beside each; null when no trial ran. */
    latencyMs: number | null;
    /** Original model file size, bytes. */
    sizeBytes: number;
    /** Original accuracy on the search part (0..1). */
    accuracy: number;
    /** Original accuracy on the held-back part (0..1). */
    heldBackAccuracy: number;
  };
  trials: Trial[];
  /**
   * Trial ids not dominated on (latency ↓, accuracy ↑, size ↓) among the trials within budget.
   * Latency is compared through `speedup`: each trial times the original beside its model, so drift
   * of the machine between trials cancels out.
   */
  pareto: string[];
  /** The fastest trial within budget on the search part (speedups within 2% count as a tie, won by the smaller file); null when none. */
  best: string | null;
  /** The best re-checked on the held-back part against the original there. */
  bestHeldBack: { accuracy: number; accuracyDrop: number; top1Agreement: number; withinBudget: boolean } | null;
  /** The best model, kept as `<out-dir>/best.onnx` (absolute path). */
  bestModel?: string;
  /** Its twb config (`twb profile --config`), `<out-dir>/best.twb.json` (absolute path). */
  bestConfig?: string;
  stopped: { reason: StopReason; detail: string };
  /** Wall time of the whole search, milliseconds. */
  elapsedMs: number;
  warnings: string[];
}
