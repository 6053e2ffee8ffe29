/**
 * Reading a big plain-JSON trace on several threads (issue #8 point 7: JSON.parse is most of an
 * import, and it runs on one core). The file is cut into ranges that start and end between two
 * events; this thread and worker threads (range-workers.ts) take ranges from one queue, so a slow
 * or late-starting thread just takes fewer, and each range is collected into a collector of its
 * own. The parts are appended in file order as soon as every earlier one is in (collect-part.ts),
 * which gives the collector one thread would have built, and keeps at most the parts still waiting
 * for an earlier one in memory.
 *
 * A cut is chosen by the bytes around it (`}` `,` `{`), which could sit inside a string; the range
 * that ends there proves or refutes it, as json-scan.ts's shortcut does: JSON.parse of its last
 * events fails unless the cut is between two events. Whatever goes wrong (a cut refuted, a worker
 * that cannot start, bad JSON, B/E events whose pairs may straddle two ranges, a cut-off file), `readInParallel`
 * answers undefined and the caller reads the file on one thread, so errors and warnings are
 * exactly the one-thread ones. Gzip cannot be cut, so it is always read on one thread.
 */
import * as os from 'node:os';
import { promises as fsp } from 'node:fs';
import { TwbError } from '../util/errors';
import { throwIfAborted } from '../util/abort';
import { appendPart, CollectorPart, partOf } from './collect-part';
import { TraceCollector } from './collect';
import type { ScanSummary } from './json-scan';
import { readRangeOnWorker } from './range-workers';
import { readTraceRange, TraceRange, TraceReadResult } from './read-trace';
import { isBlank } from './not-a-trace';

export interface ParallelOptions {
  /** Threads, this one included (default: the machine's cores, at most 4); 1 reads on this thread only. */
  threads?: number;
  /** Smallest file read in parallel, bytes (default 16 MiB): below it, starting workers costs more than it saves. */
  minBytes?: number;
  /** Bytes per range (default 8 MiB). */
  rangeBytes?: number;
}

const DEFAULT_MIN_BYTES = 16 * 1024 * 1024;
const DEFAULT_RANGE_BYTES = 4 * 1024 * 1024;
const MAX_THREADS = 4;
/** Bytes searched for a cut after each range's nominal end; an event longer than this just merges two ranges. */
const WINDOW_BYTES = 256 * 1024;

export function parallelThreads(opts: ParallelOptions = {}): number {
  return Math.max(1, Math.floor(opts.threads ?? Math.min(os.availableParallelism(), MAX_THREADS)));
}

/**
 * The collector of the whole file read on several threads, with what the reader learnt; undefined
 * when the file is too small, cannot be cut, or anything failed (see the header). Throws only when
 * `signal` cancels it.
 */
export async function readInParallel(
  file: string,
  fileBytes: number,
  opts: { parallel?: ParallelOptions; signal?: AbortSignal; onProgress?: (p: { bytesRead: number; fileBytes: number }) => void },
): Promise<{ collector: TraceCollector; read: TraceReadResult } | undefined> {
  const par = opts.parallel ?? {};
  const threads = parallelThreads(par);
  if (threads < 2 || fileBytes < (par.minBytes ?? DEFAULT_MIN_BYTES)) return undefined;
  // A file that cannot be opened now is left to the one-thread read, which says why.
  const ranges = await planRanges(file, fileBytes, Math.max(1, par.rangeBytes ?? DEFAULT_RANGE_BYTES)).catch(() => undefined);
  if (!ranges) return undefined;

  const inner = new AbortController();
  const cancel = () => inner.abort();
  opts.signal?.addEventListener('abort', cancel, { once: true });
  const collector = new TraceCollector();
  const parts: Array<CollectorPart | undefined> = [];
  const summaries: ScanSummary[] = [];
  let next = 0;
  let merged = 0;
  const take = () => (inner.signal.aborted || next >= ranges.length ? -1 : next++);
  const progress = progressOf(ranges, fileBytes, opts.onProgress);
  const finished = (r: number, part: CollectorPart, summary: ScanSummary) => {
    if (part.beginEnd > 0) throw new TwbError('internal', 'B/E events: read on one thread');
    parts[r] = part;
    summaries[r] = summary;
    for (let p: CollectorPart | undefined; merged < ranges.length && (p = parts[merged]); merged++) {
      appendPart(collector, p);
      parts[merged] = undefined;
    }
  };
  const here = async () => {
    for (let r = take(); r >= 0; r = take()) {
      const c = new TraceCollector();
      const summary = await readTraceRange(file, ranges[r], { onEvents: c.onEvents, onMeta: c.onMeta, signal: inner.signal, onProgress: (p) => progress(r, p.bytesRead) });
      finished(r, partOf(c), summary);
    }
  };
  const worker = async () => {
    for (let r = take(); r >= 0; r = take()) {
      const { part, summary } = await readRangeOnWorker({ file, range: ranges[r] }, (bytes) => progress(r, bytes), inner.signal);
      finished(r, part, summary);
    }
  };
  const loops = [here(), ...Array.from({ length: threads - 1 }, worker)];
  // The first failure stops the others: they take no new range, and the one they read is cancelled.
  loops.forEach((l) => l.catch(() => inner.abort()));
  const settled = await Promise.allSettled(loops);
  opts.signal?.removeEventListener('abort', cancel);
  if (settled.some((s) => s.status === 'rejected')) {
    throwIfAborted(opts.signal, `reading the trace "${file}"`);
    return undefined;
  }
  const last = summaries[summaries.length - 1];
  // What a cut-off file says counts the events before the cut, which the last range alone does not know.
  if (last.truncated) return undefined;
  opts.onProgress?.({ bytesRead: fileBytes, fileBytes });
  return {
    collector,
    read: {
      container: ranges[0].container ?? 'object',
      gzip: false,
      fileBytes,
      jsonBytes: last.jsonBytes,
      events: summaries.reduce((n, s) => n + s.events, 0),
      warnings: summaries.flatMap((s) => s.warnings),
    },
  };
}

