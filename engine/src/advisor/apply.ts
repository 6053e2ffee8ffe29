/**
 * Applying a suggestion: make the change, measure it side by side with the run it came from, and
 * set the measurement beside the estimate made before anything ran. A config change re-profiles the
 * model both ways in this process (the old run may come from another machine state); a graph pass
 * runs through the compression lab, which times both models interleaved. Pipeline and ZeRO changes
 * are simulations here (no cluster to measure on) and are refused with the command that plans them;
 * code changes (advice on an imported trace) are edits of the user's program and are refused too.
 */
import * as path from 'node:path';
import { compressModel, defaultCompressDeps } from '../compress/lab';
import { defaultDeps, profileInference } from '../profile/profiler';
import type { Estimate, Suggestion } from '../schema/advice';
import type { ApplyResult, EstimateError, Measured } from '../schema/apply';
import type { InferenceRun } from '../schema/run';

export type { ApplyResult, EstimateError, Measured } from '../schema/apply';
import { isBuiltinRef } from '../model/spec';
import { resultId } from '../util/result-id';
import { TwbError } from '../util/errors';

export interface ApplyDeps {
  now: () => Date;
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
}

export interface ApplyOptions {
  /** Where a graph pass writes its model (default: beside the model, or `.twb/models/` for a built-in). */
  out?: string;
  /** Eval file for a graph pass (accuracy before and after). */
  evalFile?: string;
  /** Folder the relative defaults are under. */
  cwd: string;
}

export function estimateError(estimate: Estimate, measured: Measured): EstimateError {
  const rel = (e: number | null, m: number | null) => (e === null || m === null || e === 0 ? null : m / e - 1);
  return {
    speedup: rel(estimate.speedup, measured.speedup),
    latencyMs: rel(estimate.latencyMs, measured.latencyMs),
    memoryBytes: rel(estimate.memoryBytes, measured.memoryBytes),
    sizeBytes: rel(estimate.sizeBytes, measured.sizeBytes),
  };
}

function defaultOut(run: InferenceRun, mode: string, cwd: string): string {
  const src = run.model.source;
  const base = isBuiltinRef(src) ? path.join(cwd, '.twb', 'models', src.slice('builtin:'.length)) : path.resolve(cwd, src).replace(/\.onnx$/i, '');
  return `${base}.${mode.replace(':', '-')}.onnx`;
}

/** Per-sample time when the batch changes, so a bigger batch is judged by throughput. */
const perSample = (r: InferenceRun) => r.latencyMs.p50 / r.config.batch;

async function applyConfig(run: InferenceRun, s: Suggestion & { change: { kind: 'config' } }, deps: ApplyDeps): Promise<Pick<ApplyResult, 'measured' | 'artifacts' | 'warnings'>> {
  const profile = (label: string, patch: object) =>
    profileInference(
      { ...run.config, ...patch, model: run.model.source },
      defaultDeps({ signal: deps.signal, now: deps.now, onProgress: (p) => deps.onProgress?.(`${label}: ${p.message}`) }),
    );
  const baseline = await profile('as it was', {});
  const changed = await profile('changed', s.change.patch);
  const batchChanged = changed.config.batch !== baseline.config.batch;
  return {
    measured: {
      speedup: perSample(baseline) / perSample(changed),
      latencyMs: changed.latencyMs.p50,
      memoryBytes: changed.memory.peakBytes || null,
      sizeBytes: changed.model.sizeBytes,
      basis: `p50 of ${changed.config.runs} runs each, the run's configuration and the changed one profiled one after the other in this process${batchChanged ? '; speedup per sample (batch changed)' : ''}`,
    },
    artifacts: { baseline, changed },
    warnings: [...changed.warnings],
  };
}

async function applyPass(run: InferenceRun, s: Suggestion & { change: { kind: 'pass' } }, options: ApplyOptions, deps: ApplyDeps): Promise<Pick<ApplyResult, 'measured' | 'artifacts' | 'warnings'>> {
  const out = options.out ? path.resolve(options.cwd, options.out) : defaultOut(run, s.change.config.mode, options.cwd);
  const report = await compressModel(
    {
      ...s.change.config,
      model: isBuiltinRef(run.model.source) ? run.model.source : path.resolve(options.cwd, run.model.source),
      out,
      executionProvider: run.config.executionProvider,
      threads: run.config.threads,
      batch: run.config.batch,
      seq: run.config.seq,
      seed: run.config.seed,
      evalFile: options.evalFile,
    },
    defaultCompressDeps({ signal: deps.signal, now: deps.now, onProgress: (p) => deps.onProgress?.(p.message) }),
  );
  return {
    measured: {
      speedup: report.speedup,
      latencyMs: report.latencyMs.after,
      memoryBytes: null,
      sizeBytes: report.sizeBytes.after,
      accuracy: { sqnrDb: report.output.sqnrDb, top1Agreement: report.output.top1Agreement, ...(report.eval ? { accuracyBefore: report.eval.accuracyBefore, accuracyAfter: report.eval.accuracyAfter } : {}) },
      basis: `p50 of both models timed interleaved by the compression lab (${report.latencySamples.after.length} runs each); output error on ${report.analysis.inputs} inputs`,
    },
    artifacts: { report, modelPath: out },
    warnings: [...report.warnings],
  };
}

/** Applies `suggestion` (made for `run`) and measures it. */
export async function applySuggestion(run: InferenceRun, suggestion: Suggestion, options: ApplyOptions, deps: ApplyDeps): Promise<ApplyResult> {
  const change = suggestion.change;
  let outcome: Pick<ApplyResult, 'measured' | 'artifacts' | 'warnings'>;
  if (change.kind === 'config') outcome = await applyConfig(run, { ...suggestion, change }, deps);
  else if (change.kind === 'pass') outcome = await applyPass(run, { ...suggestion, change }, options, deps);
  else if (change.kind === 'code') {
    throw new TwbError('usage', `suggestion "${suggestion.id}" is a change to your PyTorch program (${change.where}), which the workbench cannot make or measure`, `copy the snippet (twb suggest shows it), then: ${suggestion.command}`);
  } else {
    throw new TwbError('usage', `suggestion "${suggestion.id}" changes a ${change.kind === 'pipeline' ? 'pipeline shape' : 'ZeRO stage'}, which this machine can only simulate`, `plan it with: ${suggestion.command}`);
  }
  const at = deps.now();
  return {
    schemaVersion: 1,
    kind: 'apply',
    id: resultId(at, run.model.name, `apply-${suggestion.id}`),
    createdAt: at.toISOString(),
    source: { runId: run.id, model: run.model.source },
    suggestion,
    estimate: suggestion.estimate,
    error: estimateError(suggestion.estimate, outcome.measured),
    ...outcome,
  };
}
