/**
 * The order of the search: the advisor's ranking of the model as it runs at the tuning shape, so a
 * small trial budget (or early stopping) spends itself on the most promising passes. The advisor
 * reads a short profile and, on the CPU provider, kernels timed at the model's own product shapes;
 * candidates of a suggestion it ranks higher run first, candidates it did not suggest run last.
 */
import * as os from 'node:os';
import { adviseRun } from '../advisor/advise';
import { calibrateKernels, defaultCalibrationDeps } from '../advisor/calibrate';
import type { KernelCalibration, SuggestionsReport } from '../schema/advice';
import { defaultDeps, profileInference } from '../profile/profiler';
import { TwbError } from '../util/errors';
import type { Candidate } from './space';

export interface OrderRequest {
  model: string;
  executionProvider: string;
  threads: number;
  batch: number;
  seq: number;
  seed: number;
}

/** Kernel calibration time for ordering, milliseconds: a ranking needs less precision than an estimate. */
export const ORDER_CALIBRATION_MS = 1500;

/** Profiles the model at the tuning shape and returns the advisor's suggestions for it. */
export async function adviseForTuning(req: OrderRequest, signal: AbortSignal | undefined, now: () => Date, onProgress?: (message: string) => void): Promise<SuggestionsReport> {
  const run = await profileInference(
    { model: req.model, executionProvider: req.executionProvider, threads: req.threads, batch: req.batch, seq: req.seq, seed: req.seed, warmup: 2, runs: 5, profiledRuns: 3 },
    defaultDeps({ signal, onProgress: (p) => onProgress?.(`profiling the original: ${p.message}`) }),
  );
  let calibration: KernelCalibration | null = null;
  if (run.config.executionProvider === 'cpu') {
    calibration = await calibrateKernels(run, defaultCalibrationDeps({ signal, budgetMs: ORDER_CALIBRATION_MS, now, onProgress }));
  }
  return adviseRun({ kind: 'inference', run }, calibration, { cores: os.availableParallelism(), providers: [{ name: run.config.executionProvider, available: true }], now: now() });
}

export interface Ordering {
  by: 'advisor' | 'space';
  detail: string;
  candidates: Candidate[];
}

const times = (x: number | null) => (x === null ? 'speed not estimated' : `est. ${x.toFixed(2)}×`);

/** Takes one candidate of each group in turn: the first of every group, then the second, and so on. */
function roundRobin(groups: Candidate[][]): Candidate[] {
  const out: Candidate[] = [];
  for (let i = 0; out.length < groups.reduce((s, g) => s + g.length, 0); i++) for (const g of groups) if (g[i]) out.push(g[i]!);
  return out;
}

/**
 * Candidates by the rank of their suggestion in `advice`: one candidate of each suggested pass in
 * rank order, then the next of each, and so on; then likewise the passes it did not suggest. Taking
 * turns keeps early stopping fair: three variants of one pass that all break the budget would
 * otherwise end the search before another pass is tried. Within a pass, the space's order.
 * `context` says where the advice came from (`at batch 8, seq 128`), or without advice why there is
 * none; then the space's order is kept as it is. Pure.
 */
export function orderCandidates(candidates: readonly Candidate[], advice: SuggestionsReport | null, context: string): Ordering {
  if (!advice) return { by: 'space', detail: `the search space's order (${context})`, candidates: [...candidates] };
  const rank = new Map(advice.suggestions.map((s, i) => [s.id, i] as const));
  const families = [...new Set(candidates.map((c) => c.suggestion))];
  const suggested = families.filter((f) => rank.has(f)).sort((a, b) => rank.get(a)! - rank.get(b)!);
  const others = families.filter((f) => !rank.has(f));
  const group = (f: string) => candidates.filter((c) => c.suggestion === f);
  const sorted = [...roundRobin(suggested.map(group)), ...roundRobin(others.map(group))];
  const ranked = suggested.map((f) => `${f} ${times(advice.suggestions[rank.get(f)!]!.estimate.speedup)}`);
  const quiet = others.map((f) => {
    const q = advice.quiet.find((x) => x.rule.endsWith(`/${f}`));
    return q ? `${f} (${q.why})` : f;
  });
  const detail = [
    `the advisor's ranking of a profile of the original ${context}, largest estimated time saved first: ${ranked.join(', ') || 'none of the candidates suggested'}`,
    quiet.length > 0 ? `then, not suggested by it: ${quiet.join('; ')}` : '',
    'one variant of each pass in turn',
  ].filter(Boolean).join('; ');
  return { by: 'advisor', detail, candidates: sorted };
}

/** Whether an error from profiling for the order should stop the tuning (cancel) or just drop the ranking. */
export function isCancel(e: unknown): boolean {
  return e instanceof TwbError && e.code === 'cancelled';
}