/** Progress of all ranges together, reported every 1% of the file (the end is reported once all are in). */
function progressOf(ranges: TraceRange[], fileBytes: number, onProgress?: (p: { bytesRead: number; fileBytes: number }) => void) {
  const done = new Float64Array(ranges.length);
  const step = Math.max(1, Math.ceil(fileBytes / 100));
  let reported = 0;
  return (r: number, bytes: number) => {
    if (!onProgress) return;
    done[r] = bytes;
    const total = done.reduce((a, b) => a + b, 0);
    if (total - reported < step) return;
    reported = total;
    onProgress({ bytesRead: total, fileBytes });
  };
}

/**
 * Ranges of about `rangeBytes` each, cut at the first `}` `,` `{` after each nominal end, or
 * undefined when the file has no place to cut or does not start like a trace.
 */
export async function planRanges(file: string, fileBytes: number, rangeBytes: number): Promise<TraceRange[] | undefined> {
  const handle = await fsp.open(file, 'r');
  try {
    const read = async (at: number, bytes: number) => {
      const buf = Buffer.alloc(Math.min(bytes, fileBytes - at));
      const { bytesRead } = await handle.read(buf, 0, buf.length, at);
      return buf.subarray(0, bytesRead);
    };
    const head = await read(0, WINDOW_BYTES);
    const container = containerOf(head);
    if (!container) return undefined;
    // Kineto writes `deviceProperties` (a list of objects) before the events: no cut before them.
    const events = container === 'object' ? head.indexOf('"traceEvents"') : 0;
    const cuts: number[] = [];
    for (let at = rangeBytes; at + rangeBytes / 2 < fileBytes; at += rangeBytes) {
      const from = Math.max(at, (cuts[cuts.length - 1] ?? events) + 1);
      if (from >= fileBytes) break;
      const k = cutIn(await read(from, WINDOW_BYTES));
      if (k >= 0) cuts.push(from + k);
    }
    if (cuts.length === 0) return undefined;
    return [0, ...cuts.map((c) => c + 1)].map((start, k) => ({ start, end: cuts[k] ?? fileBytes, last: k === cuts.length, container }));
  } finally {
    await handle.close();
  }
}

/** `[` or `{` as the first byte after blanks and a BOM. */
function containerOf(head: Buffer): 'object' | 'array' | undefined {
  let i = head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
  while (i < head.length && isBlank(head[i])) i++;
  return head[i] === 0x7b ? 'object' : head[i] === 0x5b ? 'array' : undefined;
}

/**
 * Index of a comma with only blanks between it and a `}` before and a `{` after, or −1. One with a
 * line break beside it comes first: trace writers put each event on its own line(s) (Kineto
 * `},\n  {`, ONNX Runtime `},\n{`), while objects nested in an event's args sit on one line.
 */
export function cutIn(buf: Buffer): number {
  let first = -1;
  for (let c = buf.indexOf(0x2c); c >= 0; c = buf.indexOf(0x2c, c + 1)) {
    let newline = false;
    let p = c - 1;
    for (; p >= 0 && isBlank(buf[p]); p--) newline ||= buf[p] === 0x0a;
    if (p < 0 || buf[p] !== 0x7d) continue;
    let q = c + 1;
    for (; q < buf.length && isBlank(buf[q]); q++) newline ||= buf[q] === 0x0a;
    if (q >= buf.length || buf[q] !== 0x7b) continue;
    if (newline) return c;
    if (first < 0) first = c;
  }
  return first;
}
