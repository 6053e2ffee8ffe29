/**
 * One range of a trace collected on its own (parallel-read.ts): a TraceCollector's columns and
 * tables as plain data that can cross a worker boundary (the typed arrays are transferred, not
 * copied), and `appendPart`, which adds such a part to a collector as if its events had been
 * collected there. Ids (names, lanes, frames, memory devices, counter series) are turned into the
 * collector's, new ones taken in the part's order, and row indices are shifted; so appending the
 * parts of a file in order gives the collector a one-thread read would have built.
 */
import type { TraceFrame } from '../schema/trace';
import type { OrtRunSpan } from '../profile/ort-profile';
import type { CollectCounts, TraceCollector } from './collect';
import type { Column, TypedArray } from './columns';
import type { LaneState } from './lanes';

/** The collector's column fields. */
type ColumnKey = { [K in keyof TraceCollector]: TraceCollector[K] extends Column<TypedArray> ? K : never }[keyof TraceCollector];

/** What a column's values are, so what appending them must do: keep them, map them to the collector's ids, or shift them by its rows. */
type Remap = 'value' | 'name' | 'lane' | 'frame' | 'row' | 'memDevice' | 'counter';

/** Every column (the `satisfies` makes the compiler say so when one is added to the collector). */
const COLUMNS = {
  ts: 'value',
  dur: 'value',
  name: 'name',
  lane: 'lane',
  kind: 'value',
  corr: 'value',
  device: 'value',
  frame: 'frame',
  gpuRows: 'row',
  launchRows: 'row',
  frameRows: 'row',
  memTs: 'value',
  memDevice: 'memDevice',
  memBytes: 'value',
  memTotal: 'value',
  flowId: 'value',
  flowTs: 'value',
  flowLane: 'lane',
  flowPhase: 'value',
  counterTs: 'value',
  counterOf: 'counter',
  counterValue: 'value',
  ortRow: 'row',
  ortOp: 'name',
} as const satisfies Record<ColumnKey, Remap>;

const COLUMN_KEYS = Object.keys(COLUMNS) as ColumnKey[];

export interface CollectorPart {
  columns: Record<ColumnKey, TypedArray>;
  names: string[];
  memDevices: string[];
  counterSeries: string[];
  frames: TraceFrame[];
  lanes: LaneState;
  ortRuns: OrtRunSpan[];
  meta: Record<string, unknown>;
  events: number;
  minTs: number;
  maxEnd: number;
  sawKineto: boolean;
  sawOrt: boolean;
  beginEnd: number;
  counts: CollectCounts;
}

/** The collector's state as a part (views of its columns, not copies). */
export function partOf(c: TraceCollector): CollectorPart {
  return {
    columns: Object.fromEntries(COLUMN_KEYS.map((k) => [k, c[k].view()])) as Record<ColumnKey, TypedArray>,
    names: c.names.values,
    memDevices: c.memDevices.values,
    counterSeries: c.counterSeries.values,
    frames: c.frames.list,
    lanes: c.lanes.state(),
    ortRuns: c.ortRuns,
    meta: c.meta,
    events: c.events,
    minTs: c.minTs,
    maxEnd: c.maxEnd,
    sawKineto: c.sawKineto,
    sawOrt: c.sawOrt,
    beginEnd: c.beginEnd,
    counts: c.counts,
  };
}

/** The buffers to transfer with a part; each column owns its buffer. */
export function partBuffers(p: CollectorPart): ArrayBuffer[] {
  return COLUMN_KEYS.map((k) => p.columns[k].buffer as ArrayBuffer);
}

/** Adds a part's events to the collector, after the ones it has (see the header). */
export function appendPart(c: TraceCollector, p: CollectorPart): void {
  const ids = (values: string[], into: { id(s: string): number }) => Int32Array.from(values, (v) => into.id(v));
  const name = ids(p.names, c.names);
  const memDevice = ids(p.memDevices, c.memDevices);
  const counter = ids(p.counterSeries, c.counterSeries);
  const frame = Int32Array.from(p.frames, (f) => c.frames.intern(f));
  const lane = c.lanes.merge(p.lanes);
  const rowBase = c.rows;
  const maps: Record<Remap, ((v: number) => number) | undefined> = {
    value: undefined,
    name: (v) => name[v],
    lane: (v) => lane[v],
    frame: (v) => (v < 0 ? v : frame[v]),
    row: (v) => v + rowBase,
    memDevice: (v) => memDevice[v],
    counter: (v) => counter[v],
  };
  for (const k of COLUMN_KEYS) c[k].append(p.columns[k], maps[COLUMNS[k]]);
  for (const r of p.ortRuns) c.ortRuns.push(r);
  Object.assign(c.meta, p.meta);
  for (const k of Object.keys(p.counts) as Array<keyof CollectCounts>) c.counts[k] += p.counts[k];
  c.events += p.events;
  c.minTs = Math.min(c.minTs, p.minTs);
  c.maxEnd = Math.max(c.maxEnd, p.maxEnd);
  c.sawKineto ||= p.sawKineto;
  c.sawOrt ||= p.sawOrt;
  c.beginEnd += p.beginEnd;
}
