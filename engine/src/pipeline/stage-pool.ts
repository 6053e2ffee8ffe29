/**
 * The coordinator's side of the stage workers (stage-worker.ts): starting them with a port to each
 * other, request/answer over their parent ports, and ending them. Any failure (a worker's error
 * message, an uncaught error, an unexpected exit, cancellation) settles one `failed` promise that
 * every wait races against, so the first problem ends the measurement with its message.
 */
import { MessageChannel, MessagePort, Worker } from 'node:worker_threads';
import { ErrorCode, TwbError } from '../util/errors';
import { workerEntry } from '../util/worker-entry';
import type { FromWorker, StageWorkerData, ToWorker } from './stage-worker';

/** One worker thread per pipeline stage. */
export class StagePool {
  private readonly workers: Worker[] = [];
  private readonly inboxes: Array<{ messages: FromWorker[]; waiter?: () => void }> = [];
  private readonly failed: Promise<never>;
  private fail!: (e: Error) => void;
  private closing = false;
  private readonly exited: boolean[] = [];
  private readonly onAbort: () => void;

  constructor(
    data: StageWorkerData[],
    private readonly signal: AbortSignal | undefined,
    cancelled: () => TwbError,
  ) {
    this.failed = new Promise<never>((_, reject) => (this.fail = reject));
    this.failed.catch(() => undefined);
    this.onAbort = () => this.fail(cancelled());
    signal?.addEventListener('abort', this.onAbort);
    const P = data.length;
    const peers: Array<Array<MessagePort | null>> = data.map(() => new Array<MessagePort | null>(P).fill(null));
    for (let a = 0; a < P; a++) {
      for (let b = a + 1; b < P; b++) {
        const { port1, port2 } = new MessageChannel();
        peers[a][b] = port1;
        peers[b][a] = port2;
      }
    }
    const entry = workerEntry(__dirname, 'pipeline-worker', 'stage-worker.ts');
    data.forEach((d, p) => {
      const ports = peers[p].filter((x): x is MessagePort => x !== null);
      const w = new Worker(entry.script, { eval: entry.eval, workerData: { ...d, peers: peers[p] }, transferList: ports });
      this.inboxes.push({ messages: [] });
      w.on('message', (m: FromWorker) => {
        if (m.type === 'error') return this.fail(new TwbError(m.code as ErrorCode, `pipeline stage ${p}: ${m.message}`, m.hint));
        const inbox = this.inboxes[p];
        inbox.messages.push(m);
        inbox.waiter?.();
      });
      w.on('error', (e) => this.fail(new TwbError('run-failed', `pipeline stage ${p} failed: ${e.message}`)));
      w.on('exit', (code) => {
        this.exited[p] = true;
        if (!this.closing) this.fail(new TwbError('run-failed', `pipeline stage ${p} stopped unexpectedly (exit code ${code})`));
      });
      this.workers.push(w);
    });
  }

  /** The next message of worker `p`, which must be of type `type`. */
  async expect<T extends FromWorker['type']>(p: number, type: T): Promise<Extract<FromWorker, { type: T }>> {
    const inbox = this.inboxes[p];
    while (inbox.messages.length === 0) await Promise.race([new Promise<void>((resolve) => (inbox.waiter = resolve)), this.failed]);
    const m = inbox.messages.shift()!;
    if (m.type !== type) throw new TwbError('internal', `pipeline stage ${p} answered "${m.type}", expected "${type}"`);
    return m as Extract<FromWorker, { type: T }>;
  }

  request<T extends FromWorker['type']>(p: number, message: ToWorker, answer: T): Promise<Extract<FromWorker, { type: T }>> {
    this.workers[p].postMessage(message);
    return this.expect(p, answer);
  }

  /** One pass through the pipeline on every worker at once. */
  pass(pass: number, collect: boolean): Promise<Array<Extract<FromWorker, { type: 'passDone' }>>> {
    for (const w of this.workers) w.postMessage({ type: 'pass', pass, collect } satisfies ToWorker);
    return Promise.all(this.workers.map((_, p) => this.expect(p, 'passDone')));
  }

  /** Asks every worker to end between two runs (see stage-worker.ts) and waits until they have. */
  async close(): Promise<void> {
    this.closing = true;
    this.signal?.removeEventListener('abort', this.onAbort);
    const ended = this.workers.map((w, p) => {
      if (this.exited[p]) return undefined;
      const exit = new Promise<void>((resolve) => w.once('exit', () => resolve()));
      w.postMessage({ type: 'close' } satisfies ToWorker);
      return exit;
    });
    await Promise.all(ended);
  }
}
