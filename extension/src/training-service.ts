import * as vscode from 'vscode';
import type { ProgressEvent } from '../../engine/src/protocol/engine';
import type { SweepProgress, SweepRequest, TrainProgress, TrainRequest } from '../../engine/src/train/request';
import type { TrainingRun, VariantsReport } from '../../engine/src/schema/training';
import { validateTrainingRun, validateVariantsReport } from '../../engine/src/schema/validate-training';
import { EngineClient } from './engine-client';
import { JobGate, RefusedError } from './job-gate';
import { RunStore } from './run-store';
import { PhaseSpans, runEngineJob } from './engine-job';

export const UNTRUSTED_TRAIN_MESSAGE = 'Running models is disabled in untrusted workspaces. Trust this workspace to train models.';

/** Where each phase of a training job falls in the whole, for VS Code's progress bar. */
const TRAIN_PHASES: PhaseSpans = { load: [0, 0.02], train: [0.02, 0.95], profile: [0.02, 0.95], eval: [0.02, 0.95], export: [0.95, 1] };
const SWEEP_PHASES: PhaseSpans = { sweep: [0, 1] };

export interface TrainJobOptions {
  signal?: AbortSignal;
  /** Every training progress event as the engine sent it (for the live curves). */
  onTrainProgress?: (p: TrainProgress) => void;
}

/**
 * Training and variant sweeps through the engine, shown like every other job (progress with
 * Cancel, status bar item), refused in untrusted workspaces and while another job runs (two jobs
 * at once would skew both timings). Results are validated and kept in the run store.
 */
export class TrainingService {
  constructor(
    private readonly engine: EngineClient,
    private readonly store: RunStore,
    private readonly statusBar: vscode.StatusBarItem,
    private readonly gate: JobGate,
  ) {}

  checkTrusted(): void {
    if (!vscode.workspace.isTrusted) throw new RefusedError(UNTRUSTED_TRAIN_MESSAGE);
  }

  async train(request: TrainRequest, opts: TrainJobOptions = {}): Promise<TrainingRun> {
    const label = `Training ${request.model.replace(/^builtin:/, '')}${request.attention && request.attention !== 'dense' ? ` (${request.attention})` : ''}`;
    const raw = await this.job(label, TRAIN_PHASES, opts.signal, (signal, onProgress) =>
      this.engine.request('train/run', { request }, { signal, onEvent: (event, params) => {
        if (event !== 'train/progress') return;
        const p = params as TrainProgress;
        opts.onTrainProgress?.(p);
        onProgress({ requestId: 0, phase: p.phase, done: p.step, total: p.steps, message: p.message });
      } }),
    );
    const run = validateTrainingRun(raw);
    await this.store.save(run);
    return run;
  }

  async sweep(request: SweepRequest, opts: { signal?: AbortSignal } = {}): Promise<VariantsReport> {
    const raw = await this.job(`Comparing variants of ${request.model.replace(/^builtin:/, '')}`, SWEEP_PHASES, opts.signal, (signal, onProgress) =>
      this.engine.request('sweep/run', { request }, { signal, onEvent: (event, params) => {
        if (event !== 'sweep/progress') return;
        const p = params as SweepProgress;
        onProgress({ requestId: 0, phase: 'sweep', done: p.index, total: p.count, message: p.message });
      } }),
    );
    const report = validateVariantsReport(raw);
    await this.store.save(report);
    return report;
  }

  private job<T>(label: string, phases: PhaseSpans, signal: AbortSignal | undefined, send: (signal: AbortSignal, onProgress: (p: ProgressEvent) => void) => Promise<T>): Promise<T> {
    this.checkTrusted();
    return this.gate.run(this, label, signal, (controller) => runEngineJob(this.statusBar, { title: label, label, phases, controller, send }));
  }
}
