/**
 * The search space of `twb tune`: the graph passes worth trying on a transformer, each with the exact
 * compression config it runs. Magnitude and 2:4 pruning are left out: dense kernels do not skip
 * zeros, so on these providers they only cost accuracy. fp16 is left out on the CPU provider, where
 * ORT casts back to fp32 around most ops and the model runs slower.
 */
import type { TrialChange } from '../schema/tuning';
import { choices, TwbError } from '../util/errors';

export interface Candidate {
  /** Stable id, also the trial's id in the report. */
  id: string;
  /** The advisor suggestion this candidate belongs to (its ranking orders the search). */
  suggestion: 'int8-dynamic' | 'int8-static' | 'int4-weight' | 'fp16' | 'prune-heads';
  change: TrialChange;
  /** In words, for tables. */
  label: string;
}

/** Every candidate, in the order tried when no advisor ranking is available: cheap and safe first. */
export const SEARCH_SPACE: readonly Candidate[] = [
  { id: 'int8-dynamic', suggestion: 'int8-dynamic', change: { mode: 'int8-dynamic', perChannel: false }, label: 'int8 dynamic, per-tensor' },
  { id: 'int8-dynamic-per-channel', suggestion: 'int8-dynamic', change: { mode: 'int8-dynamic', perChannel: true }, label: 'int8 dynamic, per-channel' },
  { id: 'int8-static-minmax', suggestion: 'int8-static', change: { mode: 'int8-static', calibrate: 'minmax' }, label: 'int8 static, min-max' },
  { id: 'int8-static-percentile', suggestion: 'int8-static', change: { mode: 'int8-static', calibrate: 'percentile' }, label: 'int8 static, percentile' },
  { id: 'int4-rtn-b32', suggestion: 'int4-weight', change: { mode: 'int4-weight', method: 'rtn', blockSize: 32 }, label: 'int4 weights, RTN, block 32' },
  { id: 'int4-rtn-b128', suggestion: 'int4-weight', change: { mode: 'int4-weight', method: 'rtn', blockSize: 128 }, label: 'int4 weights, RTN, block 128' },
  { id: 'fp16', suggestion: 'fp16', change: { mode: 'fp16' }, label: 'fp16' },
  { id: 'heads-0.25', suggestion: 'prune-heads', change: { mode: 'heads', amount: 0.25 }, label: 'prune 25% of heads' },
  { id: 'heads-0.5', suggestion: 'prune-heads', change: { mode: 'heads', amount: 0.5 }, label: 'prune 50% of heads' },
  // GPTQ costs about twice RTN's time per trial (a Hessian per weight, calibration runs): last, so
  // a small trial budget spends itself on the cheaper candidates first.
  { id: 'int4-gptq-b32', suggestion: 'int4-weight', change: { mode: 'int4-weight', method: 'gptq', blockSize: 32 }, label: 'int4 weights, GPTQ, block 32' },
];

export const CANDIDATE_IDS: readonly string[] = SEARCH_SPACE.map((c) => c.id);

/** Measured on tiny-bert batch 8 (README "Benchmarks"): fp16 on the CPU provider is slower than fp32. */
const FP16_CPU_REASON = 'fp16 runs slower than fp32 on the cpu provider (ONNX Runtime casts back to fp32 around most ops); it is tried on GPU providers';

export interface SpaceChoice {
  candidates: Candidate[];
  skipped: Array<{ candidate: string; reason: string }>;
}

/**
 * The candidates for a provider: all of them, or the ids asked for (in the space's order), less
 * those that cannot pay off on it. Unknown ids are a usage error listing the valid ones.
 */
export function searchSpace(executionProvider: string, only?: readonly string[]): SpaceChoice {
  if (only && only.length > 0) {
    const unknown = only.filter((id) => !CANDIDATE_IDS.includes(id));
    if (unknown.length > 0) throw new TwbError('usage', `unknown candidate${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `"${u}"`).join(', ')}; ${choices(CANDIDATE_IDS)}`);
  }
  const wanted = SEARCH_SPACE.filter((c) => !only || only.length === 0 || only.includes(c.id));
  const skipped: SpaceChoice['skipped'] = [];
  const candidates = wanted.filter((c) => {
    if (c.change.mode === 'fp16' && executionProvider === 'cpu') {
      skipped.push({ candidate: c.id, reason: FP16_CPU_REASON });
      return false;
    }
    return true;
  });
  return { candidates, skipped };
}

