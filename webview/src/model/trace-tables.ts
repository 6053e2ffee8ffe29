/**
 * Rows of the trace Ops view: host operators and GPU kernels as table rows, the name filter, a
 * stable sort, and the cross references between the two (the kernels an op launched, the frames it
 * was called from). Pure.
 */
import type { KernelCategory, TraceFrame, TraceRun } from '../../../engine/src/schema/trace';

/** One host operator name, as the Ops table shows it. */
export interface TraceOpRow {
  opType: string;
  calls: number;
  /** Microseconds, summed over the trace. */
  selfUs: number;
  totalUs: number;
  /** selfUs ÷ all host self time, 0–1. */
  selfShare: number;
  /** totalUs ÷ calls, microseconds. */
  meanUs: number;
  /** GPU time of the kernels the op launched, microseconds (0 when it launched none). */
  gpuUs: number;
}

/** One GPU activity name, as the kernel table shows it. */
export interface TraceKernelRow {
  name: string;
  category: KernelCategory;
  calls: number;
  /** Microseconds. */
  totalUs: number;
  meanUs: number;
  maxUs: number;
  /** The host op that launched most of its GPU time; empty when no launch was traced. */
  topLauncher: string;
}

export type OpSortKey = 'opType' | 'calls' | 'selfUs' | 'totalUs' | 'selfShare' | 'meanUs' | 'gpuUs';
export type KernelSortKey = 'name' | 'category' | 'calls' | 'totalUs' | 'meanUs' | 'maxUs' | 'topLauncher';

/** GPU time per launching op, microseconds, from `kernels[].launchers`. */
export function gpuUsByLauncher(t: TraceRun): Map<string, number> {
  const out = new Map<string, number>();
  for (const k of t.kernels) for (const l of k.launchers) out.set(l.opType, (out.get(l.opType) ?? 0) + l.totalUs);
  return out;
}

export function opRows(t: TraceRun): TraceOpRow[] {
  const gpu = gpuUsByLauncher(t);
  return t.opTypes.map((o) => ({ opType: o.opType, calls: o.calls, selfUs: o.selfUs, totalUs: o.totalUs, selfShare: o.selfShare, meanUs: o.calls > 0 ? o.totalUs / o.calls : 0, gpuUs: gpu.get(o.opType) ?? 0 }));
}

export function kernelRows(t: TraceRun): TraceKernelRow[] {
  return t.kernels.map((k) => ({ name: k.name, category: k.category, calls: k.calls, totalUs: k.totalUs, meanUs: k.meanUs, maxUs: k.maxUs, topLauncher: [...k.launchers].sort((a, b) => b.totalUs - a.totalUs)[0]?.opType ?? '' }));
}

/**
 * Rows whose `name` contains every word of `text` (case-insensitive); all rows for blank text.
 * Words let `aten mm` find `aten::mm` and `aten::addmm` alike.
 */
export function filterByName<R>(rows: readonly R[], text: string, name: (r: R) => string): R[] {
  const words = text.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return [...rows];
  return rows.filter((r) => {
    const n = name(r).toLowerCase();
    return words.every((w) => n.includes(w));
  });
}

/**
 * Rows sorted by `key` (numbers numerically, strings by locale), ties broken by `name` ascending so
 * that the order never depends on the input's.
 */
export function sortRows<R, K extends keyof R>(rows: readonly R[], key: K, descending: boolean, name: (r: R) => string): R[] {
  const dir = descending ? -1 : 1;
  return [...rows].sort((a, b) => {
    const x = a[key];
    const y = b[key];
    const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
    return c !== 0 ? dir * c : name(a).localeCompare(name(b));
  });
}

/** Text columns sort ascending on their first click, numbers descending (largest first). */
export function firstClickDescending(key: string): boolean {
  return !['opType', 'name', 'category', 'topLauncher'].includes(key);
}

export interface LaunchedKernel {
  name: string;
  category: KernelCategory;
  /** Launches of this kernel by the op. */
  calls: number;
  /** GPU time of those launches, microseconds. */
  totalUs: number;
}

/**
 * The kernels `opType` launched, most GPU time first. Each kernel lists only its top 5 launchers,
 * so an op that launched a kernel among many others may be missing from it.
 */
export function kernelsLaunchedBy(t: TraceRun, opType: string): LaunchedKernel[] {
  const out: LaunchedKernel[] = [];
  for (const k of t.kernels) for (const l of k.launchers) if (l.opType === opType) out.push({ name: k.name, category: k.category, calls: l.calls, totalUs: l.totalUs });
  return out.sort((a, b) => b.totalUs - a.totalUs || a.name.localeCompare(b.name));
}

/** The source frames recorded for `opType` (resolved), most calls first; empty when the trace has no stacks. */
export function opSources(t: TraceRun, opType: string): Array<{ frame: TraceFrame; index: number; calls: number }> {
  const op = t.opTypes.find((o) => o.opType === opType);
  return (op?.sources ?? []).filter((s) => t.frames[s.frame] !== undefined).map((s) => ({ frame: t.frames[s.frame], index: s.frame, calls: s.calls }));
}
