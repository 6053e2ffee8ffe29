/**
 * The Timeline's data, prepared once per run: one lane per profiled run with its kernels sorted by
 * start, so that drawing a frame is a binary search plus a linear sweep over the visible kernels.
 */
import type { KernelTrace } from '../../../engine/src/schema/run';

/** The kernels of one profiled run, as parallel typed arrays sorted by start time. */
export interface Lane {
  /** Index of the profiled run (0-based). */
  run: number;
  /** Kernel start, microseconds since the start of the run; ascending. */
  starts: Float64Array;
  /** Kernel end (start + duration), microseconds since the start of the run. */
  ends: Float64Array;
  /** Running maximum of `ends` (non-decreasing), so the first visible kernel can be found by bisection even where kernels overlap. */
  maxEnd: Float64Array;
  /** Index into `run.ops` of each kernel. */
  op: Int32Array;
  /** Index of each kernel in the trace columns. */
  traceIndex: Int32Array;
  /** Wall time of the run as ORT measured it (or the last kernel's end if larger), microseconds. */
  durationUs: number;
}

/** Indices `0 … n−1` grouped by `groupOf(i)` (a group in `[0, groups)`; a negative one leaves `i` out), each group in index order. */
export function groupIndices(n: number, groups: number, groupOf: (i: number) => number): Int32Array[] {
  const counts = new Int32Array(groups);
  for (let i = 0; i < n; i++) {
    const g = groupOf(i);
    if (g >= 0) counts[g]++;
  }
  const members = Array.from(counts, (c) => new Int32Array(c));
  const fill = new Int32Array(groups);
  for (let i = 0; i < n; i++) {
    const g = groupOf(i);
    if (g >= 0) members[g][fill[g]++] = i;
  }
  return members;
}

/**
 * The lane of events `idx` (already sorted by start) from the columns: starts, ends, their running
 * maximum and each event's colour key; `durationUs` is at least `floorUs`.
 */
export function laneOf(run: number, idx: Int32Array, startUs: ArrayLike<number>, durUs: ArrayLike<number>, key: ArrayLike<number>, floorUs: number): Lane {
  const len = idx.length;
  const starts = new Float64Array(len);
  const ends = new Float64Array(len);
  const maxEnd = new Float64Array(len);
  const op = new Int32Array(len);
  let running = -Infinity;
  for (let j = 0; j < len; j++) {
    const i = idx[j];
    starts[j] = startUs[i];
    ends[j] = startUs[i] + Math.max(0, durUs[i]);
    running = Math.max(running, ends[j]);
    maxEnd[j] = running;
    op[j] = key[i];
  }
  return { run, starts, ends, maxEnd, op, traceIndex: idx, durationUs: Math.max(floorUs, len ? maxEnd[len - 1] : 0) };
}

/** Splits the trace columns into per-run lanes sorted by start time. */
export function buildLanes(trace: KernelTrace): Lane[] {
  const n = trace.op.length;
  let laneCount = trace.runUs.length;
  for (let i = 0; i < n; i++) if (trace.run[i] + 1 > laneCount) laneCount = trace.run[i] + 1;
  return groupIndices(n, laneCount, (i) => trace.run[i]).map((idx, run) => {
    if (!isSortedBy(idx, trace.startUs)) idx.sort((a, b) => trace.startUs[a] - trace.startUs[b]);
    return laneOf(run, idx, trace.startUs, trace.durUs, trace.op, trace.runUs[run] ?? 0);
  });
}

function isSortedBy(idx: Int32Array, key: number[]): boolean {
  for (let j = 1; j < idx.length; j++) if (key[idx[j]] < key[idx[j - 1]]) return false;
  return true;
}

/** Index of the first kernel of `lane` that ends at or after `tUs` (its length if none). */
export function firstEndingAfter(lane: Lane, tUs: number): number {
  let lo = 0;
  let hi = lane.maxEnd.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (lane.maxEnd[mid] < tUs) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The longest run among the lanes, microseconds (at least 1). */
export function lanesDurationUs(lanes: readonly Lane[]): number {
  return Math.max(1, ...lanes.map((l) => l.durationUs));
}

/**
 * The kernel under time `tUs` in `lane`, or the nearest one within `toleranceUs`; prefers the
 * kernel that contains `tUs`, then the closest, then the longest. Returns its index in the lane, or -1.
 */
export function hitTest(lane: Lane, tUs: number, toleranceUs: number): number {
  let best = -1;
  let bestDist = Infinity;
  let bestDur = -1;
  for (let j = firstEndingAfter(lane, tUs - toleranceUs); j < lane.starts.length && lane.starts[j] <= tUs + toleranceUs; j++) {
    const s = lane.starts[j];
    const e = lane.ends[j];
    if (e < tUs - toleranceUs) continue;
    const dist = tUs < s ? s - tUs : tUs > e ? tUs - e : 0;
    const dur = e - s;
    if (dist < bestDist || (dist === bestDist && dur > bestDur)) {
      best = j;
      bestDist = dist;
      bestDur = dur;
    }
  }
  return best;
}
