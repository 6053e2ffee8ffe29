/**
 * `importTrace`: a trace file (PyTorch profiler / Kineto, ONNX Runtime profile, any chrome trace;
 * plain or gzip) into a TraceRun. The file is streamed (read-trace.ts) and each batch of events is
 * reduced to columns as it arrives (collect.ts), so memory stays well below the file's size; a big
 * plain-JSON file is read on several threads at once (parallel-read.ts). The analyses run once the
 * file has been read.
 */
import * as path from 'node:path';
import type { TraceRun } from '../schema/trace';
import { throwIfAborted } from '../util/abort';
import { analyzeTrace } from './analyze';
import { TraceCollector } from './collect';
import { ParallelOptions, readInParallel } from './parallel-read';
import { probe, readTraceEvents } from './read-trace';

export interface ImportProgress {
  /** Bytes of the file read so far (compressed bytes for gzip). */
  bytesRead: number;
  fileBytes: number;
}

export interface ImportOptions {
  signal?: AbortSignal;
  onProgress?: (p: ImportProgress) => void;
  /** Wall-clock time for the document's id and createdAt. */
  now?: () => Date;
  /** How a big plain-JSON file is read on several threads (parallel-read.ts); `{ threads: 1 }` turns it off. */
  parallel?: ParallelOptions;
}

export async function importTrace(file: string, opts: ImportOptions = {}): Promise<TraceRun> {
  const full = path.resolve(file);
  const { fileBytes, gzip } = await probe(full);
  const parallel = gzip ? undefined : await readInParallel(full, fileBytes, opts);
  const collector = parallel?.collector ?? new TraceCollector();
  const read = parallel?.read ?? (await readTraceEvents(full, { onEvents: collector.onEvents, onMeta: collector.onMeta, onProgress: opts.onProgress, signal: opts.signal }));
  throwIfAborted(opts.signal, 'importing the trace');
  return analyzeTrace(collector, { file: full, ...read }, (opts.now ?? (() => new Date()))());
}
