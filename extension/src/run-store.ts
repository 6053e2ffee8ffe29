import * as vscode from 'vscode';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { InferenceRun } from '../../engine/src/schema/run';
import { parseRunJson } from '../../engine/src/schema/validate-run';
import { writeFileAtomic } from '../../engine/src/util/atomic-write';

/** Where runs live: `.twb/runs/` of the first workspace folder, else the extension's storage. */
export function runsDir(context: vscode.ExtensionContext): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  return folder ? path.join(folder.uri.fsPath, '.twb', 'runs') : path.join(context.globalStorageUri.fsPath, 'runs');
}

/** A run file with its validated document. */
export interface StoredRun {
  file: string;
  run: InferenceRun;
}

/**
 * Run documents on disk, one JSON file each (users diff and commit them). Files that fail
 * validation are reported and skipped, never deleted.
 */
export class RunStore {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly dir: () => string,
    private readonly log: (message: string) => void,
  ) {}

  async list(): Promise<StoredRun[]> {
    const dir = this.dir();
    let names: string[];
    try {
      names = (await fs.readdir(dir)).filter((n) => n.endsWith('.json'));
    } catch {
      return [];
    }
    const runs: StoredRun[] = [];
    for (const name of names) {
      const file = path.join(dir, name);
      try {
        runs.push({ file, run: await this.read(file) });
      } catch (e) {
        this.log(`skipped ${file}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    return runs.sort((a, b) => b.run.createdAt.localeCompare(a.run.createdAt));
  }

  async read(file: string): Promise<InferenceRun> {
    const stat = await fs.stat(file);
    // A run is a few MB at most; refuse to parse something far larger than any run could be.
    if (stat.size > 512 * 1024 * 1024) throw new Error(`${path.basename(file)} is ${Math.round(stat.size / 1024 ** 2)} MiB, too large for a run document`);
    return parseRunJson(await fs.readFile(file, 'utf8'));
  }

  async save(run: InferenceRun): Promise<string> {
    const file = path.join(this.dir(), `${run.id}.json`);
    await writeFileAtomic(file, JSON.stringify(run, null, 1));
    this.changed.fire();
    return file;
  }

  refresh(): void {
    this.changed.fire();
  }

  dispose(): void {
    this.changed.dispose();
  }
}
