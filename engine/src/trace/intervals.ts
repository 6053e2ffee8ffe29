import { sortByTime } from './nest';

/**
 * Interval arithmetic for GPU time: the union of activities that overlap on concurrent streams (so
 * busy time is not counted twice) and the length of the intersection of two unions (communication
 * hidden behind computation).
 */

/** Disjoint, sorted intervals. */
export interface IntervalSet {
  start: Float64Array;
  end: Float64Array;
}

/** Union of the intervals [ts[r], end[r]) of `rows`; `rows` need not be sorted. */
export function unionOf(rows: readonly number[], ts: Float64Array, end: Float64Array): IntervalSet {
  const order = Int32Array.from(rows);
  sortByTime(order, ts, end);
  const start: number[] = [];
  const stop: number[] = [];
  for (let k = 0; k < order.length; k++) {
    const r = order[k];
    const last = stop.length - 1;
    if (last >= 0 && ts[r] <= stop[last]) {
      if (end[r] > stop[last]) stop[last] = end[r];
    } else {
      start.push(ts[r]);
      stop.push(end[r]);
    }
  }
  return { start: Float64Array.from(start), end: Float64Array.from(stop) };
}

export function lengthOf(set: IntervalSet): number {
  let sum = 0;
  for (let k = 0; k < set.start.length; k++) sum += set.end[k] - set.start[k];
  return sum;
}

/** Total length where both sets hold: a two-pointer sweep over the sorted intervals. */
export function intersectionLength(a: IntervalSet, b: IntervalSet): number {
  let i = 0;
  let j = 0;
  let sum = 0;
  while (i < a.start.length && j < b.start.length) {
    const lo = Math.max(a.start[i], b.start[j]);
    const hi = Math.min(a.end[i], b.end[j]);
    if (hi > lo) sum += hi - lo;
    if (a.end[i] < b.end[j]) i++;
    else j++;
  }
  return sum;
}
