/**
 * A before/after histogram pair on one axis: the original values as filled bars, the transformed
 * values as a step outline over the same bins, both on one count scale, so that what quantization
 * or pruning did to a distribution (clipping, rounding, a spike at zero) shows as the gap between
 * them. Pure: the pair and a box in, marks in pixels out.
 */
import { scaleLinear, scaleSqrt } from 'd3';
import type { HistogramPair } from '../../../engine/src/schema/compression';
import { formatCount } from '../../../engine/src/util/format';
import type { ChartBox, Tick } from './memory';

/** `linear` counts, or `sqrt` so that one tall bin (pruned weights at zero) does not flatten the rest. */
export type CountScale = 'linear' | 'sqrt';

export interface HistogramBin {
  /** Left edge and width, pixels. */
  x: number;
  width: number;
  /** Value range of the bin. */
  lo: number;
  hi: number;
  before: { count: number; y: number; height: number };
  after: { count: number; y: number; height: number };
}

export interface HistogramChart {
  bins: HistogramBin[];
  /** SVG path of the "after" histogram as a step outline along the bin tops. */
  afterPath: string;
  /** Largest count of either half (the top of the count scale before rounding). */
  maxCount: number;
  xTicks: Tick[];
  yTicks: Tick[];
  /** The x pixel of value 0 when 0 lies in the range, for a reference rule. */
  zeroX?: number;
}

/** Compact value labels: `-0.08`, `0.125`, `1.5e-4`. */
export function valueLabel(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e-3 && a < 1e5 ? String(+v.toPrecision(3)) : v.toExponential(1).replace('e+', 'e');
}

export function histogramChart(pair: HistogramPair, box: ChartBox, countScale: CountScale = 'linear'): HistogramChart {
  const n = Math.min(pair.before.length, pair.after.length);
  // A constant tensor has lo === hi: widen the range so that its one bin still has a width.
  const [lo, hi] = pair.hi > pair.lo ? [pair.lo, pair.hi] : [pair.lo - 0.5, pair.lo + 0.5];
  const left = box.left;
  const right = box.width - box.right;
  const bottom = box.height - box.bottom;
  const x = scaleLinear().domain([lo, hi]).range([left, right]);
  const maxCount = Math.max(0, ...pair.before.slice(0, n), ...pair.after.slice(0, n));
  const y = (countScale === 'sqrt' ? scaleSqrt() : scaleLinear()).domain([0, Math.max(1, maxCount)]).range([bottom, box.top]);
  const step = (hi - lo) / Math.max(1, n);
  const mark = (count: number) => ({ count, y: y(count), height: bottom - y(count) });
  const bins: HistogramBin[] = [];
  for (let i = 0; i < n; i++) {
    const b0 = lo + i * step;
    const b1 = i === n - 1 ? hi : lo + (i + 1) * step;
    bins.push({ x: x(b0), width: x(b1) - x(b0), lo: b0, hi: b1, before: mark(pair.before[i]), after: mark(pair.after[i]) });
  }
  const r = (v: number) => +v.toFixed(2);
  let afterPath = '';
  if (bins.length) {
    afterPath = `M${r(bins[0].x)},${r(bottom)}`;
    for (const b of bins) afterPath += `V${r(b.after.y)}H${r(b.x + b.width)}`;
    afterPath += `V${r(bottom)}`;
  }
  return {
    bins,
    afterPath,
    maxCount,
    xTicks: x.ticks(5).map((t) => ({ at: x(t), label: valueLabel(t) })),
    yTicks: y.ticks(4).filter((t) => Number.isInteger(t)).map((t) => ({ at: y(t), label: formatCount(t) })),
    ...(lo < 0 && hi > 0 ? { zeroX: x(0) } : {}),
  };
}
