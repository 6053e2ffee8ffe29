/**
 * Lanes: one per (pid, tid) of the trace — a host thread, a GPU stream, or a pseudo-process such as
 * Kineto's "Spans". Ids are interned as events arrive; names come from the `M` metadata events
 * (process_name, process_labels, thread_name), which may come before or after the lane's events.
 */
import type { LaneKind } from '../schema/trace';

export interface LaneState {
  pid: unknown[];
  tid: unknown[];
  processNames: Array<[string, string]>;
  processLabels: Array<[string, string]>;
  threadNames: Array<[string, string]>;
}

export class LaneTable {
  readonly pid: unknown[] = [];
  readonly tid: unknown[] = [];
  private readonly ids = new Map<unknown, Map<unknown, number>>();
  private lastPid: unknown = undefined;
  private lastTid: unknown = undefined;
  private lastLane = -1;
  private readonly processNames = new Map<string, string>();
  private readonly processLabels = new Map<string, string>();
  private readonly threadNames = new Map<string, string>();

  /** The lane of an event's pid/tid; consecutive events of one thread hit a one-entry cache. */
  of(rawPid: unknown, rawTid: unknown): number {
    if (rawPid === this.lastPid && rawTid === this.lastTid) return this.lastLane;
    this.lastPid = rawPid;
    this.lastTid = rawTid;
    // 2021 traces write the same thread as "25738" on ops and 25738 on memory and flow events.
    const pid = typeof rawPid === 'string' && /^\d+$/.test(rawPid) ? Number(rawPid) : rawPid;
    const tid = typeof rawTid === 'string' && /^\d+$/.test(rawTid) ? Number(rawTid) : rawTid;
    let byTid = this.ids.get(pid);
    if (!byTid) this.ids.set(pid, (byTid = new Map()));
    let lane = byTid.get(tid);
    if (lane === undefined) {
      lane = this.pid.length;
      this.pid.push(pid);
      this.tid.push(tid);
      byTid.set(tid, lane);
    }
    this.lastLane = lane;
    return lane;
  }

  get size(): number {
    return this.pid.length;
  }

  /** Records a `ph: "M"` event's name, if it is one that names lanes. */
  metadata(name: unknown, pid: unknown, tid: unknown, args: Record<string, unknown> | undefined): void {
    const value = args?.name ?? args?.labels;
    if (typeof value !== 'string') return;
    if (name === 'process_name') this.processNames.set(String(pid), value);
    else if (name === 'process_labels') this.processLabels.set(String(pid), value);
    else if (name === 'thread_name') this.threadNames.set(`${String(pid)}\u0000${String(tid)}`, value.trim());
  }

  /** The table as plain data, to cross a worker boundary (collect-part.ts). */
  state(): LaneState {
    return { pid: this.pid, tid: this.tid, processNames: [...this.processNames], processLabels: [...this.processLabels], threadNames: [...this.threadNames] };
  }

  /** Adds another table's lanes, in its order, and its names (later ones win, as in one table); returns its lane ids mapped to this table's. */
  merge(s: LaneState): Int32Array {
    const ids = Int32Array.from(s.pid, (pid, k) => this.of(pid, s.tid[k]));
    for (const [k, v] of s.processNames) this.processNames.set(k, v);
    for (const [k, v] of s.processLabels) this.processLabels.set(k, v);
    for (const [k, v] of s.threadNames) this.threadNames.set(k, v);
    return ids;
  }

  /** `python3.10 · thread 785244 (pt_main_thread)`, `GPU 1 · stream 7`, `Spans · PyTorch Profiler`. */
  name(lane: number, kind: LaneKind): string {
    const rawPid = this.pid[lane];
    const rawTid = this.tid[lane];
    const pid = String(rawPid);
    const tid = String(rawTid);
    const thread = this.threadNames.get(`${pid}\u0000${tid}`);
    const noTid = rawTid === undefined || rawTid === '';
    if (rawPid === undefined || rawPid === '') return noTid ? 'global' : `global · ${tid}`;
    // Lanes named by a word ("stream 7", "PyTorch Profiler") rather than a number keep that word.
    const threadPart = thread || (typeof rawTid === 'number' ? `${kind === 'gpu' ? 'stream' : 'thread'} ${tid}` : tid);
    const processPart = kind === 'gpu' ? (this.processLabels.get(pid) ?? `GPU ${pid}`) : (this.processNames.get(pid) ?? pid);
    return noTid ? processPart : `${processPart} · ${threadPart}`;
  }

  /** Orders lanes by pid then tid: numerically when both are numbers. */
  compare(a: number, b: number): number {
    const cmp = (x: unknown, y: unknown) => (typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y)));
    return cmp(this.pid[a], this.pid[b]) || cmp(this.tid[a], this.tid[b]);
  }
}
