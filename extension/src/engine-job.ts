import * as vscode from 'vscode';
import { ProgressEvent } from '../../engine/src/protocol/engine';

/** Where each phase of a job falls in the whole, 0..1, for VS Code's progress bar. */
export type PhaseSpans = Record<string, [number, number]>;

export interface EngineJob<T> {
  /** Notification title, e.g. `Profiling builtin:tiny-gpt`. */
  title: string;
  /** Short name shown before each progress message in the status bar. */
  label: string;
  phases: PhaseSpans;
  /** Aborted by the notification's Cancel (and by the caller). */
  controller: AbortController;
  onProgress?: (p: ProgressEvent) => void;
  /** Sends the engine request; `onProgress` is to be called with each of its progress events. */
  send: (signal: AbortSignal, onProgress: (p: ProgressEvent) => void) => Promise<T>;
}

/**
 * Runs one long engine request the way every workbench job is shown: a cancellable progress
 * notification advancing by phase, and a status bar item (click to cancel) until it ends.
 */
export async function runEngineJob<T>(statusBar: vscode.StatusBarItem, job: EngineJob<T>): Promise<T> {
  statusBar.text = `$(loading~spin) ${job.title}`;
  statusBar.tooltip = 'Transformer Workbench: click to cancel';
  statusBar.command = 'transformerWorkbench.cancelRun';
  statusBar.show();
  try {
    return await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: job.title, cancellable: true }, async (progress, token) => {
      token.onCancellationRequested(() => job.controller.abort());
      let reported = 0;
      return job.send(job.controller.signal, (p) => {
        const overall = phaseFraction(job.phases, p);
        progress.report({ message: p.message, increment: Math.max(0, overall - reported) * 100 });
        reported = Math.max(reported, overall);
        statusBar.text = `$(loading~spin) ${job.label}: ${p.message}`;
        job.onProgress?.(p);
      });
    });
  } finally {
    statusBar.hide();
  }
}

/** Share of the whole job done after `p`. */
export function phaseFraction(phases: PhaseSpans, p: ProgressEvent): number {
  const [lo, hi] = phases[p.phase] ?? [0, 1];
  return lo + (hi - lo) * (p.total > 0 ? Math.min(1, p.done / p.total) : 0);
}
