import * as vscode from 'vscode';
import { formatBytes } from '../../engine/src/util/format';
import { RunStore, StoredRun } from './run-store';

/** The "Runs" view: every run kept in `.twb/runs/`, newest first, with its headline figures. */
export class RunsTreeProvider implements vscode.TreeDataProvider<StoredRun> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly store: RunStore) {
    store.onDidChange(() => this.changed.fire());
  }

  getChildren(element?: StoredRun): Promise<StoredRun[]> | StoredRun[] {
    return element ? [] : this.store.list();
  }

  getTreeItem(item: StoredRun): vscode.TreeItem {
    const r = item.run;
    const t = new vscode.TreeItem(`${r.model.name} · ${r.env.executionProvider}`);
    t.id = r.id;
    t.description = `p50 ${r.latencyMs.p50.toFixed(2)} ms · peak ${formatBytes(r.memory.peakBytes)}`;
    t.tooltip = new vscode.MarkdownString(
      [
        `**${r.model.name}** — ${new Date(r.createdAt).toLocaleString()}`,
        `- ${r.env.executionProvider}, ${r.config.threads} threads, opt ${r.config.optLevel}, batch ${r.config.batch} × seq ${r.config.seq}`,
        `- latency p50 ${r.latencyMs.p50.toFixed(2)} ms · p90 ${r.latencyMs.p90.toFixed(2)} ms`,
        `- ${(r.compute.flops / 1e9).toFixed(2)} GFLOP per run · ${r.compute.gflops.toFixed(1)} GFLOP/s`,
        `- peak ${formatBytes(r.memory.peakBytes)} · weights ${formatBytes(r.memory.weightsBytes)}`,
      ].join('\n'),
    );
    t.iconPath = new vscode.ThemeIcon('pulse');
    t.contextValue = 'twbRun';
    t.command = { command: 'transformerWorkbench.openRun', title: 'Open Run', arguments: [item] };
    return t;
  }

  dispose(): void {
    this.changed.dispose();
  }
}
