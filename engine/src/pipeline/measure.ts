/**
 * A pipeline run for real: the model split into per-stage sub-models, one worker thread per
 * pipeline stage with its own ORT sessions, M micro-batches streamed through in the schedule's
 * forward order. Reports the measured timeline and bubble, each stage's time alone, the hand-over
 * time between stages, and how far the composed output is from the whole model's.
 */
import type { MeasuredPipeline, TimelineBlock } from '../schema/parallel';
import { EXECUTION_PROVIDERS, ExecutionProvider } from '../schema/config';
import { encodeModel } from '../onnx/codec';
import { ModelProto } from '../onnx/types';
import { fromHalfArray } from '../onnx/float16';
import { buildFeeds, FeedTensor } from '../runtime/feeds';
import { FetchedTensor, openSession, requireProvider } from '../runtime/ort';
import { probeModelBytes } from '../model/probe';
import { choices, TwbError } from '../util/errors';
import { percentile } from '../util/stats';
import { splitModelTyped, StageModel } from './split';
import { modelUnits } from './units';
import type { BlockTiming, ChunkSpec, HopTiming, StageWorkerData } from './stage-worker';
import { StagePool } from './stage-pool';

export interface MeasureRequest {
  model: ModelProto;
  /** Unit indices of each virtual stage (P × V of them, in model order). */
  virtualStages: number[][];
  /** Pipeline stages P: one worker each. */
  stages: number;
  /** Per worker, its forward blocks in schedule order (chunk c of worker p is virtual stage c·P + p). */
  order: Array<Array<{ microbatch: number; chunk: number }>>;
  microbatches: number;
  /** Shape of one micro-batch. */
  batch: number;
  seq: number;
  executionProvider: string;
  /** Intra-op threads of each stage's sessions. */
  threadsPerStage: number;
  seed: number;
  /** Untimed passes before the timed ones (default 1). */
  warmup?: number;
  /** Timed passes; the one with the median makespan is reported (default 3). */
  repeats?: number;
  signal?: AbortSignal;
  onProgress?: (message: string, fraction: number) => void;
}

export type MeasuredResult = Omit<MeasuredPipeline, 'simulated' | 'phases'>;

export async function measurePipeline(req: MeasureRequest): Promise<MeasuredResult> {
  const P = req.stages;
  const V = validateRequest(req);
  const M = req.microbatches;
  const progress = (message: string, fraction: number) => req.onProgress?.(message, fraction);
  const cancelled = () => new TwbError('cancelled', 'the pipeline measurement was cancelled');
  if (req.signal?.aborted) throw cancelled();
  const ep: ExecutionProvider = req.executionProvider === 'cpu' ? 'cpu' : await requireProvider(req.executionProvider, probeModelBytes());

  progress(`splitting the model into ${P * V} stage models`, 0);
  const feeds = Array.from({ length: M }, (_, m) => buildFeeds(req.model, { batch: req.batch, seq: req.seq, past: 0, named: {} }, req.seed + m).feeds);
  const stages = await splitModelTyped(req.model, req.virtualStages, feeds[0]);
  const names = modelUnits(req.model).names;
  const labels = stages.map((s, j) => `virtual stage ${j} (${s.units.map((u) => names[u]).join(', ')})`);
  const routes = routesOf(stages, new Set(req.model.graph.output.map((o) => o.name)));
  checkOrder(req.order, P, V, M, stages);
  if (req.signal?.aborted) throw cancelled();

  progress(`starting ${P} stage workers`, 0.05);
  const data = workerData(req, ep, stages, routes, labels, feeds);
  const pool = new StagePool(data, req.signal, cancelled);
  const warmup = req.warmup ?? 1;
  const repeats = req.repeats ?? 3;
  let collected: Array<Record<string, FeedTensor>> = [];
  const stageUs = new Array<number>(P * V).fill(0);
  const passes: Array<{ blocks: BlockTiming[][]; hops: HopTiming[] }> = [];
  try {
    for (let p = 0; p < P; p++) await pool.expect(p, 'ready');
    // The first pass warms the sessions up, keeps each block's inputs for the solo runs and
    // collects the outputs for the comparison with the whole model.
    let pass = 0;
    for (let w = 0; w < Math.max(1, warmup); w++) {
      progress(`warm-up pass ${w + 1}`, 0.1);
      const r = await pool.pass(pass++, w === 0);
      if (w === 0) collected = collectOutputs(r.map((x) => x.outputs), M);
    }
    for (let j = 0; j < P * V; j++) {
      progress(`timing ${labels[j]} alone`, 0.2 + (0.3 * j) / (P * V));
      const done = await pool.request(j % P, { type: 'solo', chunk: Math.floor(j / P), rounds: repeats }, 'soloDone');
      stageUs[j] = percentile(done.timesMs, 50) * 1000;
    }
    for (let r = 0; r < repeats; r++) {
      progress(`timed pass ${r + 1} of ${repeats}`, 0.5 + (0.4 * r) / repeats);
      const done = await pool.pass(pass++, false);
      passes.push({ blocks: done.map((d) => d.blocks), hops: done.flatMap((d) => d.hops) });
    }
  } finally {
    await pool.close();
  }

  progress('running the whole model for comparison', 0.9);
  const maxAbsDiff = await compareWithWhole(req.model, ep, req.threadsPerStage, feeds, collected, () => {
    if (req.signal?.aborted) throw cancelled();
  });
  const chosen = [...passes].sort((a, b) => span(a.blocks) - span(b.blocks))[Math.floor((passes.length - 1) / 2)];
  const allHops = passes.flatMap((p) => p.hops);
  // A hand-over that reached a worker busy running is timed from when it could read it: leave those out.
  const clean = allHops.filter((h) => !h.receiverBusy);
  const hops = (clean.length > 0 ? clean : allHops).map((h) => (h.receivedMs - h.producedMs) * 1000);
  progress('done', 1);
  return {
    ...timelineOf(chosen.blocks),
    stageUs,
    commUs: hops.length > 0 ? percentile(hops, 50) : 0,
    maxAbsDiff,
    batch: req.batch,
    seq: req.seq,
    executionProvider: ep,
    threadsPerStage: req.threadsPerStage,
  };
}

