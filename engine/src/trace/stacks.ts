/**
 * Jump-to-source for host ops: the innermost user frame around each op. With `with_stack=True`
 * current traces record Python calls as python_function events on the op's thread, so the frame is
 * the innermost user python_function enclosing the op in time; 2021 traces carry a `Call stack`
 * string on the op itself (read at collection). Each op type lists its top frames by calls.
 */
import type { TraceOpType } from '../schema/trace';
import type { TraceCollector } from './collect';
import { Kind } from './event-kinds';
import type { HostOps, HostTree } from './host-ops';
import { sortByTime } from './nest';

const TOP_SOURCES = 3;

/**
 * Sets the frame column of every host op (not runtime calls) that runs inside a user
 * python_function on its lane; ops with a frame from their `Call stack` keep it when no
 * python_function encloses them.
 */
export function attachPythonFrames(c: TraceCollector, tree: HostTree, end: Float64Array): void {
  const kind = c.kind.view();
  const frame = c.frame.view();
  const ts = c.ts.view();
  const laneOf = c.lane.view();
  const runtime = Kind.Runtime;
  const frameRows = c.frameRows.view();
  const perLane = new Map<number, number[]>();
  for (let k = 0; k < frameRows.length; k++) {
    const r = frameRows[k];
    const list = perLane.get(laneOf[r]);
    if (list) list.push(r);
    else perLane.set(laneOf[r], [r]);
  }
  for (const [lane, rows] of perLane) {
    const frames = Int32Array.from(rows);
    sortByTime(frames, ts, end);
    const ops = tree.orders[lane];
    const stack: number[] = [];
    let next = 0;
    for (let k = 0; k < ops.length; k++) {
      const op = ops[k];
      if (kind[op] === runtime) continue;
      const t = ts[op];
      while (next < frames.length && ts[frames[next]] <= t) {
        const f = frames[next++];
        while (stack.length > 0 && end[stack[stack.length - 1]] < end[f]) stack.pop();
        stack.push(f);
      }
      // Frames that ended before this op started cannot enclose it or any later op.
      while (stack.length > 0 && end[stack[stack.length - 1]] < t) stack.pop();
      for (let s = stack.length - 1; s >= 0; s--) {
        if (end[stack[s]] >= end[op]) {
          frame[op] = frame[stack[s]];
          break;
        }
      }
    }
  }
}

/** Adds `sources` (top user frames by calls) to the op types that have any. */
export function addSources(c: TraceCollector, tree: HostTree, ops: HostOps): void {
  const kind = c.kind.view();
  const frame = c.frame.view();
  const nameOf = c.name.view();
  const runtime = Kind.Runtime;
  const counts = new Map<number, Map<number, number>>();
  for (const order of tree.orders) {
    for (let k = 0; k < order.length; k++) {
      const r = order[k];
      if (frame[r] < 0 || kind[r] === runtime) continue;
      const row = ops.rowOfKey[ops.keys.of(nameOf[r])];
      let byFrame = counts.get(row);
      if (!byFrame) counts.set(row, (byFrame = new Map()));
      byFrame.set(frame[r], (byFrame.get(frame[r]) ?? 0) + 1);
    }
  }
  for (const [row, byFrame] of counts) {
    const op: TraceOpType = ops.opTypes[row];
    op.sources = [...byFrame.entries()]
      .map(([f, calls]) => ({ frame: f, calls }))
      .sort((a, b) => b.calls - a.calls || a.frame - b.frame)
      .slice(0, TOP_SOURCES);
  }
}
