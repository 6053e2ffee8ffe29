/**
 * The GPU kernel table (kernels, memcpy and memset activities by name) and, for each kernel, the
 * host op that launched it: the GPU activity and the runtime call that launched it share a CUDA
 * correlation id (`args.correlation`); where an activity lacks one, the launch flow events
 * (`ac2g`, 2021 `async`, legacy `async_gpu`: `s` on the runtime call, `f` on the activity, same id)
 * tie them. The launcher is the innermost host op around that runtime call (host-ops.ts).
 */
import type { KernelCategory, TraceKernel } from '../schema/trace';
import type { TraceCollector } from './collect';
import { isCommunicationKernel, Kind } from './event-kinds';
import { enclosingOp, HostTree, OpKeys } from './host-ops';

const TOP_LAUNCHERS = 5;

export interface KernelTable {
  kernels: TraceKernel[];
  /** GPU activities seen. */
  activities: number;
  /** Of those, how many were traced to a launching runtime call, and to a host op around it. */
  launched: number;
  linked: number;
}

interface Agg {
  calls: number;
  totalUs: number;
  maxUs: number;
  category: KernelCategory;
  launchers: Map<number, { calls: number; us: number }>;
}

export function categoryOf(kind: number, name: string): KernelCategory {
  if (kind === Kind.Memcpy) return 'memcpy';
  if (kind === Kind.Memset) return 'memset';
  return isCommunicationKernel(name) ? 'communication' : 'compute';
}

export function kernelTable(c: TraceCollector, tree: HostTree, keys: OpKeys): KernelTable {
  const kind = c.kind.view();
  const corr = c.corr.view();
  const dur = c.dur.view();
  const nameOf = c.name.view();
  const runtime = Kind.Runtime;
  const runtimeOf = correlationIndex(c, corr);
  const gpuRows = c.gpuRows.view();
  let viaFlow: ((row: number) => number) | undefined;

  // Aggregates by name id (an array index, not a Map lookup per activity).
  const aggOf: Array<Agg | undefined> = new Array(c.names.size);
  const names: number[] = [];
  let activities = 0;
  let launched = 0;
  let linked = 0;
  for (let g = 0; g < gpuRows.length; g++) {
    const r = gpuRows[g];
    activities++;
    const id = nameOf[r];
    let agg = aggOf[id];
    if (agg === undefined) {
      agg = aggOf[id] = { calls: 0, totalUs: 0, maxUs: 0, category: categoryOf(kind[r], c.names.values[id]), launchers: new Map() };
      names.push(id);
    }
    agg.calls++;
    agg.totalUs += dur[r];
    if (dur[r] > agg.maxUs) agg.maxUs = dur[r];
    let rt = corr[r] === corr[r] ? runtimeOf(corr[r]) : -1;
    if (rt < 0 && c.flowId.length > 0) rt = (viaFlow ??= flowLinker(c, tree))(r);
    if (rt < 0) continue;
    launched++;
    const op = kind[rt] === runtime ? enclosingOp(rt, tree, kind) : rt;
    if (op < 0) continue;
    linked++;
    const key = keys.of(nameOf[op]);
    const l = agg.launchers.get(key);
    if (l) {
      l.calls++;
      l.us += dur[r];
    } else agg.launchers.set(key, { calls: 1, us: dur[r] });
  }
  const kernels: TraceKernel[] = names.map((name) => aggOf[name]!).map((a, i) => ({
    name: c.names.values[names[i]],
    calls: a.calls,
    totalUs: a.totalUs,
    meanUs: a.calls > 0 ? a.totalUs / a.calls : 0,
    maxUs: a.maxUs,
    category: a.category,
    launchers: [...a.launchers.entries()]
      .map(([key, l]) => ({ opType: keys.names.values[key], calls: l.calls, totalUs: l.us }))
      .sort((x, y) => y.totalUs - x.totalUs || y.calls - x.calls)
      .slice(0, TOP_LAUNCHERS),
  }));
  kernels.sort((a, b) => b.totalUs - a.totalUs || (a.name < b.name ? -1 : 1));
  return { kernels, activities, launched, linked };
}

/**
 * Correlation id → the runtime row that carries it (−1 if none). CUDA and HIP number their API
 * calls consecutively, so the ids of one trace span a range not much wider than their count: a
 * table indexed by id − min answers without hashing. Sparse or odd ids fall back to a Map.
 */
function correlationIndex(c: TraceCollector, corr: Float64Array): (id: number) => number {
  const rows = c.launchRows.view();
  if (rows.length === 0) return () => -1;
  let lo = Infinity;
  let hi = -Infinity;
  let integral = true;
  for (let k = 0; k < rows.length; k++) {
    const id = corr[rows[k]];
    if (id < lo) lo = id;
    if (id > hi) hi = id;
    if (!Number.isInteger(id)) integral = false;
  }
  if (integral && hi - lo < Math.max(1 << 16, 8 * rows.length)) {
    const table = new Int32Array(hi - lo + 1).fill(-1);
    for (let k = 0; k < rows.length; k++) table[corr[rows[k]] - lo] = rows[k];
    return (id) => (id >= lo && id <= hi && Number.isInteger(id) ? table[id - lo] : -1);
  }
  const map = new Map<number, number>();
  for (let k = 0; k < rows.length; k++) map.set(corr[rows[k]], rows[k]);
  return (id) => map.get(id) ?? -1;
}

/**
 * Row → the host row its launch flow starts on (−1 if none): the `f` event sits on the activity's
 * lane at its start, the `s` event with the same id on the runtime call's lane at the call's start.
 */
function flowLinker(c: TraceCollector, tree: HostTree): (row: number) => number {
  const finishAt = new Map<string, number>();
  const startOf = new Map<number, number>();
  const ids = c.flowId.view();
  for (let k = 0; k < ids.length; k++) {
    if (c.flowPhase.data[k] === 1) finishAt.set(`${c.flowLane.data[k]}:${c.flowTs.data[k]}`, ids[k]);
    else startOf.set(ids[k], k);
  }
  const ts = c.ts.view();
  const kind = c.kind.view();
  return (row) => {
    const id = finishAt.get(`${c.lane.data[row]}:${ts[row]}`);
    const s = id === undefined ? undefined : startOf.get(id);
    if (s === undefined) return -1;
    return hostRowAt(tree.orders[c.flowLane.data[s]] ?? new Int32Array(0), ts, kind, c.flowTs.data[s], c.dur.view());
  };
}

/** The runtime call starting at `t` on a lane, else the innermost tree row that contains `t`. */
function hostRowAt(order: Int32Array, ts: Float64Array, kind: Uint8Array, t: number, dur: Float64Array): number {
  let lo = 0;
  let hi = order.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ts[order[mid]] <= t) lo = mid + 1;
    else hi = mid;
  }
  let inside = -1;
  for (let k = lo - 1; k >= 0 && k >= lo - 64; k--) {
    const r = order[k];
    if (kind[r] === Kind.Runtime && ts[r] === t) return r;
    if (inside < 0 && ts[r] + dur[r] >= t) inside = r;
  }
  return inside;
}
