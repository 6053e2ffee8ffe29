/**
 * Discrete-event simulation of a pipeline step: each stage (device) runs its blocks in its
 * schedule's order, each block as soon as its stage is free and its inputs have arrived. A forward
 * of virtual stage j needs j−1's forward of the same micro-batch (one hop later); a backward needs
 * j+1's backward (one hop later) and its own forward; a weight-gradient block needs its backward.
 */
import type { ScheduleResult, TimelineBlock } from '../../schema/parallel';
import { TwbError } from '../../util/errors';
import type { ScheduledOp, StageOrders } from './schedules';

/** Cost of each virtual stage j (chunk c of device p is j = c·P + p), per micro-batch. */
export interface VirtualStageCosts {
  /** Microseconds. */
  forwardUs: number[];
  /** Whole backward (input and weight gradients), microseconds. */
  backwardUs: number[];
  /** Of backwardUs, the weight-gradient part run as W when the schedule splits backward, microseconds. */
  weightGradUs: number[];
  /** Activations held from a micro-batch's forward until its backward is done, bytes. */
  activationBytes: number[];
}

export interface SimulationInput {
  orders: StageOrders;
  costs: VirtualStageCosts;
  /** Time per hop between consecutive virtual stages, microseconds. */
  commUs: number;
}

export interface StageOccupancy {
  busyUs: number;
  idleUs: number;
  bubbleFraction: number;
  /** Most (micro-batch, chunk) pairs whose activations were held at once. */
  peakInFlight: number;
  /** Most activation bytes held at once. */
  activationBytes: number;
}

export interface Simulation extends ScheduleResult {
  perStage: StageOccupancy[];
}

const key = (kind: string, j: number, m: number) => `${kind}${j}:${m}`;

/** Duration of one block of virtual stage j; B is only the input gradient when the order has W blocks. */
export function blockUs(costs: VirtualStageCosts, kind: ScheduledOp['kind'], j: number, splitBackward: boolean): number {
  if (kind === 'F') return costs.forwardUs[j];
  if (kind === 'W') return costs.weightGradUs[j];
  return splitBackward ? costs.backwardUs[j] - costs.weightGradUs[j] : costs.backwardUs[j];
}

/**
 * When block (kind, j, m) may start as far as its inputs go, or undefined while an input is not yet
 * scheduled. `ends` maps scheduled blocks to their end times.
 */
export function inputsReadyAt(ends: ReadonlyMap<string, number>, kind: ScheduledOp['kind'], j: number, m: number, J: number, commUs: number): number | undefined {
  const after = (k: string, hop: boolean): number | undefined => {
    const end = ends.get(k);
    return end === undefined ? undefined : end + (hop ? commUs : 0);
  };
  const all = (...ts: Array<number | undefined>) => (ts.some((t) => t === undefined) ? undefined : Math.max(0, ...(ts as number[])));
  if (kind === 'F') return j === 0 ? 0 : after(key('F', j - 1, m), true);
  if (kind === 'B') return all(after(key('F', j, m), false), j === J - 1 ? 0 : after(key('B', j + 1, m), true));
  return after(key('B', j, m), false);
}

