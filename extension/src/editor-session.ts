import * as vscode from 'vscode';
import type { HostEvents, RunForm, SessionMode } from '../../engine/src/protocol/webview';
import { webviewOptions, workbenchHtml } from './webview-html';
import { SessionDeps, WorkbenchSession } from './workbench-session';

/**
 * Fills a custom editor's webview with the workbench app and its session (the .onnx editor, the
 * trace editor); `extra` supplies what the session's `session/init` carries for this file. The
 * session ends with the editor.
 */
export function openEditorSession(
  panel: vscode.WebviewPanel,
  extensionUri: vscode.Uri,
  file: string,
  mode: SessionMode,
  form: RunForm,
  deps: SessionDeps,
  extra: () => Promise<Pick<HostEvents['session/init'], 'summary' | 'error' | 'traces'>>,
): WorkbenchSession {
  panel.webview.options = webviewOptions(extensionUri);
  panel.webview.html = workbenchHtml(panel.webview, extensionUri, file.split(/[\\/]/).pop() ?? file);
  const session = new WorkbenchSession(panel.webview, mode, form, deps, extra);
  panel.onDidDispose(() => session.dispose());
  return session;
}
