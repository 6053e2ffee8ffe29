import * as vscode from 'vscode';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { CompressionReport } from '../../engine/src/schema/compression';
import { InferenceRun } from '../../engine/src/schema/run';
import { parseDocumentJson, WorkbenchDocument } from '../../engine/src/schema/validate-document';
import { writeFileAtomic } from '../../engine/src/util/atomic-write';

/** Where runs live: `.twb/runs/` of the first workspace folder, else the extension's storage. */
export function runsDir(context: vscode.ExtensionContext): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  return folder ? path.join(folder.uri.fsPath, '.twb', 'runs') : path.join(context.globalStorageUri.fsPath, 'runs');
}

/** Where quantized and pruned built-in models go: `.twb/models/` beside the runs. */
export function modelsDir(context: vscode.ExtensionContext): string {
  return path.join(path.dirname(runsDir(context)), 'models');
}

/** An inference run file with its validated document. */
export interface StoredRun {
  file: string;
  run: InferenceRun;
}

/** A compression report file (quantization or pruning) with its validated document. */
export interface StoredReport {
  file: string;
  report: CompressionReport;
}

/** Anything kept in `.twb/runs/`. */
export type StoredEntry = StoredRun | StoredReport;

export const isStoredReport = (e: StoredEntry): e is StoredReport => 'report' in e;

const createdAt = (e: StoredEntry) => (isStoredReport(e) ? e.report.createdAt : e.run.createdAt);

/**
 * Run documents on disk, one JSON file each (users diff and commit them): inference runs and
 * compression reports side by side, told apart by their `kind`. Files that fail validation are
 * reported and skipped, never deleted.
 */
export class RunStore {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly dir: () => string,
    private readonly log: (message: string) => void,
  ) {}

  /** Every kept document, newest first. */
  async list(): Promise<StoredEntry[]> {
    const dir = this.dir();
    let names: string[];
    try {
      names = (await fs.readdir(dir)).filter((n) => n.endsWith('.json'));
    } catch {
      return [];
    }
    const entries: StoredEntry[] = [];
    for (const name of names) {
      const file = path.join(dir, name);
      try {
        const doc = await this.read(file);
        entries.push(doc.kind === 'inference' ? { file, run: doc.run } : { file, report: doc.report });
      } catch (e) {
        this.log(`skipped ${file}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    return entries.sort((a, b) => createdAt(b).localeCompare(createdAt(a)));
  }

  /** Inference runs only, newest first. */
  async runs(): Promise<StoredRun[]> {
    return (await this.list()).filter((e): e is StoredRun => !isStoredReport(e));
  }

  /** Compression reports only, newest first. */
  async reports(): Promise<StoredReport[]> {
    return (await this.list()).filter(isStoredReport);
  }

  async read(file: string): Promise<WorkbenchDocument> {
    const stat = await fs.stat(file);
    // A run is a few MB at most; refuse to parse something far larger than any run could be.
    if (stat.size > 512 * 1024 * 1024) throw new Error(`${path.basename(file)} is ${Math.round(stat.size / 1024 ** 2)} MiB, too large for a run document`);
    return parseDocumentJson(await fs.readFile(file, 'utf8'));
  }

  /** Keeps a run or a report as `<id>.json`. */
  async save(doc: InferenceRun | CompressionReport): Promise<string> {
    const file = path.join(this.dir(), `${doc.id}.json`);
    await writeFileAtomic(file, JSON.stringify(doc, null, 1));
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
