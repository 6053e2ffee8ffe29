import * as vscode from 'vscode';
import { HostEvents } from '../../engine/src/protocol/webview';
import { toErrorValue } from '../../engine/src/util/errors';
import { EngineClient, EngineError } from './engine-client';
import { formFromSettings } from './settings';
import { openEditorSession } from './editor-session';
import type { SessionDeps } from './workbench-session';

export const ONNX_EDITOR_VIEW_TYPE = 'transformerWorkbench.onnxModel';

/**
 * Opens `*.onnx` files in the workbench: the model summary first (read by the engine, nothing
 * runs), profiling on one click. A file that is not a model shows its error in the editor.
 */
export class OnnxEditorProvider implements vscode.CustomReadonlyEditorProvider {
  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly engine: EngineClient,
    private readonly deps: SessionDeps,
  ) {}

  openCustomDocument(uri: vscode.Uri): vscode.CustomDocument {
    return { uri, dispose: () => undefined };
  }

  resolveCustomEditor(document: vscode.CustomDocument, panel: vscode.WebviewPanel): void {
    const file = document.uri.fsPath;
    openEditorSession(panel, this.extensionUri, file, 'editor', formFromSettings(file), this.deps, () => this.describe(file));
  }

  private async describe(file: string): Promise<Pick<HostEvents['session/init'], 'summary' | 'error'>> {
    try {
      return { summary: await this.engine.request('model/summary', { model: file }) };
    } catch (e) {
      return { error: e instanceof EngineError ? e.value : toErrorValue(e) };
    }
  }
}
