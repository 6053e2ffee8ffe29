/**
 * The worker threads of the parallel trace import, kept between imports: starting one costs tens
 * of milliseconds (hundreds under tsx), a good part of what it saves on a 50 MiB trace. An idle
 * worker is unref'd, so it never keeps the process alive, and ends after a minute without work.
 */
import { Worker } from 'node:worker_threads';
import { ErrorCode, TwbError } from '../util/errors';
import { workerEntry } from '../util/worker-entry';
import type { CollectorPart } from './collect-part';
import type { ScanSummary } from './json-scan';
import type { TraceRange } from './read-trace';

export interface ToRangeWorker {
  file: string;
  range: TraceRange;
}

export type FromRangeWorker = { type: 'progress'; bytesRead: number } | { type: 'done'; part: CollectorPart; summary: ScanSummary } | { type: 'error'; code: ErrorCode; message: string; hint?: string };

const IDLE_MS = 60_000;
const idle: Worker[] = [];
let idleTimer: NodeJS.Timeout | undefined;

function spawn(): Worker {
  const entry = workerEntry(__dirname, 'trace-worker', 'range-worker.ts');
  const w = new Worker(entry.script, { eval: entry.eval });
  // A worker that dies while idle must not be handed out again.
  w.on('exit', () => {
    const k = idle.indexOf(w);
    if (k >= 0) idle.splice(k, 1);
  });
  w.on('error', () => undefined);
  return w;
}

/**
 * Reads one range on a worker thread (an idle one, or a new one). A worker whose range failed
 * by an error it reported goes back to the pool; one that crashed or was cancelled is ended.
 */
export async function readRangeOnWorker(task: ToRangeWorker, onProgress: (bytesRead: number) => void, signal: AbortSignal): Promise<{ part: CollectorPart; summary: ScanSummary }> {
  const w = idle.pop() ?? spawn();
  w.ref();
  let reusable = false;
  try {
    return await new Promise((resolve, reject) => {
      const onMessage = (m: FromRangeWorker) => {
        if (m.type === 'progress') return onProgress(m.bytesRead);
        reusable = true;
        done();
        if (m.type === 'done') resolve({ part: m.part, summary: m.summary });
        else reject(new TwbError(m.code, m.message, m.hint));
      };
      const onError = (e: Error) => (done(), reject(new TwbError('internal', `a trace import worker failed: ${e.message}`)));
      const onExit = (code: number) => (done(), reject(new TwbError('internal', `a trace import worker stopped (exit code ${code})`)));
      const onAbort = () => (done(), reject(new TwbError('cancelled', 'reading the trace was cancelled')));
      const done = () => {
        w.off('message', onMessage);
        w.off('error', onError);
        w.off('exit', onExit);
        signal.removeEventListener('abort', onAbort);
      };
      w.on('message', onMessage);
      w.on('error', onError);
      w.on('exit', onExit);
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      w.postMessage(task satisfies ToRangeWorker);
    });
  } finally {
    if (reusable) release(w);
    else void w.terminate();
  }
}

function release(w: Worker): void {
  w.unref();
  idle.push(w);
  clearTimeout(idleTimer);
  idleTimer = setTimeout(() => {
    for (const x of idle.splice(0)) void x.terminate();
  }, IDLE_MS);
  idleTimer.unref();
}
