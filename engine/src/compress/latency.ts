/**
 * Latency of two models side by side: both sessions open at once with the same provider, threads
 * and optimization level, and their timed runs interleave in short rounds, so drift in a noisy
 * machine's speed lands on both equally. The ratio is only meaningful measured this way.
 */
import { FeedTensor } from '../runtime/feeds';
import { openSession, SessionSpec } from '../runtime/ort';
import { throwIfAborted } from '../util/abort';

export interface LatencyRequest {
  before: string | Uint8Array;
  after: string | Uint8Array;
  spec: SessionSpec;
  feeds: Record<string, FeedTensor>;
  warmup: number;
  /** Timed runs per model. */
  runs: number;
  /** Monotonic milliseconds. */
  clock: () => number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number, message: string) => void;
}

/** Runs per model in one round before switching to the other. */
const ROUND = 5;

export async function compareLatency(req: LatencyRequest): Promise<{ before: number[]; after: number[] }> {
  const a = await openSession(req.before, req.spec, 'original');
  try {
    const b = await openSession(req.after, req.spec, 'transformed');
    try {
      for (let i = 0; i < req.warmup; i++) {
        throwIfAborted(req.signal, 'latency measurement');
        await a.run(req.feeds);
        await b.run(req.feeds);
      }
      const times = { before: [] as number[], after: [] as number[] };
      while (times.after.length < req.runs) {
        for (const [session, list] of [[a, times.before], [b, times.after]] as const) {
          // The other session's idle threads spin for a while after its last run and steal the
          // cores: one untimed run after each switch absorbs that, so neither side pays for it.
          await session.run(req.feeds);
          for (let i = 0; i < ROUND && list.length < req.runs; i++) {
            throwIfAborted(req.signal, 'latency measurement');
            const t0 = req.clock();
            await session.run(req.feeds);
            list.push(req.clock() - t0);
          }
        }
        req.onProgress?.(times.after.length, req.runs, `timing both models: ${times.after.length}/${req.runs} runs each`);
      }
      return times;
    } finally {
      await b.release();
    }
  } finally {
    await a.release();
  }
}
