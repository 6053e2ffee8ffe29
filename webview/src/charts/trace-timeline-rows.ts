/**
 * The trace Timeline's data, prepared once per document: one row per (lane, nesting depth) with its
 * events sorted by start, shaped like the kernel Timeline's lanes (timeline-lanes.ts) so that its
 * level-of-detail merge (timeline-marks.ts) and hit test apply unchanged; the colour of each event
 * name; and the vertical layout of rows grouped by lane.
 */
import type { TraceTimeline } from '../../../engine/src/schema/trace';
import { assignOpTypeColors, PALETTE_SLOTS } from './palette';
import { groupIndices, laneOf, type Lane } from './timeline-lanes';

/** One row: the events of one lane at one depth. `run` is the row's index, `op` the event's name index. */
export interface TraceRow extends Lane {
  /** Index into `timeline.lanes`. */
  lane: number;
  /** Nesting level within the lane, 0 at the top. */
  depth: number;
}

export interface TraceRows {
  /** Lanes in document order, each lane's depths in order. */
  rows: TraceRow[];
  /** For each lane of the document, the index of its first row and its number of rows (0 for a lane without events). */
  laneRows: Array<{ first: number; count: number }>;
  /** From 0 to the end of the last event (or `spanUs` if larger), microseconds; at least 1. */
  durationUs: number;
  /** Events in all rows. */
  events: number;
}

/** Splits the columns into rows (lane, depth) sorted by start. Events with an out-of-range lane are skipped. */
export function buildTraceRows(t: TraceTimeline, spanUs = 0): TraceRows {
  const n = t.lane.length;
  const laneCount = t.lanes.length;
  const depths = new Int32Array(laneCount);
  for (let i = 0; i < n; i++) {
    const l = t.lane[i];
    const d = Math.max(0, t.depth[i]) + 1;
    if (l >= 0 && l < laneCount && d > depths[l]) depths[l] = d;
  }
  const laneRows: TraceRows['laneRows'] = [];
  let rowCount = 0;
  for (let l = 0; l < laneCount; l++) {
    laneRows.push({ first: rowCount, count: depths[l] });
    rowCount += depths[l];
  }
  const members = groupIndices(n, rowCount, (i) => (t.lane[i] >= 0 && t.lane[i] < laneCount ? laneRows[t.lane[i]].first + Math.max(0, t.depth[i]) : -1));
  let durationUs = Math.max(1, spanUs);
  let events = 0;
  const rows: TraceRow[] = [];
  for (let lane = 0; lane < laneCount; lane++) {
    for (let depth = 0; depth < depths[lane]; depth++) {
      const idx = members[laneRows[lane].first + depth];
      idx.sort((a, b) => t.startUs[a] - t.startUs[b] || t.durUs[b] - t.durUs[a] || a - b);
      const row = laneOf(rows.length, idx, t.startUs, t.durUs, t.name, 0);
      if (row.durationUs > durationUs) durationUs = row.durationUs;
      events += idx.length;
      rows.push({ ...row, lane, depth });
    }
  }
  return { rows, laneRows, durationUs, events };
}

/** FNV-1a, to give names beyond the busiest a stable colour of their own. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * A palette slot per name index: the names with the most summed duration take distinct slots
 * (busiest first); the others hash to a slot, so that a name keeps its colour across zoom levels and
 * between traces.
 */
export function nameColors(t: TraceTimeline): Int32Array {
  const total = new Float64Array(t.names.length);
  for (let i = 0; i < t.name.length; i++) total[t.name[i]] += Math.max(0, t.durUs[i]);
  const order = Array.from(t.names.keys()).sort((a, b) => total[b] - total[a] || a - b);
  const distinct = assignOpTypeColors(order.slice(0, PALETTE_SLOTS).map((i) => t.names[i]));
  const out = new Int32Array(t.names.length);
  t.names.forEach((name, i) => {
    out[i] = distinct.get(name) ?? hash(name) % PALETTE_SLOTS;
  });
  return out;
}

/** Vertical layout of the rows, CSS pixels. */
export interface RowLayout {
  /** Top of each row. */
  rowTop: Float64Array;
  rowHeight: number;
  /** Top and height of each lane's block (height 0 for a lane without events). */
  laneTop: Float64Array;
  laneHeight: Float64Array;
  /** Bottom of the last lane. */
  bottom: number;
}

/** Stacks the rows under `top`, each lane's block separated from the next by `gap` pixels. */
export function rowLayout(r: TraceRows, top: number, rowHeight: number, gap: number): RowLayout {
  const rowTop = new Float64Array(r.rows.length);
  const laneTop = new Float64Array(r.laneRows.length);
  const laneHeight = new Float64Array(r.laneRows.length);
  let y = top;
  r.laneRows.forEach((lr, lane) => {
    laneTop[lane] = y;
    for (let k = 0; k < lr.count; k++) rowTop[lr.first + k] = y + k * rowHeight;
    laneHeight[lane] = lr.count * rowHeight;
    if (lr.count > 0) y += lr.count * rowHeight + gap;
  });
  return { rowTop, rowHeight, laneTop, laneHeight, bottom: r.rows.length ? y - gap : top };
}

/** Index of the row under `y` pixels, or -1 (between lanes, above or below). */
export function rowAt(l: RowLayout, y: number): number {
  let lo = 0;
  let hi = l.rowTop.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (l.rowTop[mid] <= y) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found >= 0 && y < l.rowTop[found] + l.rowHeight ? found : -1;
}

/** One step of the band above the lanes, clipped to the visible window. */
export interface StepMark {
  /** Pixels from the left of the plot area. */
  x: number;
  w: number;
  label: string;
  /** Index into `steps`, for alternating shades. */
  index: number;
}

/** Steps overlapping `[t0, t1]` drawn `widthPx` wide, clipped to it. */
export function stepMarks(steps: ReadonlyArray<{ name: string; startUs: number; durUs: number }>, xDomain: readonly [number, number], widthPx: number): StepMark[] {
  const [t0, t1] = xDomain;
  if (!(t1 > t0) || !(widthPx > 0)) return [];
  const k = widthPx / (t1 - t0);
  const out: StepMark[] = [];
  steps.forEach((s, index) => {
    const a = Math.max(t0, s.startUs);
    const b = Math.min(t1, s.startUs + s.durUs);
    if (b < a || s.startUs > t1 || s.startUs + s.durUs < t0) return;
    out.push({ x: (a - t0) * k, w: Math.max(1, (b - a) * k), label: s.name, index });
  });
  return out;
}
