import * as vscode from 'vscode';
import * as path from 'node:path';
import { TUNING_EXPORT_FORMATS, TUNING_EXPORT_HELP, TuningExportFormat } from '../../engine/src/export/tuning-formats';
import type { EngineClient } from './engine-client';
import type { TuningReport } from '../../engine/src/schema/tuning';

const FILE_NAMES: Record<TuningExportFormat, string> = {
  twb: 'twb.config.json',
  ort: 'ort-session.json',
  'ort-python': 'ort_session.py',
  'ort-js': 'ort-session.js',
  'ort-model': 'model.ort-optimized.onnx',
  report: 'tuning-report.html',
};

/**
 * "Export tuned config…" of the Tuning view: which format, where (a save dialog starting in the
 * workspace), then the engine writes it with the same code as `twb export` (ONNX Runtime stays out
 * of the extension host). Resolves with the file written, or null when the user dismissed a prompt.
 */
export async function exportTunedConfig(engine: EngineClient, report: TuningReport, folder: string | undefined): Promise<string | null> {
  const format = (await vscode.window.showQuickPick(
    TUNING_EXPORT_FORMATS.filter((f) => report.best !== null || f === 'report').map((f) => ({ label: f, description: TUNING_EXPORT_HELP[f], value: f })),
    { title: `Export tuning of ${report.model.name}`, placeHolder: report.best ? `Best trial: ${report.best}` : 'No trial met the budget: only the report' },
  ))?.value;
  if (!format) return null;
  if (format === 'ort-model' && !vscode.workspace.isTrusted) throw new Error('Writing the optimized model loads it in ONNX Runtime, which is disabled in untrusted workspaces.');
  const target = await vscode.window.showSaveDialog({ defaultUri: vscode.Uri.file(path.join(folder ?? path.dirname(report.bestConfig ?? report.eval.file), FILE_NAMES[format])), saveLabel: 'Export' });
  if (!target) return null;
  const { message } = await engine.request('tune/export', { report, format, out: target.fsPath, base: path.dirname(report.bestConfig ?? report.eval.file) });
  void vscode.window.showInformationMessage(`Transformer Workbench: ${message}`);
  return target.fsPath;
}
