import * as vscode from 'vscode';
import * as path from 'node:path';
import { bestSourceMatch, insideFolders } from './source-frames';

/**
 * Opens a trace's Python frame at its line when the file is in the workspace: the path itself when
 * it lies in a workspace folder, else the workspace file with the same name sharing the longest path
 * tail. Files outside the workspace are never opened (a trace is untrusted input). Resolves with the
 * file opened, or null when none matched.
 */
export async function openSourceFrame(file: string, line: number): Promise<string | null> {
  const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
  if (folders.length === 0) {
    void vscode.window.showInformationMessage('Transformer Workbench: open the folder the trace was recorded from to jump to its source.');
    return null;
  }
  let target: string | undefined;
  if (path.isAbsolute(file) && insideFolders(path.normalize(file), folders)) {
    target = await vscode.workspace.fs.stat(vscode.Uri.file(file)).then(() => path.normalize(file), () => undefined);
  }
  if (!target) {
    const base = path.basename(file.replace(/\\/g, '/'));
    if (!/^[\w.-]+$/.test(base)) return null;
    const found = await vscode.workspace.findFiles(`**/${base}`, '**/node_modules/**', 200);
    target = bestSourceMatch(file, found.map((u) => u.fsPath));
  }
  if (!target) {
    void vscode.window.showInformationMessage(`Transformer Workbench: ${file} (line ${line}) is not in this workspace; open the folder the trace was recorded from to jump to its source.`);
    return null;
  }
  const at = new vscode.Position(Math.max(0, line - 1), 0);
  await vscode.window.showTextDocument(vscode.Uri.file(target), { selection: new vscode.Range(at, at), preview: true });
  return target;
}
