import * as vscode from 'vscode';
import { RunForm } from '../../engine/src/protocol/webview';
import { defaultConfig } from '../../engine/src/schema/config';
import type { BackendChoice } from '../../engine/src/runtime/tfjs';

export const SECTION = 'transformerWorkbench';

/** The run form filled from the user's settings (Settings → Transformer Workbench). */
export function formFromSettings(model: string): RunForm {
  const c = vscode.workspace.getConfiguration(SECTION);
  const d = defaultConfig();
  const threads = c.get<number>('threads', 0);
  return {
    model,
    executionProvider: c.get<string>('executionProvider', d.executionProvider),
    threads: threads > 0 ? threads : d.threads,
    optLevel: c.get<string>('optimizationLevel', d.optLevel),
    batch: c.get<number>('batch', d.batch),
    seq: c.get<number>('sequenceLength', d.seq),
    past: d.past,
    warmup: c.get<number>('warmupRuns', d.warmup),
    runs: c.get<number>('runs', d.runs),
    profiledRuns: c.get<number>('profiledRuns', d.profiledRuns),
  };
}

/** Training settings applied to every Train / Compare Variants command. */
export function trainSettings(): { steps?: number; backend: BackendChoice; seqs: number[] } {
  const c = vscode.workspace.getConfiguration(SECTION);
  const steps = c.get<number>('train.steps', 0);
  return { ...(steps > 0 ? { steps } : {}), backend: c.get<BackendChoice>('train.backend', 'auto'), seqs: c.get<number[]>('sweep.sequenceLengths', [64, 128, 256, 512, 1024]) };
}
