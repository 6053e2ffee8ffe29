import * as vscode from 'vscode';
import type { ProgressEvent } from '../../engine/src/protocol/engine';
import type { TuningReport } from '../../engine/src/schema/tuning';
import { validateTuningReport } from '../../engine/src/schema/validate-tuning';
import type { TuneRequest } from '../../engine/src/tune/request';
import type { TuneProgress } from '../../engine/src/tune/tuner';
import { EngineClient } from './engine-client';
import { PhaseSpans, runEngineJob } from './engine-job';
import { JobGate, RefusedError } from './job-gate';
import { RunStore } from './run-store';

export const UNTRUSTED_TUNE_MESSAGE = 'Running models is disabled in untrusted workspaces. Trust this workspace to tune models.';

const PHASES: PhaseSpans = { prepare: [0, 0.05], order: [0.05, 0.15], trial: [0.15, 0.95], check: [0.95, 0.98], keep: [0.98, 1] };

/** A tuner progress event as the workbench's job progress: trials advance the bar. */
export function tuneProgressEvent(p: TuneProgress): ProgressEvent {
  return { requestId: 0, phase: p.phase, done: p.phase === 'trial' ? Math.max(0, (p.trial ?? 1) - 1) : 0, total: p.phase === 'trial' ? (p.trials ?? 0) : 0, message: p.message };
}

/**
 * Runs `twb tune` through the engine: workspace trust enforced, one job at a time, VS Code's
 * progress with Cancel (which stops after the trial in flight and keeps the report so far), and the
 * report kept in the run store.
 */
export class TuneService {
  constructor(
    private readonly engine: EngineClient,
    private readonly store: RunStore,
    private readonly statusBar: vscode.StatusBarItem,
    private readonly gate: JobGate,
  ) {}

  async run(request: TuneRequest, opts: { signal?: AbortSignal; onProgress?: (p: ProgressEvent) => void } = {}): Promise<TuningReport> {
    if (!vscode.workspace.isTrusted) throw new RefusedError(UNTRUSTED_TUNE_MESSAGE);
    const name = request.model.replace(/^builtin:/, '').split(/[\\/]/).pop();
    const label = `Tuning ${name}`;
    const raw = await this.gate.run(this, label, opts.signal, (controller) =>
      runEngineJob(this.statusBar, {
        title: label,
        label: 'Tune',
        phases: PHASES,
        controller,
        onProgress: opts.onProgress,
        send: (signal, onProgress) =>
          this.engine.request('tune/run', { request }, {
            signal,
            onEvent: (event, params) => {
              if (event === 'tune/progress') onProgress(tuneProgressEvent(params as TuneProgress));
            },
          }),
      }),
    );
    // The engine is another process: its report is checked like any document that crosses a boundary.
    const report = validateTuningReport(raw);
    await this.store.save(report);
    return report;
  }
}
