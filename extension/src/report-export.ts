import * as vscode from 'vscode';
import * as path from 'node:path';
import { InferenceRun } from '../../engine/src/schema/run';
import { writeFileAtomic } from '../../engine/src/util/atomic-write';
import { EngineClient } from './engine-client';

/** Asks where to save, renders the self-contained HTML report in the engine, writes it. */
export async function exportReport(engine: EngineClient, run: InferenceRun): Promise<string | null> {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const target = await vscode.window.showSaveDialog({
    defaultUri: folder ? vscode.Uri.joinPath(folder, `${run.id}.html`) : undefined,
    filters: { 'HTML report': ['html'] },
    saveLabel: 'Export Report',
  });
  if (!target) return null;
  const { html } = await engine.request('report/render', { run });
  await writeFileAtomic(target.fsPath, html);
  void vscode.window.showInformationMessage(`Report written to ${path.basename(target.fsPath)} (${Math.round(html.length / 1024)} KiB, opens offline in any browser).`);
  return target.fsPath;
}
