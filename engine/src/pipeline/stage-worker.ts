/**
 * One pipeline stage (device) as a worker thread: it holds the sub-models of its virtual stages
 * (Megatron's interleaved assignment: virtual stage j lives on worker j mod P as chunk
 * floor(j / P)), each in its own ORT session, and works through its forward list strictly in the
 * schedule's order: an item waits for its inputs even when a later item's are ready, because that
 * wait is the pipeline bubble being measured. Tensors go straight to the worker that reads them
 * over a MessagePort, their buffers transferred rather than copied where only one reader needs them.
 * Times are `performance.timeOrigin + performance.now()`, comparable across threads, milliseconds.
 */
import { MessagePort, parentPort, workerData } from 'node:worker_threads';
import { FetchedTensor, openSession, Session } from '../runtime/ort';
import { FeedTensor } from '../runtime/feeds';
import type { ExecutionProvider } from '../schema/config';
import { toErrorValue } from '../util/errors';

/** One virtual stage as its worker runs it. */
export interface ChunkSpec {
  virtualStage: number;
  /** Encoded sub-model. */
  modelBytes: Uint8Array;
  /** For error messages: `virtual stage 2 (layer 1, layer 2)`. */
  label: string;
  /** Tensors to feed: original inputs (from `feeds`) and tensors sent by earlier stages. */
  inputs: string[];
  /** Per output: the virtual stages that read it, and whether it is an output of the whole model. */
  routes: Array<{ name: string; to: number[]; toMain: boolean }>;
}

/** workerData of a stage worker. */
export interface StageWorkerData {
  kind: 'twb-pipeline-stage';
  /** This worker's pipeline stage p. */
  stage: number;
  /** Pipeline stages P. */
  stages: number;
  threads: number;
  executionProvider: ExecutionProvider;
  /** Indexed by chunk. */
  chunks: ChunkSpec[];
  /** Forward work in schedule order. */
  order: Array<{ microbatch: number; chunk: number }>;
  /** Ports to the other workers, by worker index (null for this one). */
  peers: Array<MessagePort | null>;
  /** Original graph inputs per micro-batch: only those this worker's chunks read. */
  feeds: Array<Record<string, FeedTensor>>;
}

/** One forward block as run, milliseconds since the time origin. */
export interface BlockTiming {
  microbatch: number;
  chunk: number;
  startMs: number;
  endMs: number;
}

/** One tensor hand-over between workers: producer's run end, and the consumer's receipt. */
export interface HopTiming {
  producedMs: number;
  receivedMs: number;
  /** Whether the receiving worker was running a block in between (its receipt then came late). */
  receiverBusy: boolean;
}

export type ToWorker = { type: 'pass'; pass: number; collect: boolean } | { type: 'solo'; chunk: number; rounds: number } | { type: 'close' };

/** A pass's blocks and hand-overs, and (when collecting) the whole model's outputs made here. */
export interface PassDone {
  type: 'passDone';
  pass: number;
  blocks: BlockTiming[];
  hops: HopTiming[];
  outputs: Array<{ microbatch: number; tensors: Record<string, FeedTensor> }>;
}

export type FromWorker =
  | { type: 'ready' }
  | PassDone
  | { type: 'soloDone'; chunk: number; timesMs: number[] }
  | { type: 'error'; code: string; message: string; hint?: string };

/** Tensors sent from one block to one worker, for one or more of its virtual stages. */
interface PeerMessage {
  pass: number;
  microbatch: number;
  producedMs: number;
  deliveries: Array<{ to: number; names: string[] }>;
  tensors: Record<string, FeedTensor>;
}

const now = () => performance.timeOrigin + performance.now();

class StageWorker {
  private sessions: Session[] = [];
  private readonly inbox = new Map<string, { tensors: Record<string, FeedTensor>; wake?: () => void }>();
  private hops: Array<HopTiming & { pass: number }> = [];
  private runs: Array<[number, number]> = [];
  /** Inputs of each block from the collecting pass, for the solo runs: [chunk][microbatch]. */
  private kept: Array<Array<Record<string, FeedTensor>>> = [];

  constructor(private readonly d: StageWorkerData) {}

  async open(): Promise<void> {
    for (const c of this.d.chunks) {
      this.sessions.push(await openSession(c.modelBytes, { executionProvider: this.d.executionProvider, threads: this.d.threads, optLevel: 'all' }, c.label));
    }
    this.d.peers.forEach((port) => port?.on('message', (m: PeerMessage) => this.receive(m)));
  }

  private receive(m: PeerMessage): void {
    const at = now();
    // A message that arrived during a run is handled only after it (ORT runs on this thread).
    const busy = this.runs.some(([s, e]) => e > m.producedMs && s < at);
    this.hops.push({ pass: m.pass, producedMs: m.producedMs, receivedMs: at, receiverBusy: busy });
    for (const d of m.deliveries) this.deliver(m.pass, m.microbatch, d.to, Object.fromEntries(d.names.map((n) => [n, m.tensors[n]])));
  }

  private slot(pass: number, microbatch: number, virtualStage: number) {
    const key = `${pass}/${microbatch}/${virtualStage}`;
    let s = this.inbox.get(key);
    if (!s) this.inbox.set(key, (s = { tensors: {} }));
    return s;
  }

  private deliver(pass: number, microbatch: number, virtualStage: number, tensors: Record<string, FeedTensor>): void {
    const s = this.slot(pass, microbatch, virtualStage);
    Object.assign(s.tensors, tensors);
    s.wake?.();
  }

