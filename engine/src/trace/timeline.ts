/**
 * Columns for the canvas Timeline: one lane per host thread or GPU stream (named from the trace's
 * `M` metadata), each event's lane, start, duration, name, nesting depth and source frame. A big
 * trace has more events than a view can use; past the cap, GPU activities are kept first, then
 * host events from the outermost level inward, and within the level that does not fit whole, the
 * longest events.
 */
import { LaneKind, MAX_TRACE_TIMELINE_EVENTS, TraceLane, TraceTimeline } from '../schema/trace';
import type { TraceCollector } from './collect';
import { IS_CPU_LANE, IS_GPU_BUSY, IS_GPU_LANE, IS_TREE, Kind } from './event-kinds';
import type { HostTree } from './host-ops';
import { nest } from './nest';

const LEVELS = 1024;

/**
 * `orders`: every lane's rows in time order (nest.ts laneOrders); `tree` already nests the host-op
 * rows, which is all that most lanes hold. Times relative to `t0`.
 */
export function buildTimeline(c: TraceCollector, orders: Int32Array[], tree: HostTree, end: Float64Array, eps: number, t0: number, cap = MAX_TRACE_TIMELINE_EVENTS): TraceTimeline {
  const ts = c.ts.view();
  // Lanes with other rows too (GPU streams, python frames, instants) are nested again, whole.
  const depth = tree.depth;
  let parent: Int32Array | undefined;
  orders.forEach((order, lane) => {
    if (order.length === tree.orders[lane].length) return;
    parent ??= new Int32Array(c.rows);
    nest(order, ts, end, parent, depth, eps);
  });

  const keep = selectRows(c, depth, cap);
  const kept = keep === null ? c.rows : count(keep);
  const lanes = laneTable(c, orders);
  const nameIndex = new Int32Array(c.names.size).fill(-1);
  const names: string[] = [];
  // Plain arrays filled in place: the document is JSON, and copying typed arrays out costs more.
  const laneCol: number[] = new Array(kept);
  const startCol: number[] = new Array(kept);
  const durCol: number[] = new Array(kept);
  const nameCol: number[] = new Array(kept);
  const depthCol: number[] = new Array(kept);
  const frameCol: number[] = new Array(kept);
  const nameOf = c.name.view();
  const dur = c.dur.view();
  const frame = c.frame.view();
  let o = 0;
  for (let laneNo = 0; laneNo < lanes.length; laneNo++) {
    const order = orders[lanes[laneNo].index];
    for (let k = 0; k < order.length; k++) {
      const r = order[k];
      if (keep !== null && keep[r] === 0) continue;
      const id = nameOf[r];
      let n = nameIndex[id];
      if (n < 0) {
        n = nameIndex[id] = names.length;
        names.push(c.names.values[id]);
      }
      laneCol[o] = laneNo;
      startCol[o] = ts[r] - t0;
      durCol[o] = dur[r];
      nameCol[o] = n;
      depthCol[o] = depth[r];
      frameCol[o++] = frame[r];
    }
  }
  return { lanes: lanes.map((l) => l.lane), names, lane: laneCol, startUs: startCol, durUs: durCol, name: nameCol, depth: depthCol, frame: frameCol, dropped: c.rows - kept };
}

function count(chosen: Uint8Array): number {
  let n = 0;
  for (let r = 0; r < chosen.length; r++) n += chosen[r];
  return n;
}

/** Which rows fit under the cap (1 = kept; null: all fit), by priority: GPU work, then host depth 0, 1, ..., then the rest. */
function selectRows(c: TraceCollector, depth: Int32Array, cap: number): Uint8Array | null {
  if (c.rows <= cap) return null;
  const kind = c.kind.view();
  const level = new Int32Array(c.rows);
  const perLevel = new Int32Array(LEVELS * 2 + 1);
  const busy = IS_GPU_BUSY;
  const tree = IS_TREE;
  const ortKernel = Kind.OrtKernel;
  for (let r = 0, rows = c.rows; r < rows; r++) {
    const d = Math.min(LEVELS - 1, depth[r]);
    level[r] = busy[kind[r]] === 1 ? 0 : tree[kind[r]] === 1 || kind[r] === ortKernel ? 1 + d : 1 + LEVELS + d;
    perLevel[level[r]]++;
  }
  let cut = 0;
  let taken = 0;
  while (cut < perLevel.length && taken + perLevel[cut] <= cap) taken += perLevel[cut++];
  const chosen = new Uint8Array(c.rows);
  const partial: number[] = [];
  for (let r = 0, rows = c.rows; r < rows; r++) {
    if (level[r] < cut) chosen[r] = 1;
    else if (level[r] === cut) partial.push(r);
  }
  const dur = c.dur.view();
  partial.sort((a, b) => dur[b] - dur[a] || a - b);
  for (let k = 0; k < cap - taken && k < partial.length; k++) chosen[partial[k]] = 1;
  return chosen;
}

/** Lanes that hold events, CPU first, then GPU streams, then the rest, each in pid/tid order. */
function laneTable(c: TraceCollector, orders: Int32Array[]): Array<{ index: number; lane: TraceLane }> {
  const kind = c.kind.view();
  const gpuKind = IS_GPU_LANE;
  const cpuKind = IS_CPU_LANE;
  const lanes: Array<{ index: number; lane: TraceLane; rank: number }> = [];
  orders.forEach((order, index) => {
    if (order.length === 0) return;
    let gpu = false;
    let cpu = false;
    for (let k = 0; k < order.length && !gpu; k++) {
      if (gpuKind[kind[order[k]]] === 1) gpu = true;
      else if (cpuKind[kind[order[k]]] === 1) cpu = true;
    }
    const laneKind: LaneKind = gpu ? 'gpu' : cpu ? 'cpu' : 'other';
    lanes.push({ index, lane: { name: c.lanes.name(index, laneKind), kind: laneKind }, rank: laneKind === 'cpu' ? 0 : laneKind === 'gpu' ? 1 : 2 });
  });
  lanes.sort((a, b) => a.rank - b.rank || c.lanes.compare(a.index, b.index));
  return lanes;
}
