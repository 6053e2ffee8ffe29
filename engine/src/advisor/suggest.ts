/**
 * Suggestions for an inference run as the engine process and `twb apply` make them: the kernels
 * timed on this machine first (CPU runs only), then the rules. `twb suggest` prints the same.
 */
import * as os from 'node:os';
import { adviseRun } from './advise';
import { calibrateKernels, defaultCalibrationDeps } from './calibrate';
import { probeModelBytes } from '../model/probe';
import { providerStatuses } from '../runtime/ort';
import type { KernelCalibration, SuggestionsReport } from '../schema/advice';
import type { InferenceRun } from '../schema/run';

export interface SuggestOptions {
  /** Time kernels before estimating (default true; CPU runs only). */
  calibrate?: boolean;
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
  now?: () => Date;
}

export async function suggestForRun(run: InferenceRun, options: SuggestOptions = {}): Promise<SuggestionsReport> {
  let calibration: KernelCalibration | null = null;
  if (options.calibrate !== false && run.config.executionProvider === 'cpu') {
    calibration = await calibrateKernels(run, defaultCalibrationDeps({ onProgress: options.onProgress, signal: options.signal }));
  }
  const providers = (await providerStatuses(probeModelBytes())).map((s) => ({ name: s.name, available: s.available, ...(s.reason ? { reason: s.reason } : {}) }));
  return adviseRun({ kind: 'inference', run }, calibration, { cores: os.availableParallelism(), providers, now: (options.now ?? (() => new Date()))() });
}
