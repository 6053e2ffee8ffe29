import * as vscode from 'vscode';
import * as path from 'node:path';
import type { ProgressEvent } from '../../engine/src/protocol/engine';
import type { SuggestionsReport } from '../../engine/src/schema/advice';
import type { ApplyResult } from '../../engine/src/schema/apply';
import type { InferenceRun } from '../../engine/src/schema/run';
import type { TraceRun } from '../../engine/src/schema/trace';
import { TWB_CONFIG_SCHEMA_VERSION, TwbConfig } from '../../engine/src/schema/twb-config';
import { validateSuggestionsReport } from '../../engine/src/schema/validate-advice';
import { validateApplyResult } from '../../engine/src/schema/validate-apply';
import { writeFileAtomic } from '../../engine/src/util/atomic-write';
import { EngineClient } from './engine-client';
import { runEngineJob } from './engine-job';
import { JobGate, RefusedError } from './job-gate';
import { RunStore } from './run-store';

export const UNTRUSTED_ADVICE_MESSAGE = 'Running models is disabled in untrusted workspaces. Trust this workspace to time kernels or apply a suggestion.';

type Progress = { signal?: AbortSignal; onProgress?: (p: ProgressEvent) => void };

/**
 * The advisor through the engine: suggestions for a run (after timing kernels here) and applying
 * one (the change measured beside its estimate). Both run models, so both pass the job gate and
 * workspace trust. What an apply measured is kept in the run store, and a config change is offered
 * as a diff of twb configs the user accepts or not.
 */
export class AdviceService {
  constructor(
    private readonly engine: EngineClient,
    private readonly store: RunStore,
    private readonly statusBar: vscode.StatusBarItem,
    private readonly gate: JobGate,
    private readonly workspaceDir: () => string,
  ) {}

  private job<T>(label: string, opts: Progress, send: (signal: AbortSignal, onProgress: (p: ProgressEvent) => void) => Promise<T>): Promise<T> {
    if (!vscode.workspace.isTrusted) throw new RefusedError(UNTRUSTED_ADVICE_MESSAGE);
    return this.gate.run(this, label, opts.signal, (controller) => runEngineJob(this.statusBar, { title: label, label: 'Advisor', phases: { advice: [0, 1] }, controller, onProgress: opts.onProgress, send }));
  }

  private progress(onProgress: (p: ProgressEvent) => void) {
    let n = 0;
    return (event: string, params: unknown) => {
      if (event === 'advice/progress') onProgress({ requestId: 0, phase: 'advice', done: Math.min(++n, 9), total: 10, message: (params as { message: string }).message });
    };
  }

  async suggest(run: InferenceRun | TraceRun, opts: Progress = {}): Promise<SuggestionsReport> {
    const raw = await this.job(`Suggesting optimizations for ${run.kind === 'trace' ? run.source.name : run.model.name}`, opts, (signal, onProgress) => this.engine.request('advice/suggest', { run, calibrate: true }, { signal, onEvent: this.progress(onProgress) }));
    return validateSuggestionsReport(raw);
  }

  async apply(run: InferenceRun, report: SuggestionsReport, suggestionId: string, opts: Progress = {}): Promise<ApplyResult> {
    const raw = await this.job(`Applying ${suggestionId} to ${run.model.name}`, opts, (signal, onProgress) =>
      this.engine.request('advice/apply', { run, report, suggestionId, cwd: this.workspaceDir() }, { signal, onEvent: this.progress(onProgress) }),
    );
    const result = validateApplyResult(raw);
    for (const doc of [result.artifacts.changed, result.artifacts.report]) if (doc) await this.store.save(doc);
    return result;
  }

  /**
   * A config change as a reviewable edit: the run's twb config and the applied one side by side in
   * a diff; accepting writes the applied one to `twb.config.json` in the workspace (what
   * `twb profile --config` reads), declining changes nothing.
   */
  async offerConfig(run: InferenceRun, result: ApplyResult): Promise<string | undefined> {
    const changed = result.artifacts.changed;
    if (!changed) return undefined;
    const dir = path.join(this.workspaceDir(), '.twb', 'configs');
    const config = (r: InferenceRun): TwbConfig => ({ schemaVersion: TWB_CONFIG_SCHEMA_VERSION, kind: 'twb-config', model: r.model.source, config: r.config, fromRun: r.id });
    const before = path.join(dir, `${run.id}.twb.json`);
    const after = path.join(dir, `${changed.id}.twb.json`);
    await writeFileAtomic(before, `${JSON.stringify(config(run), null, 2)}\n`);
    await writeFileAtomic(after, `${JSON.stringify(config(changed), null, 2)}\n`);
    await vscode.commands.executeCommand('vscode.diff', vscode.Uri.file(before), vscode.Uri.file(after), `twb config: ${result.suggestion.title}`);
    const speed = result.measured.speedup === null ? '' : ` (measured ${result.measured.speedup.toFixed(2)}×)`;
    const keep = await vscode.window.showInformationMessage(`Keep "${result.suggestion.title}"${speed} as the workspace's twb.config.json?`, 'Keep', 'Discard');
    if (keep !== 'Keep') return undefined;
    const target = path.join(this.workspaceDir(), 'twb.config.json');
    await writeFileAtomic(target, `${JSON.stringify(config(changed), null, 2)}\n`);
    return target;
  }
}
