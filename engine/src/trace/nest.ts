/**
 * Nesting events of one thread by time, as PyTorch does it (torch.autograd.profiler_util
 * EventList._populate_cpu_children): sort by start, longer first on ties; keep a stack of open
 * events; pop every event the new one does not fit inside; the top left is its parent. An event
 * that overlaps its would-be parent only partly pops it, so the two become siblings: real traces
 * have a few such events, and PyTorch counts them this way too.
 */

/** Rows of each lane whose kind `keep` marks (a table indexed by kind), in (start ↑, end ↓, row ↑) order. */
export function laneOrders(lanes: number, laneOf: Int32Array, kindOf: Uint8Array, keep: Uint8Array, ts: Float64Array, end: Float64Array): Int32Array[] {
  const counts = new Int32Array(lanes);
  for (let r = 0; r < laneOf.length; r++) if (keep[kindOf[r]] === 1) counts[laneOf[r]]++;
  const orders = Array.from(counts, (n) => new Int32Array(n));
  const fill = new Int32Array(lanes);
  for (let r = 0; r < laneOf.length; r++) if (keep[kindOf[r]] === 1) orders[laneOf[r]][fill[laneOf[r]]++] = r;
  for (const order of orders) sortByTime(order, ts, end);
  return orders;
}

/** The rows of a sorted lane order whose kind `keep` marks, still sorted. */
export function filterOrder(order: Int32Array, kindOf: Uint8Array, keep: Uint8Array): Int32Array {
  let n = 0;
  for (let k = 0; k < order.length; k++) n += keep[kindOf[order[k]]];
  const out = new Int32Array(n);
  n = 0;
  for (let k = 0; k < order.length; k++) if (keep[kindOf[order[k]]] === 1) out[n++] = order[k];
  return out;
}

/**
 * Sorts rows by start ascending, end descending, then row (file order). Profilers write each
 * thread's events almost in order (a few runs, e.g. ops then runtime calls), so the ascending runs
 * are found and merged: linear for a sorted lane, n·log(runs) otherwise.
 */
export function sortByTime(order: Int32Array, ts: Float64Array, end: Float64Array): void {
  const before = (x: number, y: number) => ts[x] < ts[y] || (ts[x] === ts[y] && (end[x] > end[y] || (end[x] === end[y] && x < y)));
  const runs: number[] = [0];
  for (let k = 1; k < order.length; k++) if (before(order[k], order[k - 1])) runs.push(k);
  if (runs.length === 1) return;
  if (runs.length > order.length / 16) {
    order.sort((x, y) => ts[x] - ts[y] || end[y] - end[x] || x - y);
    return;
  }
  runs.push(order.length);
  let src: Int32Array = order;
  let dst: Int32Array = new Int32Array(order.length);
  let bounds = runs;
  while (bounds.length > 2) {
    const next: number[] = [0];
    for (let b = 0; b + 1 < bounds.length; b += 2) {
      const lo = bounds[b];
      const mid = bounds[b + 1];
      const hi = b + 2 < bounds.length ? bounds[b + 2] : mid;
      let i = lo;
      let j = mid;
      let o = lo;
      while (i < mid && j < hi) dst[o++] = before(src[j], src[i]) ? src[j++] : src[i++];
      while (i < mid) dst[o++] = src[i++];
      while (j < hi) dst[o++] = src[j++];
      next.push(hi);
    }
    [src, dst] = [dst, src];
    bounds = next;
  }
  if (src !== order) order.set(src);
}

/**
 * Tolerance for comparing times, microseconds: JSON numbers like 1669783687464181.125 are stored
 * as doubles whose spacing at that size is 0.25 µs, so a child can appear to end a hair after its
 * parent. Two spacings of the largest time (at least 1 ns).
 */
export function timeEpsilon(maxAbsTime: number): number {
  if (!Number.isFinite(maxAbsTime) || maxAbsTime === 0) return 1e-3;
  const ulp = 2 ** (Math.floor(Math.log2(Math.abs(maxAbsTime))) - 52);
  return Math.max(1e-3, 2 * ulp);
}

/**
 * Writes each row's parent (−1 at the top) and depth for rows in `order` (one lane, sorted by
 * sortByTime), and adds each row's duration to its parent's `childUs` when given; returns how many
 * events overlapped an open one only partly.
 */
export function nest(order: Int32Array, ts: Float64Array, end: Float64Array, parent: Int32Array, depth: Int32Array, eps: number, childUs?: { dur: Float64Array; sum: Float64Array }): number {
  const stack: number[] = [];
  let partial = 0;
  for (let k = 0; k < order.length; k++) {
    const i = order[k];
    while (stack.length > 0) {
      const p = stack[stack.length - 1];
      if (ts[i] >= end[p] - eps) stack.pop();
      else if (end[i] > end[p] + eps) {
        partial++;
        stack.pop();
      } else break;
    }
    const p = stack.length > 0 ? stack[stack.length - 1] : -1;
    parent[i] = p;
    depth[i] = stack.length;
    if (childUs && p >= 0) childUs.sum[p] += childUs.dur[i];
    stack.push(i);
  }
  return partial;
}
