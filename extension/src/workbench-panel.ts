import * as vscode from 'vscode';
import { RunForm } from '../../engine/src/protocol/webview';
import { webviewOptions, workbenchHtml } from './webview-html';
import { SessionDeps, WorkbenchSession } from './workbench-session';

/** The single profiler panel (Open Profiler, Profile Model…, runs opened from the tree). */
export class WorkbenchPanel implements vscode.Disposable {
  private static current: WorkbenchPanel | undefined;
  readonly session: WorkbenchSession;

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    form: RunForm,
    deps: SessionDeps,
  ) {
    panel.webview.html = workbenchHtml(panel.webview, extensionUri, 'Transformer Workbench');
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'icon.svg');
    this.session = new WorkbenchSession(panel.webview, 'profiler', form, deps);
    panel.onDidDispose(() => this.dispose());
  }

  /** Reveals the panel, creating it on first use. */
  static show(extensionUri: vscode.Uri, form: RunForm, deps: SessionDeps): WorkbenchPanel {
    if (WorkbenchPanel.current) {
      WorkbenchPanel.current.panel.reveal();
      return WorkbenchPanel.current;
    }
    const panel = vscode.window.createWebviewPanel('transformerWorkbench.profiler', 'Transformer Workbench', vscode.ViewColumn.Active, {
      ...webviewOptions(extensionUri),
      retainContextWhenHidden: true,
    });
    WorkbenchPanel.current = new WorkbenchPanel(panel, extensionUri, form, deps);
    return WorkbenchPanel.current;
  }

  static get active(): WorkbenchPanel | undefined {
    return WorkbenchPanel.current;
  }

  dispose(): void {
    if (WorkbenchPanel.current === this) WorkbenchPanel.current = undefined;
    this.session.dispose();
  }
}
