import * as vscode from 'vscode';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { CompressForm } from '../../engine/src/protocol/webview';
import { ProgressEvent } from '../../engine/src/protocol/engine';
import { CompressionReport } from '../../engine/src/schema/compression';
import { validateCompressionReport } from '../../engine/src/schema/validate-compression';
import { compressRequestOf, isPruning, jobLabel, outputFileFor, resolveModelRef } from './compress-target';
import { EngineClient, EngineError } from './engine-client';
import { JobGate, RefusedError } from './job-gate';
import { RunStore } from './run-store';
import { PhaseSpans, runEngineJob } from './engine-job';

export type CompressProgressEvent = ProgressEvent;

export const UNTRUSTED_COMPRESS_MESSAGE = 'Running models is disabled in untrusted workspaces. Trust this workspace to quantize or prune models.';

/** Where each phase of a compression run falls in the whole, for VS Code's progress bar. */
const PHASES: PhaseSpans = { load: [0, 0.05], transform: [0.05, 0.35], write: [0.35, 0.4], latency: [0.4, 0.65], analyze: [0.65, 0.9], profile: [0.9, 1] };

/**
 * Runs quantization and pruning through the engine, as the profiler runs profiles: workspace trust
 * enforced, one job at a time (a profile running at the same time would skew both timings), VS
 * Code's progress notification with Cancel, a status bar item, the output file chosen by
 * `compress-target.ts` (asking before overwriting one), and every report kept in the run store.
 */
export class CompressionService {
  constructor(
    private readonly engine: EngineClient,
    private readonly store: RunStore,
    private readonly statusBar: vscode.StatusBarItem,
    private readonly modelsDir: () => string,
    private readonly executionProvider: () => string,
    private readonly gate: JobGate,
  ) {}

  /** Throws the message to show when models may not run here (an untrusted workspace). */
  checkTrusted(): void {
    if (!vscode.workspace.isTrusted) throw new RefusedError(UNTRUSTED_COMPRESS_MESSAGE);
  }

  /** Compresses `form` into the file beside its model; resolves with the kept report. */
  async run(form: CompressForm, opts: { signal?: AbortSignal; onProgress?: (p: CompressProgressEvent) => void } = {}): Promise<CompressionReport> {
    this.checkTrusted();
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? process.cwd();
    const resolved: CompressForm = { ...form, model: resolveModelRef(form.model, folder) };
    const out = outputFileFor(resolved, this.modelsDir());
    const label = `${isPruning(form.mode) ? 'Pruning' : 'Quantizing'} ${jobLabel(resolved)}`;
    return this.gate.run(this, label, opts.signal, async (controller) => {
      if (await fs.stat(out).then(() => true, () => false)) {
        const answer = await vscode.window.showWarningMessage(`${path.basename(out)} already exists. Overwrite it?`, { modal: true, detail: out }, 'Overwrite');
        if (answer !== 'Overwrite') throw new EngineError({ code: 'cancelled', message: `${path.basename(out)} was kept; nothing ran.` });
      }
      const raw = await runEngineJob(this.statusBar, {
        title: label,
        label: jobLabel(resolved),
        phases: PHASES,
        controller,
        onProgress: opts.onProgress,
        send: (signal, onProgress) =>
          this.engine.request('compress/run', { request: compressRequestOf(resolved, out, this.executionProvider()) }, { signal, onEvent: (event, params) => {
            if (event === 'compress/progress') onProgress(params as CompressProgressEvent);
          } }),
      });
      // The engine is another process: its report is checked like any document that crosses a boundary.
      const report = validateCompressionReport(raw);
      await this.store.save(report);
      return report;
    });
  }
}