/** Checks the request's numbers; returns V, the chunks per stage. */
function validateRequest(req: MeasureRequest): number {
  const positive = (name: string, v: number) => {
    if (!Number.isInteger(v) || v < 1) throw new TwbError('usage', `${name} must be a positive integer, got ${v}`);
  };
  positive('stages', req.stages);
  positive('microbatches', req.microbatches);
  positive('batch', req.batch);
  positive('seq', req.seq);
  positive('threadsPerStage', req.threadsPerStage);
  positive('repeats', req.repeats ?? 3);
  if (!(EXECUTION_PROVIDERS as readonly string[]).includes(req.executionProvider)) {
    throw new TwbError('usage', `unknown execution provider "${req.executionProvider}"; ${choices(EXECUTION_PROVIDERS)}`);
  }
  const n = req.virtualStages.length;
  if (n === 0 || n % req.stages !== 0) {
    throw new TwbError('usage', `${n} virtual stages cannot be spread over ${req.stages} pipeline stages: give a multiple of ${req.stages} (${req.stages} × chunks per stage)`);
  }
  return n / req.stages;
}

type Routes = ChunkSpec['routes'][];

/** Per virtual stage, where each of its outputs goes: later stages reading it, and the caller. */
function routesOf(stages: StageModel[], modelOutputs: Set<string>): Routes {
  return stages.map((s, j) =>
    s.outputs.map((name) => ({
      name,
      to: stages.map((t, k) => (k > j && t.inputs.includes(name) ? k : -1)).filter((k) => k >= 0),
      toMain: modelOutputs.has(name),
    })),
  );
}

/**
 * Checks that every worker's list holds each (micro-batch, chunk) once and that the lists can run
 * to the end: a list that puts a block before one its own inputs wait for would hang the workers.
 */
function checkOrder(order: MeasureRequest['order'], P: number, V: number, M: number, stages: StageModel[]): void {
  if (order.length !== P) throw new TwbError('usage', `the schedule gives forward orders for ${order.length} stages, expected ${P}`);
  order.forEach((list, p) => {
    const keys = list.map((b) => `${b.microbatch}/${b.chunk}`);
    const bad = list.find((b) => !Number.isInteger(b.microbatch) || b.microbatch < 0 || b.microbatch >= M || !Number.isInteger(b.chunk) || b.chunk < 0 || b.chunk >= V);
    if (bad) throw new TwbError('usage', `stage ${p}'s order names micro-batch ${bad.microbatch}, chunk ${bad.chunk}; expected micro-batches 0..${M - 1} and chunks 0..${V - 1}`);
    if (new Set(keys).size !== keys.length || keys.length !== M * V) {
      throw new TwbError('usage', `stage ${p}'s order must hold each of the ${M} micro-batches × ${V} chunks once; it holds ${keys.length} blocks, ${new Set(keys).size} distinct`);
    }
  });
  const producers = stages.map((s, j) => stages.slice(0, j).flatMap((t, k) => (t.outputs.some((o) => s.inputs.includes(o)) ? [k] : [])));
  const done = new Set<string>();
  const next = new Array<number>(P).fill(0);
  for (let moved = true; moved; ) {
    moved = false;
    for (let p = 0; p < P; p++) {
      const b = order[p][next[p]];
      if (!b) continue;
      const j = b.chunk * P + p;
      if (producers[j].every((k) => done.has(`${b.microbatch}/${k}`))) {
        done.add(`${b.microbatch}/${j}`);
        next[p]++;
        moved = true;
      }
    }
  }
  const stuck = order.flatMap((list, p) => (next[p] < list.length ? [`stage ${p} waits at micro-batch ${list[next[p]].microbatch}, chunk ${list[next[p]].chunk}`] : []));
  if (stuck.length > 0) {
    throw new TwbError('usage', `the forward order cannot run: ${stuck.join('; ')}, for blocks that come after them in another stage's order`);
  }
}

