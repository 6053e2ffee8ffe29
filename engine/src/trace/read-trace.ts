/**
 * `readTraceEvents`: a trace file of any size, plain or gzip JSON, read as a stream and handed to a
 * consumer in batches (issue #8 point 2). Gzip is recognised by its magic bytes (1f 8b), whatever the
 * file is called. Memory stays near one chunk of JSON plus the batch being delivered: the file is
 * pulled a chunk at a time, and each chunk is scanned (json-scan.ts) before the next is asked for.
 */
import { createReadStream, promises as fsp } from 'node:fs';
import { constants as zlibConstants, createGunzip, ZlibOptions } from 'node:zlib';
import type { Readable, TransformOptions } from 'node:stream';
import { throwIfAborted } from '../util/abort';
import { TwbError } from '../util/errors';
import { DEFAULT_MAX_META_BYTES, ScanSummary, TraceScanner } from './json-scan';

export interface TraceReadOptions {
  /** Batches of parsed elements of the top-level `traceEvents` array (object form) or of the top-level array (array form), in file order. */
  onEvents(events: unknown[]): void;
  /** Each top-level key other than `traceEvents`, with its parsed value, as soon as it has been read (before or after the events, as in the file). */
  onMeta?(key: string, value: unknown): void;
  /** Bytes of the file read so far (compressed bytes for gzip) and the file size; throttled (≤ ~20 calls/s or every 1%). */
  onProgress?(p: { bytesRead: number; fileBytes: number }): void;
  signal?: AbortSignal;
  /** Largest top-level non-event value kept for onMeta, bytes (default 16 MiB); bigger ones are skipped with a warning. */
  maxMetaBytes?: number;
}

export interface TraceReadResult {
  container: 'object' | 'array';
  gzip: boolean;
  fileBytes: number;
  /** Bytes of JSON text (after gunzip). */
  jsonBytes: number;
  /** Elements delivered through onEvents. */
  events: number;
  /** Set when the file ends before the events array closes: the chrome trace format allows a missing `]`; the events before it were delivered. */
  truncated?: { atByte: number; detail: string };
  warnings: string[];
}

/** JSON chunk size: big enough that one JSON.parse per chunk amortises, small enough to bound memory. */
const CHUNK_BYTES = 1024 * 1024;
/**
 * Compressed bytes per read. zlib writes out all the JSON one input chunk inflates to before it
 * looks at backpressure, so this bounds the inflated bytes waiting in memory (traces compress 10-40×).
 */
const GZIP_READ_BYTES = 64 * 1024;

/**
 * A few chunks of inflated JSON may wait while one is parsed: zlib inflates on a worker thread, so it
 * works while the main thread parses rather than after it (with the default 16 KiB it mostly waits). Z_SYNC_FLUSH at
 * the end: a cut-off .gz yields the JSON it holds instead of an error, so the scanner can report a
 * truncated trace with the events before the cut.
 */
const GUNZIP_OPTIONS: ZlibOptions & TransformOptions = { chunkSize: CHUNK_BYTES, readableHighWaterMark: 4 * CHUNK_BYTES, finishFlush: zlibConstants.Z_SYNC_FLUSH };

export async function readTraceEvents(path: string, opts: TraceReadOptions): Promise<TraceReadResult> {
  throwIfAborted(opts.signal, `reading the trace "${path}"`);
  const { fileBytes, gzip } = await probe(path);
  const scanner = new TraceScanner({ onEvents: opts.onEvents, onMeta: opts.onMeta }, { name: path, maxMetaBytes: opts.maxMetaBytes ?? DEFAULT_MAX_META_BYTES });
  const summary = await pump(path, { gzip }, fileBytes, scanner, () => scanner.end(), opts);
  return {
    container: summary.container,
    gzip,
    fileBytes,
    jsonBytes: summary.jsonBytes,
    events: summary.events,
    ...(summary.truncated ? { truncated: summary.truncated } : {}),
    warnings: summary.warnings,
  };
}

/** A byte range of a plain JSON trace that starts and ends between two events (parallel-read.ts). */
export interface TraceRange {
  /** 0, or the byte after the comma between two events. */
  start: number;
  /** The comma between two events (exclusive), or the file's size for the last range. */
  end: number;
  /** Whether the range runs to the end of the file. */
  last: boolean;
  /** The events array's container, known from the first range; needed by every other one. */
  container?: 'object' | 'array';
}

