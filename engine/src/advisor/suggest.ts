/**
 * Suggestions for a kept document, made one way for `twb suggest`, `twb apply` and the engine
 * process: for a CPU inference run the kernels are timed on this machine first, then the rules run.
 * An imported trace is timed only when it is a CPU inference trace whose linear layers the int8
 * rule would estimate; GPU kernels cannot be timed here.
 */
import * as os from 'node:os';
import { adviseRun } from './advise';
import type { AdvisableDocument } from './rules/types';
import { calibrateKernels, calibrateTraceKernels, defaultCalibrationDeps } from './calibrate';
import { MIN_LINEAR_SHARE } from './rules/trace-model';
import { linearFacts, trainingOp } from './trace-facts';
import type { ProviderInfo } from './rules/types';
import { probeModelBytes } from '../model/probe';
import { providerStatuses } from '../runtime/ort';
import type { KernelCalibration, SuggestionsReport } from '../schema/advice';
import type { InferenceRun } from '../schema/run';
import type { TraceRun } from '../schema/trace';

/** What making suggestions needs from the machine; tests pass fakes. */
export interface SuggestDeps {
  calibrate: (run: InferenceRun, onProgress: ((message: string) => void) | undefined, signal: AbortSignal | undefined) => Promise<KernelCalibration>;
  /** Times the int8 stand-in product for a CPU trace; without it such traces get no speed estimate. */
  calibrateTrace?: (run: TraceRun, onProgress: ((message: string) => void) | undefined, signal: AbortSignal | undefined) => Promise<KernelCalibration>;
  providers: () => Promise<ProviderInfo[]>;
  cores: number;
  now: () => Date;
}

export function defaultSuggestDeps(): SuggestDeps {
  return {
    calibrate: (run, onProgress, signal) => calibrateKernels(run, defaultCalibrationDeps({ onProgress, signal })),
    calibrateTrace: (run, onProgress, signal) => calibrateTraceKernels(run.id, defaultCalibrationDeps({ onProgress, signal })),
    providers: async () => (await providerStatuses(probeModelBytes())).map((s) => ({ name: s.name, available: s.available, ...(s.reason ? { reason: s.reason } : {}) })),
    cores: os.availableParallelism(),
    now: () => new Date(),
  };
}

export interface SuggestOptions {
  /** Time kernels before estimating (default true; CPU inference runs only). */
  calibrate?: boolean;
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
}

/** The report, and why kernels were not timed when they were not. */
export async function suggestFor(doc: AdvisableDocument, options: SuggestOptions = {}, deps: SuggestDeps = defaultSuggestDeps()): Promise<{ report: SuggestionsReport; notes: string[] }> {
  let calibration: KernelCalibration | null = null;
  const notes: string[] = [];
  if (doc.kind === 'inference') {
    if (options.calibrate === false) notes.push('kernels not timed (--no-calibrate)');
    else if (doc.run.config.executionProvider !== 'cpu') notes.push(`kernels not timed: the run used ${doc.run.config.executionProvider} and calibration times CPU kernels`);
    else calibration = await deps.calibrate(doc.run, options.onProgress, options.signal);
  }
  if (doc.kind === 'trace') {
    const skip = traceCalibrationSkipped(doc.run);
    if (skip) notes.push(`kernels not timed: ${skip}`);
    else if (options.calibrate === false) notes.push('kernels not timed (--no-calibrate)');
    else if (!deps.calibrateTrace) notes.push('kernels not timed: no trace calibration here');
    else calibration = await deps.calibrateTrace(doc.run, options.onProgress, options.signal);
  }
  const providers = doc.kind === 'inference' ? await deps.providers() : [];
  return { report: adviseRun(doc, calibration, { cores: deps.cores, providers, now: deps.now() }), notes };
}

/** Why a trace gets no kernel calibration, or undefined when the int8 rule needs one. */
export function traceCalibrationSkipped(run: TraceRun): string | undefined {
  if (run.gpu) return 'a GPU trace, and only CPU kernels can be timed on this machine';
  if (run.source.format === 'ort') return 'an ONNX Runtime profile (profile the model with twb profile for calibrated int8 estimates)';
  const training = trainingOp(run);
  if (training) return `a training trace (${training}); the int8 estimate is for inference`;
  const share = linearFacts(run).linearShare;
  if (share < MIN_LINEAR_SHARE) return `linear layers are ${(share * 100).toFixed(1)}% of the trace's host time, too little for an int8 estimate`;
  return undefined;
}