function workerData(req: MeasureRequest, ep: ExecutionProvider, stages: StageModel[], routes: Routes, labels: string[], feeds: Array<Record<string, FeedTensor>>): StageWorkerData[] {
  const P = req.stages;
  const fed = new Set(Object.keys(feeds[0]));
  return Array.from({ length: P }, (_, p) => {
    const mine = stages.map((s, j) => ({ s, j })).filter(({ j }) => j % P === p);
    const chunks: ChunkSpec[] = mine.map(({ s, j }) => ({ virtualStage: j, modelBytes: encodeModel(s.model), label: labels[j], inputs: s.inputs, routes: routes[j] }));
    const reads = new Set(mine.flatMap(({ s }) => s.inputs.filter((n) => fed.has(n))));
    const ownFeeds = feeds.map((f) => Object.fromEntries(Object.entries(f).filter(([n]) => reads.has(n))));
    return { kind: 'twb-pipeline-stage', stage: p, stages: P, threads: req.threadsPerStage, executionProvider: ep, chunks, order: req.order[p], peers: [], feeds: ownFeeds };
  });
}

function collectOutputs(perWorker: Array<Array<{ microbatch: number; tensors: Record<string, FeedTensor> }>>, M: number): Array<Record<string, FeedTensor>> {
  const out = Array.from({ length: M }, () => ({}) as Record<string, FeedTensor>);
  for (const list of perWorker) for (const o of list) Object.assign(out[o.microbatch], o.tensors);
  return out;
}

function span(blocks: BlockTiming[][]): number {
  const all = blocks.flat();
  return Math.max(...all.map((b) => b.endMs)) - Math.min(...all.map((b) => b.startMs));
}

/** The pass as a timeline from its first start, with bubble = idle ÷ (P × makespan). */
function timelineOf(blocks: BlockTiming[][]): { timeline: TimelineBlock[]; makespanUs: number; bubbleFraction: number } {
  const t0 = Math.min(...blocks.flat().map((b) => b.startMs));
  const us = (ms: number) => (ms - t0) * 1000;
  const timeline = blocks.flatMap((list, stage) => list.map((b) => ({ stage, microbatch: b.microbatch, kind: 'F' as const, chunk: b.chunk, startUs: us(b.startMs), endUs: us(b.endMs) })));
  const makespanUs = Math.max(...timeline.map((b) => b.endUs));
  const busyUs = timeline.reduce((s, b) => s + b.endUs - b.startUs, 0);
  const total = blocks.length * makespanUs;
  return { timeline: timeline.sort((a, b) => a.startUs - b.startUs || a.stage - b.stage), makespanUs, bubbleFraction: total > 0 ? (total - busyUs) / total : 0 };
}

/** Largest |difference| over every micro-batch and output between the pipeline and one whole-model session. */
async function compareWithWhole(model: ModelProto, ep: ExecutionProvider, threads: number, feeds: Array<Record<string, FeedTensor>>, got: Array<Record<string, FeedTensor>>, checkCancel: () => void): Promise<number> {
  const session = await openSession(encodeModel(model), { executionProvider: ep, threads, optLevel: 'all' }, model.graph.name || 'model');
  let max = 0;
  try {
    for (let m = 0; m < feeds.length; m++) {
      checkCancel();
      const want = await session.fetch(feeds[m]);
      for (const [name, w] of Object.entries(want)) {
        const g = got[m][name];
        if (!g) throw new TwbError('internal', `the pipeline gave no output "${name}" for micro-batch ${m}`);
        const a = numbers(w);
        const b = numbers(g);
        if (a.length !== b.length) return Infinity;
        for (let i = 0; i < a.length; i++) {
          const d = Math.abs(a[i] - b[i]);
          if (d > max || (Number.isNaN(d) && !(Number.isNaN(a[i]) && Number.isNaN(b[i])))) max = Number.isNaN(d) ? Infinity : d;
        }
      }
    }
  } finally {
    await session.release();
  }
  return max;
}

function numbers(t: FetchedTensor | FeedTensor): ArrayLike<number> {
  if (t.type === 'float16') return fromHalfArray(t.data as Uint16Array);
  if (t.data instanceof BigInt64Array || t.data instanceof BigUint64Array) return Array.from(t.data, Number);
  return t.data as ArrayLike<number>;
}
