/**
 * A training curve (loss or accuracy over steps) as one SVG path on linear axes, with the pixel
 * positions a hover readout needs. Pure: points and a box in, marks in pixels out.
 */
import { bisector, line, scaleLinear } from 'd3';
import type { StepValue } from '../../../engine/src/schema/training';
import type { ChartBox, Tick } from './memory';

export interface CurveOptions {
  /** Right end of the step axis (the planned steps, so that a live curve grows into its frame). */
  steps: number;
  /** Fixed value range (accuracy: [0, 1]); otherwise 0 to a rounded-up maximum. */
  yDomain?: [number, number];
  /** A horizontal reference value (the accuracy bar). */
  ref?: number;
  /** Labels of values in readouts. */
  formatY: (v: number) => string;
  /** Labels of the value axis; default: d3's, to the precision of the tick step. */
  formatTick?: (v: number) => string;
}

export interface CurveChart {
  path: string;
  /** Pixel position of each point, in the order given. */
  xs: number[];
  ys: number[];
  xTicks: Tick[];
  yTicks: Tick[];
  /** Pixel y of the reference line, when one was asked for and lies in range. */
  refY?: number;
}

export function curveChart(points: readonly StepValue[], box: ChartBox, o: CurveOptions): CurveChart {
  const lastStep = points.length ? points[points.length - 1].step : 0;
  const x = scaleLinear()
    .domain([0, Math.max(1, o.steps, lastStep)])
    .range([box.left, box.width - box.right]);
  const top = Math.max(0, ...points.map((p) => p.value), o.ref ?? 0);
  const y = scaleLinear()
    .domain(o.yDomain ?? [0, top > 0 ? top * 1.05 : 1])
    .nice(5)
    .range([box.height - box.bottom, box.top]);
  const xs = points.map((p) => x(p.step));
  const ys = points.map((p) => y(p.value));
  const [lo, hi] = y.domain();
  return {
    path: line()(xs.map((v, i) => [v, ys[i]])) ?? '',
    xs,
    ys,
    xTicks: x.ticks(6).filter(Number.isInteger).map((t) => ({ at: x(t), label: String(t) })),
    yTicks: y.ticks(5).map((t) => ({ at: y(t), label: (o.formatTick ?? y.tickFormat(5))(t) })),
    ...(o.ref !== undefined && o.ref >= lo && o.ref <= hi ? { refY: y(o.ref) } : {}),
  };
}

/** Index of the value in ascending `xs` nearest to `px`; -1 when there are none. */
export function nearestIndex(xs: readonly number[], px: number): number {
  if (xs.length === 0) return -1;
  const i = bisector((v: number) => v).center(xs, px);
  return Math.max(0, Math.min(xs.length - 1, i));
}
