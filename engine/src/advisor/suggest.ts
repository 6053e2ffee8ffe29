/**
 * Suggestions for a kept document, made one way for `twb suggest`, `twb apply` and the engine
 * process: for a CPU inference run the kernels are timed on this machine first, then the rules run.
 */
import * as os from 'node:os';
import { adviseRun } from './advise';
import type { AdvisableDocument } from './rules/types';
import { calibrateKernels, defaultCalibrationDeps } from './calibrate';
import type { ProviderInfo } from './rules/types';
import { probeModelBytes } from '../model/probe';
import { providerStatuses } from '../runtime/ort';
import type { KernelCalibration, SuggestionsReport } from '../schema/advice';
import type { InferenceRun } from '../schema/run';

/** What making suggestions needs from the machine; tests pass fakes. */
export interface SuggestDeps {
  calibrate: (run: InferenceRun, onProgress: ((message: string) => void) | undefined, signal: AbortSignal | undefined) => Promise<KernelCalibration>;
  providers: () => Promise<ProviderInfo[]>;
  cores: number;
  now: () => Date;
}

export function defaultSuggestDeps(): SuggestDeps {
  return {
    calibrate: (run, onProgress, signal) => calibrateKernels(run, defaultCalibrationDeps({ onProgress, signal })),
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
  const providers = doc.kind === 'inference' ? await deps.providers() : [];
  return { report: adviseRun(doc, calibration, { cores: deps.cores, providers, now: deps.now() }), notes };
}
