/** "Tune Model…": the model, the eval file with labels, the accuracy budget and the trial budget. */
import * as vscode from 'vscode';
import * as path from 'node:path';
import type { TuneRequest } from '../../engine/src/tune/request';
import { DEFAULT_MAX_ACCURACY_DROP, DEFAULT_TRIALS } from '../../engine/src/tune/request';
import { askOnnxModel, askValue, positiveInt } from './prompts';

/** `1` or `1%` → 0.01: the budget as a user types it, in percentage points. */
export function parsePercent(v: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*%?$/.exec(v);
  const x = m ? Number(m[1]) : NaN;
  if (!(x >= 0 && x <= 100)) throw new Error('the largest accuracy drop is a percentage from 0 to 100, e.g. 1 or 0.5%');
  return x / 100;
}

/** Folder for the best model and config: `.twb/tuned/<model>-<time>` beside the runs. */
export function tuneOutDir(twbDir: string, model: string, now: Date): string {
  const name = path.basename(model.replace(/^builtin:/, ''), '.onnx').replace(/[^\w.-]+/g, '_');
  return path.join(twbDir, 'tuned', `${name}-${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`);
}

export async function askTuning(given: vscode.Uri | undefined, active: vscode.Uri | undefined, twbDir: string): Promise<TuneRequest | undefined> {
  const title = 'Tune Model';
  const model = await askOnnxModel(title, 'Model to tune', given, active);
  if (!model) return undefined;
  const evalFiles = await vscode.window.showOpenDialog({
    canSelectMany: false,
    filters: { 'Eval file (JSON with inputs and labels)': ['json'] },
    openLabel: 'Use as eval file',
    title: 'Eval file: labelled examples whose accuracy the budget bounds',
  });
  if (!evalFiles?.[0]) return undefined;
  const maxAccuracyDrop = await askValue(title, 'Largest accuracy drop allowed against the original, in percentage points', String(DEFAULT_MAX_ACCURACY_DROP * 100), parsePercent);
  if (maxAccuracyDrop === undefined) return undefined;
  const trials = await askValue(title, 'Trials at most (the search stops earlier when trials stop adding to the Pareto front)', String(DEFAULT_TRIALS), positiveInt('trials', 1000));
  if (trials === undefined) return undefined;
  return { model, evalFile: evalFiles[0].fsPath, outDir: tuneOutDir(twbDir, model, new Date()), maxAccuracyDrop, trials };
}
