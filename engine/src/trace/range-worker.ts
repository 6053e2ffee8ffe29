/**
 * A worker thread of the parallel trace import (parallel-read.ts): it reads the ranges of a trace
 * it is sent, one at a time, each into a fresh collector, and answers with the collector's part
 * (its columns transferred, not copied). Kept alive between imports by range-workers.ts.
 */
import { parentPort } from 'node:worker_threads';
import { toErrorValue } from '../util/errors';
import { partBuffers, partOf } from './collect-part';
import { TraceCollector } from './collect';
import { readTraceRange } from './read-trace';
import type { FromRangeWorker, ToRangeWorker } from './range-workers';

const port = parentPort;
if (!port) throw new Error('range-worker.ts runs as a worker thread');
const post = (m: FromRangeWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

port.on('message', (m: ToRangeWorker) => void read(m));

async function read(m: ToRangeWorker): Promise<void> {
  try {
    const c = new TraceCollector();
    const summary = await readTraceRange(m.file, m.range, { onEvents: c.onEvents, onMeta: c.onMeta, onProgress: (p) => post({ type: 'progress', bytesRead: p.bytesRead }) });
    const part = partOf(c);
    post({ type: 'done', part, summary }, partBuffers(part));
  } catch (e) {
    post({ type: 'error', ...toErrorValue(e) });
  }
}
