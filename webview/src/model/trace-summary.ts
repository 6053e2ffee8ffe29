/**
 * The Overview's figures for an imported trace, derived from the document: step-time statistics,
 * GPU utilization over all devices, totals per kernel category and the top-N bars. Pure.
 */
import type { KernelCategory, TraceGpu, TraceRun, TraceStep } from '../../../engine/src/schema/trace';

export interface StepStats {
  count: number;
  /** Step durations, microseconds. */
  meanUs: number;
  minUs: number;
  maxUs: number;
  /** The slowest step's name (`ProfilerStep#7`). */
  slowest: string;
}

/** Statistics of the `ProfilerStep#N` durations; null without steps. */
export function stepStats(steps: readonly TraceStep[]): StepStats | null {
  if (steps.length === 0) return null;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let slowest = steps[0].name;
  for (const s of steps) {
    sum += s.durUs;
    if (s.durUs < min) min = s.durUs;
    if (s.durUs > max) {
      max = s.durUs;
      slowest = s.name;
    }
  }
  return { count: steps.length, meanUs: sum / steps.length, minUs: min, maxUs: max, slowest };
}

export interface GpuTotals {
  devices: number;
  /** Busy time summed over devices, microseconds. */
  busyUs: number;
  /** Idle time summed over devices, microseconds. */
  idleUs: number;
  /** Σ busy ÷ Σ span over devices (equal to the one device's utilization when there is one). */
  utilization: number;
}

/** Utilization and idle time over all GPU devices of the trace; null without GPU activity. */
export function gpuTotals(gpu: TraceGpu | null): GpuTotals | null {
  if (!gpu || gpu.devices.length === 0) return null;
  let busy = 0;
  let idle = 0;
  let span = 0;
  for (const d of gpu.devices) {
    busy += d.busyUs;
    idle += d.idleUs;
    span += d.spanUs;
  }
  return { devices: gpu.devices.length, busyUs: busy, idleUs: idle, utilization: span > 0 ? busy / span : 0 };
}

/** Summed GPU time and calls per kernel category (compute, communication, memcpy, memset), only those present. */
export function kernelCategoryTotals(t: TraceRun): Array<{ category: KernelCategory; totalUs: number; calls: number; names: number }> {
  const by = new Map<KernelCategory, { category: KernelCategory; totalUs: number; calls: number; names: number }>();
  for (const k of t.kernels) {
    const e = by.get(k.category) ?? { category: k.category, totalUs: 0, calls: 0, names: 0 };
    e.totalUs += k.totalUs;
    e.calls += k.calls;
    e.names++;
    by.set(k.category, e);
  }
  return [...by.values()].sort((a, b) => b.totalUs - a.totalUs);
}

/** Summed self time of all host ops, microseconds (the time covered by top-level host ops). */
export function hostSelfUs(t: TraceRun): number {
  return t.opTypes.reduce((s, o) => s + o.selfUs, 0);
}

/** Summed GPU time of all kernels, memcpy and memset, microseconds (concurrent streams count twice). */
export function gpuActivityUs(t: TraceRun): number {
  return t.kernels.reduce((s, k) => s + k.totalUs, 0);
}

/** One bar of a top-N chart. */
export interface TraceBar {
  label: string;
  /** The figure the bar stands for, microseconds. */
  valueUs: number;
  /** Of the whole (host self time, or GPU time), 0–1. */
  share: number;
  /** Bar length as a fraction of the longest bar, 0–1. */
  length: number;
}

function bars(items: Array<{ label: string; valueUs: number }>, whole: number, n: number): TraceBar[] {
  const top = [...items].sort((a, b) => b.valueUs - a.valueUs || a.label.localeCompare(b.label)).slice(0, n);
  const longest = Math.max(0, ...top.map((b) => b.valueUs));
  return top.map((b) => ({ ...b, share: whole > 0 ? b.valueUs / whole : 0, length: longest > 0 ? b.valueUs / longest : 0 }));
}

/** The `n` host ops with the most self time; shares are of all host self time. */
export function topHostOps(t: TraceRun, n: number): TraceBar[] {
  return bars(t.opTypes.map((o) => ({ label: o.opType, valueUs: o.selfUs })), hostSelfUs(t), n);
}

/** The `n` GPU kernels (memcpy and memset included) with the most GPU time; shares are of all GPU time. */
export function topKernels(t: TraceRun, n: number): TraceBar[] {
  return bars(t.kernels.map((k) => ({ label: k.name, valueUs: k.totalUs })), gpuActivityUs(t), n);
}
