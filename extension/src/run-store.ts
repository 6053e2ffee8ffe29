import * as vscode from 'vscode';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { CompressionReport } from '../../engine/src/schema/compression';
import { InferenceRun } from '../../engine/src/schema/run';
import { TrainingRun, VariantsReport } from '../../engine/src/schema/training';
import { MemoryPlan, PipelinePlan } from '../../engine/src/schema/parallel';
import { SuggestionsReport } from '../../engine/src/schema/advice';
import type { TuningReport } from '../../engine/src/schema/tuning';
import type { TraceRun } from '../../engine/src/schema/trace';
import { parseDocumentJson, WorkbenchDocument } from '../../engine/src/schema/validate-document';
import { writeFileAtomic } from '../../engine/src/util/atomic-write';

/** Where runs live: `.twb/runs/` of the first workspace folder, else the extension's storage. */
export function runsDir(context: vscode.ExtensionContext): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  return folder ? path.join(folder.uri.fsPath, '.twb', 'runs') : path.join(context.globalStorageUri.fsPath, 'runs');
}

/** The folder `.twb/` lives in: the first workspace folder, else the extension's storage. */
export function workspaceDir(context: vscode.ExtensionContext): string {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? context.globalStorageUri.fsPath;
}

/** Where quantized and pruned built-in models go: `.twb/models/` beside the runs. */
export function modelsDir(context: vscode.ExtensionContext): string {
  return path.join(path.dirname(runsDir(context)), 'models');
}

/** Anything kept in `.twb/runs/`: the file and its validated document. */
export type StoredEntry = WorkbenchDocument & { file: string };
export type StoredRun = Extract<StoredEntry, { kind: 'inference' }>;
export type StoredReport = Extract<StoredEntry, { kind: 'compression' }>;
export type StoredTraining = Extract<StoredEntry, { kind: 'training' }>;
export type StoredVariants = Extract<StoredEntry, { kind: 'variants' }>;

export const isStoredReport = (e: StoredEntry): e is StoredReport => e.kind === 'compression';

/** Every kept document kind has an id and a creation time. */
export const documentOf = (e: WorkbenchDocument): KeptDocument => ('run' in e ? e.run : 'plan' in e ? e.plan : e.report);

/** What a kept file holds. */
export type KeptDocument = InferenceRun | CompressionReport | TrainingRun | VariantsReport | PipelinePlan | MemoryPlan | SuggestionsReport | TuningReport | TraceRun;

const createdAt = (e: StoredEntry) => documentOf(e).createdAt;

/**
 * Run documents on disk, one JSON file each (users diff and commit them): inference runs,
 * compression reports, training runs, variant comparisons, parallelism plans, suggestions and tunings side by side, told apart by `kind`. Files that fail validation are
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
        entries.push({ ...(await this.read(file)), file });
      } catch (e) {
        this.log(`skipped ${file}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    return entries.sort((a, b) => createdAt(b).localeCompare(createdAt(a)));
  }

  /** Inference runs only, newest first. */
  async runs(): Promise<StoredRun[]> {
    return (await this.list()).filter((e): e is StoredRun => e.kind === 'inference');
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
  async save(doc: KeptDocument): Promise<string> {
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