  private async inputs(pass: number, microbatch: number, chunk: number): Promise<Record<string, FeedTensor>> {
    const spec = this.d.chunks[chunk];
    const s = this.slot(pass, microbatch, spec.virtualStage);
    const own = this.d.feeds[microbatch];
    const missing = () => spec.inputs.filter((n) => !(n in s.tensors) && !(n in own));
    while (missing().length > 0) await new Promise<void>((resolve) => (s.wake = resolve));
    this.inbox.delete(`${pass}/${microbatch}/${spec.virtualStage}`);
    return Object.fromEntries(spec.inputs.map((n) => [n, s.tensors[n] ?? own[n]]));
  }

  async pass(pass: number, collect: boolean): Promise<PassDone> {
    const blocks: BlockTiming[] = [];
    const outputs: Array<{ microbatch: number; tensors: Record<string, FeedTensor> }> = [];
    this.runs = [];
    for (const { microbatch, chunk } of this.d.order) {
      const feeds = await this.inputs(pass, microbatch, chunk);
      if (collect) (this.kept[chunk] ??= [])[microbatch] = feeds;
      const startMs = now();
      const out = await this.sessions[chunk].fetch(feeds);
      const endMs = now();
      this.runs.push([startMs, endMs]);
      blocks.push({ microbatch, chunk, startMs, endMs });
      const toMain = this.route(pass, microbatch, chunk, out, endMs, collect);
      if (collect && Object.keys(toMain).length > 0) outputs.push({ microbatch, tensors: toMain });
    }
    // Tensors for this pass may have arrived before its command did; later ones cannot have.
    const hops = this.hops.filter((h) => h.pass === pass).map(({ producedMs, receivedMs, receiverBusy }) => ({ producedMs, receivedMs, receiverBusy }));
    this.hops = this.hops.filter((h) => h.pass > pass);
    return { type: 'passDone', pass, blocks, hops, outputs };
  }

  /** Sends each output to the workers that read it; returns the whole model's outputs. */
  private route(pass: number, microbatch: number, chunk: number, out: Record<string, FetchedTensor>, producedMs: number, collect: boolean): Record<string, FeedTensor> {
    const P = this.d.stages;
    const toMain: Record<string, FeedTensor> = {};
    const messages = new Map<number, PeerMessage>();
    const transfers = new Map<number, ArrayBuffer[]>();
    for (const r of this.d.chunks[chunk].routes) {
      const t = out[r.name] as FeedTensor;
      const workers = [...new Set(r.to.map((k) => k % P))];
      const remote = workers.filter((w) => w !== this.d.stage);
      const readers = remote.length + (workers.includes(this.d.stage) ? 1 : 0) + (r.toMain && collect ? 1 : 0);
      // Transfer the buffer when one worker alone reads the tensor; copy it for each of several.
      const forOne = (): FeedTensor => (readers === 1 ? t : { ...t, data: t.data.slice() as FeedTensor['data'] });
      for (const w of remote) {
        const msg = messages.get(w) ?? { pass, microbatch, producedMs, deliveries: [], tensors: {} };
        messages.set(w, msg);
        msg.tensors[r.name] = forOne();
        for (const k of r.to.filter((k) => k % P === w)) {
          const d = msg.deliveries.find((x) => x.to === k) ?? msg.deliveries[msg.deliveries.push({ to: k, names: [] }) - 1];
          d.names.push(r.name);
        }
        (transfers.get(w) ?? transfers.set(w, []).get(w)!).push(msg.tensors[r.name].data.buffer as ArrayBuffer);
      }
      for (const k of r.to.filter((k) => k % P === this.d.stage)) this.deliver(pass, microbatch, k, { [r.name]: t });
      if (r.toMain && collect) toMain[r.name] = forOne();
    }
    for (const [w, msg] of messages) this.d.peers[w]!.postMessage(msg, transfers.get(w));
    return toMain;
  }

  async solo(chunk: number, rounds: number): Promise<FromWorker> {
    const inputs = (this.kept[chunk] ?? []).filter((f) => f !== undefined);
    if (inputs.length === 0) throw new Error(`chunk ${chunk} has no kept inputs; run a collecting pass first`);
    await this.sessions[chunk].run(inputs[0]);
    const timesMs: number[] = [];
    for (let r = 0; r < rounds; r++) {
      for (const feeds of inputs) {
        const t0 = now();
        await this.sessions[chunk].run(feeds);
        timesMs.push(now() - t0);
      }
    }
    return { type: 'soloDone', chunk, timesMs };
  }
}

function post(m: FromWorker, transfer: ArrayBuffer[] = []): void {
  parentPort!.postMessage(m, transfer);
}

async function main(d: StageWorkerData): Promise<void> {
  const worker = new StageWorker(d);
  // Commands are handled one at a time, in the order the coordinator sent them.
  let queue = Promise.resolve();
  parentPort!.on('message', (m: ToWorker) => {
    // Ending from inside, between two runs: `Worker.terminate()` during an ORT run aborts the
    // whole process (the addon throws a C++ exception into a dying environment). A message is only
    // handled between runs, and `close` jumps the queue, so a worker waiting for inputs that will
    // never come ends too.
    if (m.type === 'close') process.exit(0);
    queue = queue.then(async () => {
      try {
        if (m.type === 'pass') {
          const done = await worker.pass(m.pass, m.collect);
          const buffers = done.outputs.flatMap((o) => Object.values(o.tensors).map((t) => t.data.buffer as ArrayBuffer));
          post(done, [...new Set(buffers)]);
        } else if (m.type === 'solo') post(await worker.solo(m.chunk, m.rounds));
      } catch (e) {
        post({ type: 'error', ...toErrorValue(e) });
      }
    });
  });
  try {
    await worker.open();
    post({ type: 'ready' });
  } catch (e) {
    post({ type: 'error', ...toErrorValue(e) });
  }
}

if (parentPort && (workerData as StageWorkerData | undefined)?.kind === 'twb-pipeline-stage') void main(workerData as StageWorkerData);
