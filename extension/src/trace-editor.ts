import * as vscode from 'vscode';
import * as path from 'node:path';
import type { EngineEvents } from '../../engine/src/protocol/engine';
import type { HostEvents } from '../../engine/src/protocol/webview';
import type { TraceRun } from '../../engine/src/schema/trace';
import { validateTraceRun } from '../../engine/src/schema/validate-trace';
import { toErrorValue } from '../../engine/src/util/errors';
import { formatBytes } from '../../engine/src/util/format';
import { EngineClient, EngineError } from './engine-client';
import { formFromSettings } from './settings';
import { openEditorSession } from './editor-session';
import type { SessionDeps } from './workbench-session';

export const TRACE_EDITOR_VIEW_TYPE = 'transformerWorkbench.trace';

/**
 * Imports a trace through the engine (streamed there: the extension host never holds the file), with
 * a cancellable progress notification in bytes read; the result is checked as it crosses the boundary.
 */
export async function importTraceFile(engine: EngineClient, file: string): Promise<TraceRun> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Importing ${path.basename(file)}`, cancellable: true }, async (progress, token) => {
    const controller = new AbortController();
    token.onCancellationRequested(() => controller.abort());
    let reported = 0;
    const raw = await engine.request('trace/import', { file }, {
      signal: controller.signal,
      onEvent: (event, params) => {
        if (event !== 'trace/progress') return;
        const p = params as EngineEvents['trace/progress'];
        const share = p.fileBytes > 0 ? p.bytesRead / p.fileBytes : 0;
        progress.report({ message: `${formatBytes(p.bytesRead)} of ${formatBytes(p.fileBytes)}`, increment: Math.max(0, share - reported) * 100 });
        reported = Math.max(reported, share);
      },
    });
    return validateTraceRun(raw);
  });
}

/**
 * Opens profiler traces in the workbench: PyTorch profiler (Kineto) traces, ONNX Runtime profiles
 * and chrome traces, plain or gzip. Importing reads the file and runs nothing, so it works in
 * untrusted workspaces too. A file that is not a trace shows what it looks like instead.
 */
export class TraceEditorProvider implements vscode.CustomReadonlyEditorProvider {
  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly engine: EngineClient,
    private readonly deps: SessionDeps,
  ) {}

  openCustomDocument(uri: vscode.Uri): vscode.CustomDocument {
    return { uri, dispose: () => undefined };
  }

  resolveCustomEditor(document: vscode.CustomDocument, panel: vscode.WebviewPanel): void {
    // Imported once; the session asks again when the workspace becomes trusted.
    const imported = this.load(document.uri.fsPath);
    openEditorSession(panel, this.extensionUri, document.uri.fsPath, 'trace', formFromSettings('builtin:tiny-gpt'), this.deps, () => imported);
  }

  private async load(file: string): Promise<Pick<HostEvents['session/init'], 'traces' | 'error'>> {
    try {
      return { traces: [await importTraceFile(this.engine, file)] };
    } catch (e) {
      return { error: e instanceof EngineError ? e.value : toErrorValue(e) };
    }
  }
}
