/**
 * What the host was doing while the GPU idled, from the trace's timeline: the gaps between GPU
 * activities (kernels, memcpy, memset on any stream) within the GPU span, and for each host op the
 * gap time during which it was the innermost op on its thread (self) or open at all (inclusive).
 * That names the work to hide — data loading, host-to-device copies, synchronizations — with
 * figures from the trace, not a guess. Pure; linear in the timeline after sorting.
 */
import type { TraceRun, TraceTimeline } from '../schema/trace';
import { opGroup } from './trace-facts';

export interface IdleFacts {
  /** Time within the GPU span when no GPU lane is busy, microseconds. */
  idleUs: number;
  /** Gaps between GPU activities. */
  gaps: number;
  /** Idle time during which some host op (not a ProfilerStep#N marker) ran on some thread, microseconds. */
  coveredUs: number;
  /** Idle time during which each op was the innermost op of its thread (threads summed), largest first, microseconds. */
  self: Array<{ name: string; us: number }>;
  /** Idle time during which each op was open on its thread (callees included, threads summed), microseconds. */
  open: Map<string, number>;
  /** Of `self`, the part inside a DataLoader's `__next__` (collation runs aten ops too), microseconds. */
  selfInDataLoader: Map<string, number>;
  /** Timeline events the import left out (this analysis cannot see them). */
  dropped: number;
}

type Span = [number, number];

/** The host side of `for batch in loader` in a PyTorch profile. */
export const DATA_LOADER_OP = /^enumerate\(DataLoader\)/;

/** Sorted, merged intervals. */
function union(spans: Span[]): Span[] {
  spans.sort((a, b) => a[0] - b[0]);
  const out: Span[] = [];
  for (const s of spans) {
    const last = out[out.length - 1];
    if (last && s[0] <= last[1]) last[1] = Math.max(last[1], s[1]);
    else out.push([s[0], s[1]]);
  }
  return out;
}

/** Time of [a, b) inside the sorted, disjoint `gaps`. */
function overlap(gaps: Span[], a: number, b: number): number {
  if (b <= a || gaps.length === 0) return 0;
  let lo = 0;
  let hi = gaps.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (gaps[mid][1] <= a) lo = mid + 1;
    else hi = mid;
  }
  let us = 0;
  for (let i = lo; i < gaps.length && gaps[i][0] < b; i++) us += Math.min(b, gaps[i][1]) - Math.max(a, gaps[i][0]);
  return us;
}

function rowsOfKind(t: TraceTimeline, kind: 'cpu' | 'gpu'): number[] {
  const rows: number[] = [];
  for (let i = 0; i < t.lane.length; i++) if (t.lanes[t.lane[i]]?.kind === kind && t.durUs[i] > 0) rows.push(i);
  return rows;
}

/** Null when the trace has no GPU activity on its timeline. */
export function idleFacts(run: TraceRun): IdleFacts | null {
  const t = run.timeline;
  const busy = union(rowsOfKind(t, 'gpu').map((i): Span => [t.startUs[i], t.startUs[i] + t.durUs[i]]));
  if (busy.length === 0) return null;
  const gaps: Span[] = [];
  for (let i = 1; i < busy.length; i++) gaps.push([busy[i - 1][1], busy[i][0]]);
  const idleUs = gaps.reduce((s, g) => s + g[1] - g[0], 0);

  const self = new Map<string, number>();
  const open = new Map<string, number>();
  const inLoader = new Map<string, number>();
  const add = (m: Map<string, number>, name: string, us: number) => us > 0 && m.set(name, (m.get(name) ?? 0) + us);
  const host = rowsOfKind(t, 'cpu');
  const byLane = new Map<number, number[]>();
  for (const i of host) {
    const rows = byLane.get(t.lane[i]);
    if (rows) rows.push(i);
    else byLane.set(t.lane[i], [i]);
  }
  for (const rows of byLane.values()) {
    // Parents before their children: by start, then by nesting depth.
    rows.sort((a, b) => t.startUs[a] - t.startUs[b] || t.depth[a] - t.depth[b]);
    const end = (i: number) => t.startUs[i] + t.durUs[i];
    const name = (i: number) => opGroup(t.names[t.name[i]]);
    const isLoader = (i: number) => DATA_LOADER_OP.test(t.names[t.name[i]]);
    const stack: number[] = [];
    // Open DataLoader calls on the stack: what runs under one is data loading, whatever its name.
    let loaders = 0;
    let cursor = 0;
    const addSelf = (i: number, until: number) => {
      const us = overlap(gaps, cursor, until);
      add(self, name(i), us);
      if (loaders > (isLoader(i) ? 1 : 0)) add(inLoader, name(i), us);
    };
    const closeUntil = (at: number) => {
      while (stack.length > 0 && end(stack[stack.length - 1]) <= at) {
        const top = stack.pop()!;
        addSelf(top, end(top));
        if (isLoader(top)) loaders--;
        cursor = Math.max(cursor, end(top));
      }
    };
    for (const i of rows) {
      const start = t.startUs[i];
      closeUntil(start);
      if (stack.length > 0) addSelf(stack[stack.length - 1], start);
      stack.push(i);
      if (isLoader(i)) loaders++;
      cursor = start;
      add(open, name(i), overlap(gaps, start, end(i)));
    }
    closeUntil(Infinity);
  }
  // The step markers span everything; coverage asks whether real host work was under way.
  const covered = union(host.filter((i) => !/^ProfilerStep#\d+$/.test(t.names[t.name[i]])).map((i): Span => [t.startUs[i], t.startUs[i] + t.durUs[i]]));
  const coveredUs = covered.reduce((s, c) => s + overlap(gaps, c[0], c[1]), 0);
  return {
    idleUs,
    gaps: gaps.length,
    coveredUs,
    self: [...self.entries()].map(([n, us]) => ({ name: n, us })).sort((a, b) => b.us - a.us),
    open,
    selfInDataLoader: inLoader,
    dropped: t.dropped,
  };
}
