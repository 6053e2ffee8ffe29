import * as vscode from 'vscode';
import * as path from 'node:path';
import { RunForm } from '../../engine/src/protocol/webview';
import { ProgressEvent } from '../../engine/src/protocol/engine';
import { InferenceRun } from '../../engine/src/schema/run';
import { EngineClient, EngineError } from './engine-client';
import { RunStore } from './run-store';
import { PhaseSpans, runEngineJob } from './engine-job';
import { resolveModelRef } from './compress-target';
import { JobGate, RefusedError } from './job-gate';

export type { ProgressEvent };

export { RefusedError };

export const UNTRUSTED_MESSAGE = 'Running models is disabled in untrusted workspaces. Trust this workspace to profile models.';

/**
 * Runs profiles through the engine with VS Code's progress UI (Cancel works), a status bar item
 * while running, workspace trust enforced, and every finished run saved to the run store.
 */
export class ProfilerService {
  constructor(
    private readonly engine: EngineClient,
    private readonly store: RunStore,
    private readonly statusBar: vscode.StatusBarItem,
    private readonly gate: JobGate,
  ) {}

  /** True while a profile (not another kind of job) runs. */
  get busy(): boolean {
    return this.gate.runs(this);
  }

  async profile(form: RunForm, opts: { signal?: AbortSignal; onProgress?: (p: ProgressEvent) => void } = {}): Promise<InferenceRun> {
    if (!vscode.workspace.isTrusted) throw new RefusedError(UNTRUSTED_MESSAGE);
    const label = form.model.startsWith('builtin:') ? form.model : path.basename(form.model);
    return this.gate.run(this, `Profiling ${label}`, opts.signal, async (controller) => {
      const run = await runEngineJob(this.statusBar, {
        title: `Profiling ${label}`,
        label,
        phases: PROFILE_PHASES,
        controller,
        onProgress: opts.onProgress,
        send: (signal, onProgress) =>
          this.engine.request('profile/run', { request: toRequest(form) }, { signal, onEvent: (event, params) => {
            if (event === 'profile/progress') onProgress(params as ProgressEvent);
          } }),
      });
      await this.store.save(run);
      return run;
    });
  }
}

/** A human message for anything a profile can throw. */
export function describeFailure(e: unknown): { code: string; message: string; hint?: string } {
  if (e instanceof EngineError) return e.value;
  if (e instanceof RefusedError) return { code: 'usage', message: e.message };
  return { code: 'internal', message: e instanceof Error ? e.message : String(e) };
}

function toRequest(form: RunForm) {
  return { ...form, model: resolveModelRef(form.model, vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? process.cwd()), dims: {} };
}

/** Where each profiling phase falls in the whole, for VS Code's progress bar. */
const PROFILE_PHASES: PhaseSpans = { load: [0, 0.05], warmup: [0.05, 0.1], latency: [0.1, 0.6], profile: [0.6, 0.9], analyze: [0.9, 1] };
