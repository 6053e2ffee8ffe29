/**
 * Where a training step's kernel time went: the run's (op type, layer, phase) groups regrouped by op
 * type with one column per phase, by layer split by phase, and the phases as one stacked bar.
 * Times stay summed over the profiled steps; views divide by `profiledSteps` to show them per step.
 */
import { TRAIN_PHASES, type PhaseStat, type TrainOpStat, type TrainPhase } from '../../../engine/src/schema/training';

export type PhaseUs = Record<TrainPhase, number>;

const zero = (): PhaseUs => ({ forward: 0, backward: 0, optimizer: 0 });
const sum = (p: PhaseUs) => TRAIN_PHASES.reduce((s, k) => s + p[k], 0);

export interface OpTypeRow {
  opType: string;
  byPhase: PhaseUs;
  calls: number;
  totalUs: number;
  /** Of all kernel time (0–1). */
  share: number;
}

/** One row per op type, busiest first. */
export function opTypeRows(ops: readonly TrainOpStat[]): OpTypeRow[] {
  const rows = new Map<string, OpTypeRow>();
  for (const o of ops) {
    let r = rows.get(o.opType);
    if (!r) rows.set(o.opType, (r = { opType: o.opType, byPhase: zero(), calls: 0, totalUs: 0, share: 0 }));
    r.byPhase[o.phase] += o.totalUs;
    r.calls += o.calls;
  }
  const out = [...rows.values()];
  const total = out.reduce((s, r) => s + sum(r.byPhase), 0);
  for (const r of out) {
    r.totalUs = sum(r.byPhase);
    r.share = total > 0 ? r.totalUs / total : 0;
  }
  return sortOpTypeRows(out, 'totalUs', true);
}

export type OpSortKey = 'opType' | TrainPhase | 'calls' | 'totalUs';

/** Rows sorted by a column; ties by op type so the order is stable. */
export function sortOpTypeRows(rows: readonly OpTypeRow[], key: OpSortKey, descending: boolean): OpTypeRow[] {
  const value = (r: OpTypeRow): number | string => (key === 'opType' ? r.opType : key === 'calls' ? r.calls : key === 'totalUs' ? r.totalUs : r.byPhase[key]);
  const dir = descending ? -1 : 1;
  return [...rows].sort((a, b) => {
    const va = value(a);
    const vb = value(b);
    const c = typeof va === 'string' ? va.localeCompare(vb as string) : va - (vb as number);
    return c !== 0 ? c * dir : a.opType.localeCompare(b.opType);
  });
}

/** A piece of a stacked bar: where it starts and how long it is, as fractions of the bar's scale. */
export interface Segment {
  phase: TrainPhase;
  us: number;
  start: number;
  length: number;
}

/** The phases of `byPhase` laid end to end on a scale of `scaleUs` (0-length phases left out). */
export function segments(byPhase: PhaseUs, scaleUs: number): Segment[] {
  const out: Segment[] = [];
  let at = 0;
  for (const phase of TRAIN_PHASES) {
    const us = byPhase[phase];
    if (us <= 0) continue;
    const length = scaleUs > 0 ? us / scaleUs : 0;
    out.push({ phase, us, start: at, length });
    at += length;
  }
  return out;
}

export interface LayerRow {
  /** Transformer block index, or null for kernels outside the blocks. */
  layer: number | null;
  label: string;
  byPhase: PhaseUs;
  totalUs: number;
  /** Scaled to the busiest row (its bar is full length). */
  segments: Segment[];
}

/**
 * One row per transformer block in order (every block, also one that recorded no kernels), then one
 * for kernels outside the blocks (embeddings, head, loss, most optimizer updates) when there are any.
 */
export function layerRows(ops: readonly TrainOpStat[], layers: number): LayerRow[] {
  const by = new Map<number | null, PhaseUs>();
  for (let l = 0; l < layers; l++) by.set(l, zero());
  for (const o of ops) {
    let p = by.get(o.layer);
    if (!p) by.set(o.layer, (p = zero()));
    p[o.phase] += o.totalUs;
  }
  const keys = [...by.keys()].filter((k): k is number => k !== null).sort((a, b) => a - b);
  const ordered: Array<number | null> = by.has(null) ? [...keys, null] : keys;
  const longest = Math.max(0, ...ordered.map((k) => sum(by.get(k) as PhaseUs)));
  return ordered.map((layer) => {
    const byPhase = by.get(layer) as PhaseUs;
    return { layer, label: layer === null ? 'outside blocks' : `layer ${layer}`, byPhase, totalUs: sum(byPhase), segments: segments(byPhase, longest) };
  });
}

/** The run's phase totals as one full-length stacked bar (phases the run lacks count as 0). */
export function phaseBar(phases: readonly PhaseStat[]): Segment[] {
  const byPhase = zero();
  for (const p of phases) byPhase[p.phase] += p.totalUs;
  return segments(byPhase, sum(byPhase));
}
