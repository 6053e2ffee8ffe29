/**
 * Memory in use over time from `[memory]` events (profile_memory=True). Current traces give each
 * event the allocator's `Total Allocated` after it; 2021 traces give only `Bytes`, the signed size
 * of the allocation or free, so the level is their running sum per device. Memory allocated before
 * recording started is unknown then: where the running sum dips below zero the whole series is
 * lifted so its lowest point is zero (a lower bound of the true level).
 */
import { MAX_TRACE_MEMORY_POINTS, TraceMemory } from '../schema/trace';
import type { TraceCollector } from './collect';
import { sortByTime } from './nest';

export function memorySummary(c: TraceCollector, t0: number): { memory?: TraceMemory; lifted: string[] } {
  const n = c.memTs.length;
  if (n === 0) return { lifted: [] };
  const ts = c.memTs.view();
  const dev = c.memDevice.view();
  const bytes = c.memBytes.view();
  const total = c.memTotal.view();
  const order = new Int32Array(n);
  for (let k = 0; k < n; k++) order[k] = k;
  sortByTime(order, ts, ts);

  const devices = c.memDevices.size;
  const level = new Float64Array(n);
  const running = new Float64Array(devices);
  const lowest = new Float64Array(devices);
  const sawTotal = new Uint8Array(devices);
  for (let k = 0; k < n; k++) {
    const e = order[k];
    const d = dev[e];
    if (total[e] === total[e]) {
      running[d] = total[e];
      sawTotal[d] = 1;
    } else running[d] += bytes[e];
    level[e] = running[d];
    if (running[d] < lowest[d]) lowest[d] = running[d];
  }
  const lifted: string[] = [];
  const peak = new Float64Array(devices).fill(-Infinity);
  const peakAt = new Float64Array(devices);
  for (let k = 0; k < n; k++) {
    const e = order[k];
    const d = dev[e];
    if (!sawTotal[d] && lowest[d] < 0) level[e] -= lowest[d];
    if (level[e] > peak[d]) {
      peak[d] = level[e];
      peakAt[d] = ts[e];
    }
  }
  for (let d = 0; d < devices; d++) if (!sawTotal[d] && lowest[d] < 0) lifted.push(c.memDevices.values[d]);

  // The accelerator with the highest peak is what users size batches against; the CPU otherwise.
  let main = -1;
  for (let d = 0; d < devices; d++) {
    const isCpu = c.memDevices.values[d] === 'cpu';
    const best = main < 0 ? undefined : c.memDevices.values[main] === 'cpu';
    if (main < 0 || (best && !isCpu) || (best === isCpu && peak[d] > peak[main])) main = d;
  }
  const mainRows: number[] = [];
  for (let k = 0; k < n; k++) if (dev[order[k]] === main) mainRows.push(order[k]);
  return {
    memory: {
      device: c.memDevices.values[main],
      peakBytes: peak[main],
      peakAtUs: peakAt[main] - t0,
      devices: c.memDevices.values.map((device, d) => ({ device, peakBytes: peak[d] })).sort((a, b) => b.peakBytes - a.peakBytes),
      timeline: bucketMax(mainRows, ts, level, MAX_TRACE_MEMORY_POINTS).map((e) => ({ tUs: ts[e] - t0, bytes: level[e] })),
    },
    lifted,
  };
}

/** Of `rows` (in time order), at most `max`: time is cut into `max` equal buckets and each keeps its highest row. */
function bucketMax(rows: number[], ts: Float64Array, value: Float64Array, max: number): number[] {
  if (rows.length <= max) return rows;
  const first = ts[rows[0]];
  const width = (ts[rows[rows.length - 1]] - first) / max || 1;
  const out: number[] = [];
  let bucket = -1;
  for (const r of rows) {
    const b = Math.min(max - 1, Math.floor((ts[r] - first) / width));
    if (b !== bucket) {
      out.push(r);
      bucket = b;
    } else if (value[r] > value[out[out.length - 1]]) out[out.length - 1] = r;
  }
  return out;
}

/** At most `max` points: time is cut into `max` equal buckets and each keeps its highest point. */
export function downsampleMax<T extends { tUs: number }>(points: T[], max: number, value: (p: T) => number): T[] {
  if (points.length <= max) return points;
  const first = points[0].tUs;
  const width = (points[points.length - 1].tUs - first) / max || 1;
  const out: T[] = [];
  let bucket = -1;
  for (const p of points) {
    const b = Math.min(max - 1, Math.floor((p.tUs - first) / width));
    if (b !== bucket) {
      out.push(p);
      bucket = b;
    } else if (value(p) > value(out[out.length - 1])) out[out.length - 1] = p;
  }
  return out;
}
