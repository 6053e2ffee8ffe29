/**
 * The sequence-length sweep as a log–log chart: one line per variant, failed points marked on the
 * top edge, and dashed reference lines of slope 1 and 2 through a common anchor, so that on these
 * axes linear growth runs parallel to one and quadratic growth to the other. Pure: series and a box
 * in, marks in pixels out.
 */
import { line, scaleLog } from 'd3';
import type { ChartBox, Tick } from './memory';

export interface LogPoint {
  x: number;
  /** Absent for a point that failed. */
  y?: number;
  error?: string;
}

export interface LogSeries {
  key: string;
  points: LogPoint[];
}

export interface PlacedPoint {
  x: number;
  y: number;
  px: number;
  py: number;
}

export interface FailedPoint {
  x: number;
  error: string;
  px: number;
  /** On the top edge of the plot (the point has no value), below other failures at the same x. */
  py: number;
}

export interface SeriesMarks {
  key: string;
  path: string;
  points: PlacedPoint[];
  failed: FailedPoint[];
}

export interface SlopeLine {
  slope: number;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

export interface LogLogChart {
  series: SeriesMarks[];
  /** Reference lines, clipped to the plot area; a line that misses it entirely is left out. */
  refs: SlopeLine[];
  xTicks: Tick[];
  yTicks: Tick[];
}

const REFERENCE_SLOPES = [1, 2] as const;

/** Vertical distance between failure marks at the same x, pixels. */
export const FAILED_STEP = 14;

/** y at `x` on the line of `slope` through `anchor`, in data units (a power law: y ∝ x^slope). */
export function powerLaw(anchor: { x: number; y: number }, slope: number, x: number): number {
  return anchor.y * (x / anchor.x) ** slope;
}

/** Ticks of a log axis: values in [lo, hi] and how to label them. */
export interface LogAxis {
  ticks(lo: number, hi: number): number[];
  format(v: number): string;
}

const within = (v: number, lo: number, hi: number) => v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9);

/** Values 1, 2 and 5 × 10^k from `lo` to `hi`; only the powers of ten when those are many enough. */
export function decadeTicks(lo: number, hi: number): number[] {
  if (!(lo > 0) || !(hi >= lo)) return [];
  const out: number[] = [];
  for (let k = Math.floor(Math.log10(lo)); k <= Math.ceil(Math.log10(hi)); k++) {
    for (const m of [1, 2, 5]) if (within(m * 10 ** k, lo, hi)) out.push(+(m * 10 ** k).toPrecision(6));
  }
  const powers = out.filter((v) => Math.abs(Math.log10(v) - Math.round(Math.log10(v))) < 1e-9);
  return out.length > 7 && powers.length >= 2 ? powers : out;
}

/**
 * Powers of two from `lo` to `hi` (round sizes in bytes): every other one when there are more than
 * 7, and with the 1.5× steps between them (24, 48 MiB) when there are fewer than 3.
 */
export function binaryTicks(lo: number, hi: number): number[] {
  if (!(lo > 0) || !(hi >= lo)) return [];
  const out: number[] = [];
  for (let k = Math.floor(Math.log2(lo)); k <= Math.ceil(Math.log2(hi)); k++) {
    if (within(2 ** k, lo, hi)) out.push(2 ** k);
    if (within(1.5 * 2 ** k, lo, hi)) out.push(1.5 * 2 ** k);
  }
  const powers = out.filter((v) => Number.isInteger(Math.log2(v)));
  if (powers.length < 3) return out;
  return powers.length > 7 ? powers.filter((_, i) => i % 2 === (powers.length - 1) % 2) : powers;
}