/** Runs the orders; throws when they deadlock (a block waits for one its stage has not reached). */
export function simulate(input: SimulationInput): Simulation {
  const { orders, costs, commUs } = input;
  const P = orders.length;
  const J = costs.forwardUs.length;
  const V = J / P;
  if (!Number.isInteger(V) || V < 1) throw new TwbError('internal', `${J} virtual stages cannot be spread over ${P} stages`);
  const splitBackward = orders.some((o) => o.some((b) => b.kind === 'W'));
  const hasBackward = orders.some((o) => o.some((b) => b.kind === 'B'));
  const ends = new Map<string, number>();
  const next = new Array<number>(P).fill(0);
  const freeAt = new Array<number>(P).fill(0);
  const timeline: TimelineBlock[] = [];
  let remaining = orders.reduce((n, o) => n + o.length, 0);
  while (remaining > 0) {
    let progressed = false;
    for (let p = 0; p < P; p++) {
      // Run as far down this stage's order as inputs allow; later stages catch up on the next pass.
      for (;;) {
        const b = orders[p][next[p]];
        if (!b) break;
        const j = b.chunk * P + p;
        const ready = inputsReadyAt(ends, b.kind, j, b.microbatch, J, commUs);
        if (ready === undefined) break;
        const startUs = Math.max(freeAt[p], ready);
        const endUs = startUs + blockUs(costs, b.kind, j, splitBackward);
        ends.set(key(b.kind, j, b.microbatch), endUs);
        timeline.push({ stage: p, microbatch: b.microbatch, kind: b.kind, chunk: b.chunk, startUs, endUs });
        freeAt[p] = endUs;
        next[p]++;
        remaining--;
        progressed = true;
      }
    }
    if (!progressed) {
      const stuck = orders.map((o, p) => (o[next[p]] ? `stage ${p} at ${o[next[p]].kind}${o[next[p]].microbatch}` : '')).filter(Boolean);
      throw new TwbError('internal', `schedule deadlocks: ${stuck.join(', ')}`);
    }
  }
  return summarize(timeline, P, costs, splitBackward, hasBackward);
}

/** Makespan, bubble and per-stage occupancy of a finished timeline (simulated or measured). */
export function summarize(timeline: TimelineBlock[], P: number, costs: Pick<VirtualStageCosts, 'activationBytes'>, splitBackward: boolean, hasBackward: boolean): Simulation {
  const t0 = timeline.length ? Math.min(...timeline.map((b) => b.startUs)) : 0;
  const makespanUs = timeline.length ? Math.max(...timeline.map((b) => b.endUs)) - t0 : 0;
  const perStage = Array.from({ length: P }, (_, p) => occupancy(timeline.filter((b) => b.stage === p), p, P, makespanUs, costs.activationBytes, splitBackward, hasBackward));
  const busy = perStage.reduce((s, o) => s + o.busyUs, 0);
  const sorted = [...timeline].sort((a, b) => a.startUs - b.startUs || a.stage - b.stage);
  return { bubbleFraction: makespanUs > 0 ? 1 - busy / (P * makespanUs) : 0, makespanUs, timeline: sorted, perStage };
}

function occupancy(blocks: TimelineBlock[], p: number, P: number, makespanUs: number, activationBytes: number[], splitBackward: boolean, hasBackward: boolean): StageOccupancy {
  const busyUs = blocks.reduce((s, b) => s + (b.endUs - b.startUs), 0);
  // Activations are held from the forward's start until the last block that needs them ends.
  const release = hasBackward ? (splitBackward ? 'W' : 'B') : 'F';
  const held = new Map<string, { from: number; to: number; bytes: number }>();
  for (const b of blocks) {
    const k = `${b.chunk}:${b.microbatch}`;
    const h = held.get(k) ?? { from: Infinity, to: -Infinity, bytes: activationBytes[b.chunk * P + p] ?? 0 };
    if (b.kind === 'F') h.from = Math.min(h.from, b.startUs);
    if (b.kind === release) h.to = Math.max(h.to, b.endUs);
    held.set(k, h);
  }
  const events: Array<[number, number, number]> = [];
  for (const h of held.values()) {
    if (!Number.isFinite(h.from) || !Number.isFinite(h.to)) continue;
    events.push([h.from, 1, h.bytes], [h.to, -1, -h.bytes]);
  }
  // Releases before acquisitions at the same instant.
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let count = 0;
  let bytes = 0;
  let peakInFlight = 0;
  let peakBytes = 0;
  for (const [, dc, db] of events) {
    count += dc;
    bytes += db;
    peakInFlight = Math.max(peakInFlight, count);
    peakBytes = Math.max(peakBytes, bytes);
  }
  const idleUs = Math.max(0, makespanUs - busyUs);
  return { busyUs, idleUs, bubbleFraction: makespanUs > 0 ? idleUs / makespanUs : 0, peakInFlight, activationBytes: peakBytes };
}
