/** What the CLI writes to and where it runs, and the helpers every command shares to report. */
import * as path from 'node:path';
import type { ParsedArgs } from './args';
import { writeFileAtomic } from '../util/atomic-write';

export interface CliIO {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** Shows a transient status line (a terminal redraws it in place); null clears it. */
  status: (line: string | null) => void;
  cwd: string;
}


/** Writes a result to --json FILE and, with --save, to .twb/runs/<id>.json of the current folder. */
export async function keepDocument(doc: { id: string }, o: ParsedArgs['options'], io: CliIO, noun: string): Promise<void> {
  const json = JSON.stringify(doc, null, 1);
  if (o.json) {
    const file = path.resolve(io.cwd, o.json as string);
    await writeFileAtomic(file, json);
    io.stdout(`${noun} written to ${file}`);
  }
  if (o.save) {
    const file = path.join(io.cwd, '.twb', 'runs', `${doc.id}.json`);
    await writeFileAtomic(file, json);
    io.stdout(`${noun.trim()} kept in ${file}`);
  }
}

/** Runs a job with its progress on the status line, cleared when it ends either way. */
export async function withStatus<P, T>(io: CliIO, job: (onProgress: (p: P) => void) => Promise<T>, line: (p: P) => string): Promise<T> {
  try {
    return await job((p) => io.status(line(p)));
  } finally {
    io.status(null);
  }
}
