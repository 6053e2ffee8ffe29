/**
 * The host operator table, by PyTorch's own rule so that it reproduces `key_averages()` by name:
 * per host thread, the CPU-side profiler events (ops, user annotations including ProfilerStep#N,
 * CUDA/HIP runtime and driver calls, or any slice of a non-PyTorch trace) nest by time; an event's
 * self time is its duration minus its direct children's durations. python_function events are not
 * part of that tree, and neither are the few ops key_averages() filters out (event-kinds.ts).
 * key_averages() also lists `[memory]` allocations made outside every op as a row of zero time;
 * memory is its own view here (memory.ts), so that row is left out.
 */
import type { TraceOpType } from '../schema/trace';
import { Interner } from './columns';
import type { TraceCollector } from './collect';
import { IS_TREE, Kind, opTypeName } from './event-kinds';

/** The key_averages() row that every ProfilerStep#N falls in. */
const STEP_ROW = opTypeName('ProfilerStep#0');
import { filterOrder, nest } from './nest';

/** A local copy: imported bindings are read through getters under the CommonJS transform. */
const RUNTIME = Kind.Runtime;

export interface HostTree {
  /** Per row: its parent in the host tree, −1 at the top and for rows outside the tree. */
  parent: Int32Array;
  /** Per tree row: its nesting level on its thread (timeline.ts reuses the array for its own depths). */
  depth: Int32Array;
  /** Per tree row: the summed durations of its direct children, microseconds. */
  childUs: Float64Array;
  /** Per lane: the lane's tree rows in time order. */
  orders: Int32Array[];
  /** Events that overlapped an open event only partly (not properly nested). */
  partialOverlaps: number;
}

/** Nests the tree kinds of every lane; `laneRows` holds each lane's rows in time order (nest.ts laneOrders), `end` = ts + dur per row. */
export function buildHostTree(c: TraceCollector, laneRows: Int32Array[], end: Float64Array, eps: number): HostTree {
  const ts = c.ts.view();
  const kind = c.kind.view();
  const parent = new Int32Array(c.rows).fill(-1);
  const depth = new Int32Array(c.rows);
  const childUs = { dur: c.dur.view(), sum: new Float64Array(c.rows) };
  const orders = laneRows.map((rows) => filterOrder(rows, kind, IS_TREE));
  let partialOverlaps = 0;
  for (const order of orders) partialOverlaps += nest(order, ts, end, parent, depth, eps, childUs);
  return { parent, depth, childUs: childUs.sum, orders, partialOverlaps };
}

/** Operator names of the table (`ProfilerStep#N` folded into `ProfilerStep*`) and each name id's entry. */
export class OpKeys {
  readonly names = new Interner();
  private readonly byName: Int32Array;

  constructor(private readonly c: TraceCollector) {
    this.byName = new Int32Array(c.names.size).fill(-1);
  }

  of(nameId: number): number {
    let k = this.byName[nameId];
    if (k < 0) k = this.byName[nameId] = this.names.id(opTypeName(this.c.names.values[nameId]));
    return k;
  }
}

export interface HostOps {
  /** Sorted by self time, without sources (stacks.ts adds them). */
  opTypes: TraceOpType[];
  /** Tree rows named `ProfilerStep#N`, in time order per thread. */
  stepRows: number[];
  keys: OpKeys;
  /** opTypes index of each key. */
  rowOfKey: Int32Array;
}

/** Sums calls, self and total time per operator name over all tree rows. */
export function hostOpTable(c: TraceCollector, tree: HostTree): HostOps {
  const dur = c.dur.view();
  const nameOf = c.name.view();
  const childUs = tree.childUs;
  const keys = new OpKeys(c);
  // Keys of the names tree rows use, looked up once per distinct name rather than once per row.
  const names = c.names.size;
  const keyOf = new Int32Array(names).fill(-1);
  const calls = new Float64Array(names);
  const selfUs = new Float64Array(names);
  const totalUs = new Float64Array(names);
  const stepRows: number[] = [];
  let stepKey = -2;
  for (const order of tree.orders) {
    for (let k = 0; k < order.length; k++) {
      const r = order[k];
      let key = keyOf[nameOf[r]];
      if (key < 0) {
        key = keyOf[nameOf[r]] = keys.of(nameOf[r]);
        if (stepKey === -2 && keys.names.values[key] === STEP_ROW) stepKey = key;
      }
      calls[key]++;
      selfUs[key] += dur[r] - childUs[r];
      totalUs[key] += dur[r];
      if (key === stepKey) stepRows.push(r);
    }
  }
  let allSelf = 0;
  for (let k = 0; k < keys.names.size; k++) allSelf += selfUs[k];
  const opTypes: TraceOpType[] = keys.names.values.map((opType, k) => ({
    opType,
    calls: calls[k],
    selfUs: selfUs[k],
    totalUs: totalUs[k],
    selfShare: allSelf > 0 ? selfUs[k] / allSelf : 0,
  }));
  const sorted = opTypes.map((_, k) => k).sort((a, b) => opTypes[b].selfUs - opTypes[a].selfUs || opTypes[b].totalUs - opTypes[a].totalUs || (opTypes[a].opType < opTypes[b].opType ? -1 : 1));
  const rowOfKey = new Int32Array(opTypes.length);
  sorted.forEach((k, i) => (rowOfKey[k] = i));
  return { opTypes: sorted.map((k) => opTypes[k]), stepRows, keys, rowOfKey };
}

/**
 * The host op a runtime call ran inside: its innermost enclosing tree event that is not itself a
 * runtime call; −1 when the call ran outside every op.
 */
export function enclosingOp(row: number, tree: HostTree, kindOf: Uint8Array): number {
  let p = tree.parent[row];
  while (p >= 0 && kindOf[p] === RUNTIME) p = tree.parent[p];
  return p;
}
