/**
 * The operator table of an ONNX Runtime profile file, counted the way `twb profile` counts it
 * (profile/aggregate.ts): kernel events (`cat: "Node"`, `*_kernel_time`) grouped by the node's
 * `op_name`, only those inside a `model_run` span (session initialisation runs kernels too, outside
 * every run). ORT kernels do not nest, so self time equals total time.
 */
import { runIndexOf } from '../profile/ort-profile';
import type { TraceOpType } from '../schema/trace';
import type { TraceCollector } from './collect';

export interface OrtOps {
  opTypes: TraceOpType[];
  /** Kernels that ran outside every model_run span (left out of the table). */
  outsideRuns: number;
  runs: number;
}

export function ortOpTable(c: TraceCollector): OrtOps {
  const runs = [...c.ortRuns].sort((a, b) => a.tsUs - b.tsUs);
  const ts = c.ts.view();
  const dur = c.dur.view();
  const rows = c.ortRow.view();
  const ops = c.ortOp.view();
  const byOp = new Map<number, { calls: number; us: number }>();
  let outsideRuns = 0;
  for (let k = 0; k < rows.length; k++) {
    const r = rows[k];
    if (runs.length > 0 && runIndexOf(runs, ts[r]) < 0) {
      outsideRuns++;
      continue;
    }
    const s = byOp.get(ops[k]) ?? { calls: 0, us: 0 };
    s.calls++;
    s.us += dur[r];
    byOp.set(ops[k], s);
  }
  const all = [...byOp.values()].reduce((s, x) => s + x.us, 0);
  const opTypes = [...byOp.entries()]
    .map(([op, s]) => ({ opType: c.names.values[op], calls: s.calls, selfUs: s.us, totalUs: s.us, selfShare: all > 0 ? s.us / all : 0 }))
    .sort((a, b) => b.selfUs - a.selfUs || (a.opType < b.opType ? -1 : 1));
  return { opTypes, outsideRuns, runs: runs.length };
}
