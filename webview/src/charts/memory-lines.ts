/**
 * Memory-plan charts: bytes per GPU against the data-parallel GPU count (log₂ x, log y), one line
 * per ZeRO stage, with the requested count marked and an optional GPU-memory reference line; and the
 * per-stage breakdown as stacked-bar segments. Pure: plan data and a box in, pixels out.
 */
import { line, scaleLog } from 'd3';
import type { MemoryBreakdown, MemoryPlan, ZeroStage } from '../../../engine/src/schema/parallel';
import { ZERO_STAGES } from '../../../engine/src/schema/parallel';
import { formatBytes } from '../../../engine/src/util/format';
import { binaryTicks } from './loglog';
import type { ChartBox, Tick } from './memory';

export interface MemoryLinePoint {
  gpus: number;
  bytes: number;
  px: number;
  py: number;
}

export interface MemoryLine {
  zeroStage: ZeroStage;
  path: string;
  points: MemoryLinePoint[];
}

export interface MemoryLinesChart {
  /** One per ZeRO stage, 0–3. */
  lines: MemoryLine[];
  xTicks: Tick[];
  yTicks: Tick[];
  /** The requested GPU count: a vertical marker. */
  requested: { gpus: number; x: number };
  /** The GPU memory the user typed, as a horizontal line (absent when none was given). */
  reference?: { bytes: number; y: number };
}

/** A byte tick label without a trailing `.00`: `16 GiB`, `1.5 TiB`. */
export const bytesTick = (v: number): string => formatBytes(v).replace(/\.0+ /, ' ');

/** The series of `plan.curve`: bytes per GPU against the GPU count, per ZeRO stage. */
export function memorySeries(curve: MemoryPlan['curve']): Array<{ zeroStage: ZeroStage; points: Array<{ gpus: number; bytes: number }> }> {
  const sorted = [...curve].sort((a, b) => a.gpus - b.gpus);
  return ZERO_STAGES.map((zeroStage) => ({ zeroStage, points: sorted.map((c) => ({ gpus: c.gpus, bytes: c.bytesPerGpu[zeroStage] })) }));
}

/** Lays out the curve in `box`; `referenceBytes` (a GPU's memory) widens the y range to stay visible. */
export function memoryLines(curve: MemoryPlan['curve'], box: ChartBox, requestedGpus: number, referenceBytes?: number): MemoryLinesChart {
  const series = memorySeries(curve);
  const gpus = series[0]?.points.map((p) => p.gpus).filter((g) => g > 0) ?? [];
  const values = series.flatMap((s) => s.points.map((p) => p.bytes)).filter((b) => b > 0);
  if (referenceBytes !== undefined && referenceBytes > 0) values.push(referenceBytes);
  const xLo = Math.min(...gpus, requestedGpus);
  const xHi = Math.max(...gpus, requestedGpus, xLo * 2);
  const yLo = values.length ? Math.min(...values) : 1;
  const yHi = values.length ? Math.max(...values) : 2;
  // A little room above and below, in log units, so that the end points are not cut.
  const pad = yHi > yLo ? (yHi / yLo) ** 0.05 : 2;
  const x = scaleLog().base(2).domain([xLo, xHi]).range([box.left, box.width - box.right]);
  const y = scaleLog().domain([yLo / pad, yHi * pad]).range([box.height - box.bottom, box.top]);
  const path = line();
  const lines = series.map((s) => {
    const points = s.points.filter((p) => p.bytes > 0 && p.gpus > 0).map((p) => ({ ...p, px: x(p.gpus), py: y(p.bytes) }));
    return { zeroStage: s.zeroStage, path: path(points.map((p) => [p.px, p.py])) ?? '', points };
  });
  // Powers of two only: the requested count has its own marker and label.
  const xTicks = gpus.filter((g) => Number.isInteger(Math.log2(g))).map((g) => ({ at: x(g), label: String(g) }));
  const yTicks = binaryTicks(...(y.domain() as [number, number])).map((v) => ({ at: y(v), label: bytesTick(v) }));
  return {
    lines,
    xTicks,
    yTicks,
    requested: { gpus: requestedGpus, x: x(requestedGpus) },
    ...(referenceBytes !== undefined && referenceBytes > 0 ? { reference: { bytes: referenceBytes, y: y(referenceBytes) } } : {}),
  };
}

/** ZeRO stages whose bytes per GPU fit in `bytes` at the plan's GPU count. */
export function stagesThatFit(byStage: MemoryPlan['byStage'], bytes: number): ZeroStage[] {
  return byStage.filter((s) => s.bytesPerGpu <= bytes).map((s) => s.zeroStage);
}

export const BREAKDOWN_PARTS = ['params', 'grads', 'optimizer', 'activations'] as const;
export type BreakdownPart = (typeof BREAKDOWN_PARTS)[number];

export interface StackSegment {
  part: BreakdownPart;
  bytes: number;
  /** Left edge and width as fractions (0–1) of the widest bar. */
  start: number;
  width: number;
}

export interface StackBar {
  zeroStage: ZeroStage;
  total: number;
  /** The bar's length as a fraction of the widest bar. */
  width: number;
  segments: StackSegment[];
}

/** Stacked bars of `byStage`, all on one scale (the largest total fills the width). */
export function stackedBars(byStage: ReadonlyArray<{ zeroStage: ZeroStage; breakdown: MemoryBreakdown }>): StackBar[] {
  const widest = Math.max(1, ...byStage.map((s) => s.breakdown.total));
  return byStage.map((s) => {
    let at = 0;
    const segments = BREAKDOWN_PARTS.filter((part) => s.breakdown[part] > 0).map((part) => {
      const seg = { part, bytes: s.breakdown[part], start: at / widest, width: s.breakdown[part] / widest };
      at += s.breakdown[part];
      return seg;
    });
    return { zeroStage: s.zeroStage, total: s.breakdown.total, width: s.breakdown.total / widest, segments };
  });
}