/**
 * Reads one range of a plain (not gzip) trace as readTraceEvents reads a whole one; progress counts
 * the range's bytes. Throws, besides readTraceEvents' errors, when a range that is not the last
 * does not end between two events.
 */
export async function readTraceRange(path: string, range: TraceRange, opts: TraceReadOptions): Promise<ScanSummary> {
  throwIfAborted(opts.signal, `reading the trace "${path}"`);
  const resume = range.start > 0 ? { at: range.start, container: range.container ?? 'object' } : undefined;
  const scanner = new TraceScanner({ onEvents: opts.onEvents, onMeta: opts.onMeta }, { name: path, maxMetaBytes: opts.maxMetaBytes ?? DEFAULT_MAX_META_BYTES, resume });
  return pump(path, { gzip: false, start: range.start, end: range.end }, range.end - range.start, scanner, () => (range.last ? scanner.end() : scanner.cut()), opts);
}

/** Streams the file (or bytes [start, end) of it) through the scanner, then settles with `finish`. */
async function pump(path: string, where: { gzip: boolean; start?: number; end?: number }, total: number, scanner: TraceScanner, finish: () => ScanSummary, opts: TraceReadOptions): Promise<ScanSummary> {
  const what = `reading the trace "${path}"`;
  const { gzip } = where;
  // An empty range would make `end` (inclusive) fall before `start`, which reads to the end of the file.
  const file = createReadStream(path, { highWaterMark: gzip ? GZIP_READ_BYTES : CHUNK_BYTES, start: where.start, end: where.end === undefined ? undefined : Math.max(where.start ?? 0, where.end - 1) });
  const gunzip = gzip ? createGunzip(GUNZIP_OPTIONS) : undefined;
  const source: Readable = gunzip ? file.pipe(gunzip) : file;
  if (gunzip) file.on('error', (e) => gunzip.destroy(e));
  const closed = Promise.all([file, gunzip].map((s) => s && new Promise<void>((resolve) => (s.destroyed && s.closed ? resolve() : s.once('close', () => resolve())))));
  const onAbort = () => source.destroy(new TwbError('cancelled', `${what} was cancelled`));
  opts.signal?.addEventListener('abort', onAbort, { once: true });

  const step = Math.max(1, Math.ceil(total / 100));
  let reported = 0;
  try {
    for await (const chunk of source) {
      throwIfAborted(opts.signal, what);
      scanner.push(chunk as Buffer);
      if (opts.onProgress && file.bytesRead - reported >= step) {
        reported = file.bytesRead;
        opts.onProgress({ bytesRead: reported, fileBytes: total });
      }
    }
    throwIfAborted(opts.signal, what);
    const summary = finish();
    if (opts.onProgress && reported < total) opts.onProgress({ bytesRead: total, fileBytes: total });
    return summary;
  } catch (e) {
    throwIfAborted(opts.signal, what);
    const err = e as NodeJS.ErrnoException;
    // Errors of the file and zlib streams carry a code; anything else (a consumer's bug) goes up as it is.
    if (e instanceof TwbError || typeof err.code !== 'string') throw e;
    if (err.code.startsWith('Z_')) throw new TwbError('io', `"${path}" is not valid gzip data (${err.message}); the file is corrupt`);
    throw new TwbError('io', `cannot read the trace "${path}": ${err.message}`);
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    file.destroy();
    gunzip?.destroy();
    // Settled only once the file descriptor is closed, so a caller that cancels can delete the file.
    await closed;
  }
}

/** Size of the file and whether it is gzip (by its first two bytes, not its name). */
export async function probe(path: string): Promise<{ fileBytes: number; gzip: boolean }> {
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(path, 'r');
    const stat = await handle.stat();
    if (stat.isDirectory()) throw new TwbError('io', `"${path}" is a folder, not a trace file`);
    const magic = Buffer.alloc(2);
    const { bytesRead } = await handle.read(magic, 0, 2, 0);
    return { fileBytes: stat.size, gzip: bytesRead === 2 && magic[0] === 0x1f && magic[1] === 0x8b };
  } catch (e) {
    if (e instanceof TwbError) throw e;
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'it is a folder' : err.message;
    throw new TwbError('io', `cannot read the trace "${path}": ${why}`);
  } finally {
    await handle?.close();
  }
}