/** The part of the segment p–q inside the rectangle (Liang–Barsky), or null when none is. */
export function clipSegment(p: [number, number], q: [number, number], r: { x0: number; y0: number; x1: number; y1: number }): [[number, number], [number, number]] | null {
  const dx = q[0] - p[0];
  const dy = q[1] - p[1];
  let t0 = 0;
  let t1 = 1;
  const edges: Array<[number, number]> = [
    [-dx, p[0] - r.x0],
    [dx, r.x1 - p[0]],
    [-dy, p[1] - r.y0],
    [dy, r.y1 - p[1]],
  ];
  for (const [pe, qe] of edges) {
    if (pe === 0) {
      if (qe < 0) return null;
      continue;
    }
    const t = qe / pe;
    if (pe < 0) t0 = Math.max(t0, t);
    else t1 = Math.min(t1, t);
    if (t0 > t1) return null;
  }
  return [
    [p[0] + t0 * dx, p[1] + t0 * dy],
    [p[0] + t1 * dx, p[1] + t1 * dy],
  ];
}

/**
 * Lays out `series` on log–log axes. The reference lines pass through the geometric mean of the
 * series' values at the smallest x, where all variants start, and run to the largest x.
 */
export function logLogChart(series: readonly LogSeries[], box: ChartBox, yAxis: LogAxis): LogLogChart {
  const all = series.flatMap((s) => s.points);
  const xs = all.map((p) => p.x).filter((v) => v > 0);
  const ys = all.map((p) => p.y).filter((v): v is number => v !== undefined && v > 0);
  const xLo = xs.length ? Math.min(...xs) : 1;
  const xHi = xs.length ? Math.max(...xs) : 10;
  const yLo = ys.length ? Math.min(...ys) : 1;
  const yHi = ys.length ? Math.max(...ys) : 10;
  // A little room around the data, in log units, so that markers at the ends are not cut.
  const pad = (lo: number, hi: number): [number, number] => (hi > lo ? [lo / (hi / lo) ** 0.04, hi * (hi / lo) ** 0.04] : [lo / 2, hi * 2]);
  const x = scaleLog().domain(pad(xLo, xHi)).range([box.left, box.width - box.right]);
  const y = scaleLog().domain(pad(yLo, yHi)).range([box.height - box.bottom, box.top]);
  const path = line();
  // Failures at the same x stack downwards from the top edge so that each stays visible.
  const failedAt = new Map<number, number>();
  const marks: SeriesMarks[] = series.map((s) => {
    const placed = s.points.filter((p): p is LogPoint & { y: number } => p.y !== undefined && p.y > 0 && p.x > 0).map((p) => ({ x: p.x, y: p.y, px: x(p.x), py: y(p.y) }));
    const failed = s.points
      .filter((p) => p.y === undefined)
      .map((p) => {
        const k = failedAt.get(p.x) ?? 0;
        failedAt.set(p.x, k + 1);
        return { x: p.x, error: p.error ?? 'not measured', px: x(p.x), py: box.top + k * FAILED_STEP };
      });
    return { key: s.key, path: path(placed.map((p) => [p.px, p.py])) ?? '', points: placed, failed };
  });

  const starts = series.map((s) => s.points.find((p) => p.x === xLo)?.y).filter((v): v is number => v !== undefined && v > 0);
  const refs: SlopeLine[] = [];
  if (starts.length && xHi > xLo) {
    const anchor = { x: xLo, y: Math.exp(starts.reduce((a, v) => a + Math.log(v), 0) / starts.length) };
    const rect = { x0: box.left, y0: box.top, x1: box.width - box.right, y1: box.height - box.bottom };
    for (const slope of REFERENCE_SLOPES) {
      const seg = clipSegment([x(xLo), y(anchor.y)], [x(xHi), y(powerLaw(anchor, slope, xHi))], rect);
      if (seg) refs.push({ slope, x1: seg[0][0], y1: seg[0][1], x2: seg[1][0], y2: seg[1][1] });
    }
  }
  const xValues = [...new Set(xs)].sort((a, b) => a - b);
  return {
    series: marks,
    refs,
    xTicks: xValues.map((v) => ({ at: x(v), label: String(v) })),
    yTicks: yAxis.ticks(...(y.domain() as [number, number])).map((v) => ({ at: y(v), label: yAxis.format(v) })),
  };
}
