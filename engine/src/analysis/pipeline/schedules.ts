/**
 * The order in which each pipeline stage (device) runs its blocks, per schedule. Device p holds
 * chunk c = virtual stage c·P + p (Megatron's interleaved assignment; one chunk unless interleaved).
 * Times are not decided here: the simulator (simulate.ts) starts each block as soon as its stage is
 * free and its inputs have arrived, so an order is all a schedule is.
 */
import type { BlockKind, ScheduleName } from '../../schema/parallel';
import { TwbError } from '../../util/errors';

/** One block in a stage's order. */
export interface ScheduledOp {
  kind: BlockKind;
  microbatch: number;
  chunk: number;
}

/** Per device, its blocks in the order it runs them. */
export type StageOrders = ScheduledOp[][];

export interface ScheduleShape {
  schedule: ScheduleName;
  /** Devices, P. */
  stages: number;
  /** Micro-batches per step, M. */
  microbatches: number;
  /** Chunks per device, V (interleaved only; 1 otherwise). */
  chunks: number;
}

/** Most blocks one simulation makes: the timeline is kept and drawn. */
export const MAX_BLOCKS = 1_000_000;

/** Checks P, M and V against what the schedule can run; throws a usage error naming the problem. */
export function checkShape(s: ScheduleShape): void {
  const int = (v: number, name: string, min: number) => {
    if (!Number.isInteger(v) || v < min) throw new TwbError('usage', `${name} must be an integer >= ${min}, got ${v}`);
  };
  int(s.stages, 'stages', 1);
  int(s.microbatches, 'microbatches', 1);
  int(s.chunks, 'chunks (V)', 1);
  const blocks = s.stages * s.microbatches * s.chunks * (s.schedule === 'zb-h1' ? 3 : 2);
  if (blocks > MAX_BLOCKS) {
    throw new TwbError('usage', `P = ${s.stages}, M = ${s.microbatches}, V = ${s.chunks} make ${blocks.toLocaleString('en-US')} blocks; the simulator draws at most ${MAX_BLOCKS.toLocaleString('en-US')}`, 'fewer micro-batches show the same steady state');
  }
  if (s.schedule === 'interleaved') {
    if (s.chunks < 2) throw new TwbError('usage', `interleaved 1F1B needs V >= 2 chunks per stage, got ${s.chunks}`, 'write the schedule as interleaved:V, e.g. interleaved:2');
    if (s.microbatches % s.stages !== 0) {
      throw new TwbError('usage', `interleaved 1F1B needs the micro-batches to be a multiple of the stages (Megatron's schedule runs them in groups of P); got M = ${s.microbatches}, P = ${s.stages}`, `use --microbatches ${Math.ceil(s.microbatches / s.stages) * s.stages}`);
    }
  } else if (s.chunks !== 1) {
    throw new TwbError('usage', `${s.schedule} runs one chunk per stage; V = ${s.chunks} applies to interleaved only`);
  }
}

const op = (kind: BlockKind, microbatch: number, chunk = 0): ScheduledOp => ({ kind, microbatch, chunk });

/** GPipe: every forward, then every backward (in micro-batch order, as PyTorch's ScheduleGPipe). */
function gpipe(P: number, M: number): StageOrders {
  return Array.from({ length: P }, () => [
    ...Array.from({ length: M }, (_, m) => op('F', m)),
    ...Array.from({ length: M }, (_, m) => op('B', m)),
  ]);
}

/** 1F1B (PipeDream-flush): P−p−1 warm-up forwards, then one forward one backward, then the rest of the backwards. */
function oneFOneB(P: number, M: number): StageOrders {
  return Array.from({ length: P }, (_, p) => {
    const warmup = Math.min(P - p - 1, M);
    const order: ScheduledOp[] = [];
    for (let m = 0; m < warmup; m++) order.push(op('F', m));
    for (let i = 0; i < M - warmup; i++) order.push(op('F', warmup + i), op('B', i));
    for (let m = M - warmup; m < M; m++) order.push(op('B', m));
    return order;
  });
}

/**
 * Interleaved 1F1B (Megatron-LM's forward_backward_pipelining_with_interleaving): micro-batches go
 * through the V chunks in groups of P; warm-up (P−p−1)·2 + (V−1)·P forwards, then 1F1B.
 */
function interleaved(P: number, M: number, V: number): StageOrders {
  const total = M * V;
  const microbatchOf = (k: number) => Math.floor(k / (P * V)) * P + (k % P);
  const chunkOf = (k: number, forward: boolean) => {
    const c = Math.floor(k / P) % V;
    return forward ? c : V - 1 - c;
  };
  return Array.from({ length: P }, (_, p) => {
    const warmup = Math.min((P - p - 1) * 2 + (V - 1) * P, total);
    const order: ScheduledOp[] = [];
    const f = (k: number) => order.push(op('F', microbatchOf(k), chunkOf(k, true)));
    const b = (k: number) => order.push(op('B', microbatchOf(k), chunkOf(k, false)));
    for (let k = 0; k < warmup; k++) f(k);
    for (let k = 0; k < total - warmup; k++) {
      f(warmup + k);
      b(k);
    }
    for (let k = total - warmup; k < total; k++) b(k);
    return order;
  });
}

/**
 * Zero Bubble ZB-H1 (Qi et al., 2023): backward split into B (input gradient, on the critical path)
 * and W (weight gradient, needed downstream by nobody). Stage p runs 1F1B's P−p−1 warm-up forwards,
 * then p rounds of F,B whose W it defers, then F,B,W rounds, then B,W, then the p deferred Ws: the
 * deferred Ws fill the tail where 1F1B idles, so the bubble drops to (P−1)·(F+B−W) per stage with at
 * most P micro-batches in flight, 1F1B's peak.
 */
function zbH1(P: number, M: number): StageOrders {
  return Array.from({ length: P }, (_, p) => {
    const order: ScheduledOp[] = [];
    let f = 0;
    let b = 0;
    let w = 0;
    for (let i = 0; i < P - p - 1 && f < M; i++) order.push(op('F', f++));
    for (let i = 0; i < p && f < M; i++) order.push(op('F', f++), op('B', b++));
    while (f < M) order.push(op('F', f++), op('B', b++), op('W', w++));
    while (b < M) order.push(op('B', b++), op('W', w++));
    while (w < M) order.push(op('W', w++));
    return order;
  });
}

/** Each stage's order under the schedule. */
export function scheduleOrders(s: ScheduleShape): StageOrders {
  checkShape(s);
  switch (s.schedule) {
    case 'gpipe':
      return gpipe(s.stages, s.microbatches);
    case '1f1b':
      return oneFOneB(s.stages, s.microbatches);
    case 'interleaved':
      return interleaved(s.stages, s.microbatches, s.chunks);
    case 'zb-h1':
      return zbH1(s.stages, s.microbatches);
  }
}

/**
 * The textbook bubble for uniform costs and no communication: (P−1)/(M+P−1) for GPipe and 1F1B,
 * (P−1)/(V·M+P−1) interleaved, and for ZB-H1 with F = B = W (the Zero Bubble paper's setting) an
 * idle of (P−1)·(F+B−W) per stage: (P−1)/(3M+P−1).
 */
export function closedFormBubble(s: ScheduleShape): number {
  const { stages: P, microbatches: M, chunks: V } = s;
  switch (s.schedule) {
    case 'gpipe':
    case '1f1b':
      return (P - 1) / (M + P - 1);
    case 'interleaved':
      return (P - 1) / (V * M + P - 1);
    case 'zb-h1':
      return (P - 1) / (3 * M + P - 1);
  }
}
