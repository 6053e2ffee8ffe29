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

/** Splits the trace columns into per-run lanes sorted by start time. */
export function buildLanes(trace: KernelTrace): Lane[] {
  const n = trace.op.length;
  let laneCount = trace.runUs.length;
  for (let i = 0; i < n; i++) if (trace.run[i] + 1 > laneCount) laneCount = trace.run[i] + 1;
  const counts = new Int32Array(laneCount);
  for (let i = 0; i < n; i++) counts[trace.run[i]]++;
  const members = Array.from(counts, (c) => new Int32Array(c));
  const fill = new Int32Array(laneCount);
  for (let i = 0; i < n; i++) {
    const r = trace.run[i];
    members[r][fill[r]++] = i;
  }
  return members.map((idx, run) => {
    if (!isSortedBy(idx, trace.startUs)) idx.sort((a, b) => trace.startUs[a] - trace.startUs[b]);
    const len = idx.length;
    const starts = new Float64Array(len);
    const ends = new Float64Array(len);
    const maxEnd = new Float64Array(len);
    const op = new Int32Array(len);
    let running = -Infinity;
    for (let j = 0; j < len; j++) {
      const i = idx[j];
      starts[j] = trace.startUs[i];
      ends[j] = trace.startUs[i] + Math.max(0, trace.durUs[i]);
      running = Math.max(running, ends[j]);
      maxEnd[j] = running;
      op[j] = trace.op[i];
    }
    const durationUs = Math.max(trace.runUs[run] ?? 0, len ? maxEnd[len - 1] : 0);
    return { run, starts, ends, maxEnd, op, traceIndex: idx, durationUs };
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
