/**
 * The Tuning view's Pareto plot: each trial that ran as a point at (speedup, accuracy on the search
 * part), its area proportional to the model's file size, the original at speedup 1, the accuracy
 * floor of the budget as a line, and the trials on the Pareto front joined in order of speedup.
 * Pure: a tuning report and a box in, marks in pixels out.
 */
import { scaleLinear } from 'd3';
import type { TuningReport } from '../../../engine/src/schema/tuning';
import { formatPercent } from '../../../engine/src/util/format';
import type { ChartBox, Tick } from './memory';

/** `front`: within budget and not dominated; `within`: within budget, dominated; `over`: broke the budget. */
export type ParetoStatus = 'front' | 'within' | 'over';

export interface ParetoMark {
  id: string;
  speedup: number;
  accuracy: number;
  sizeBytes: number;
  status: ParetoStatus;
  best: boolean;
  px: number;
  py: number;
  /** Radius, pixels: the area follows the file size against the original's. */
  r: number;
}

export interface ParetoChart {
  points: ParetoMark[];
  /** The original model: speedup 1 by definition, its accuracy and size. */
  baseline: { px: number; py: number; r: number };
  /** Polyline through the front's points by increasing speedup ('' with fewer than two). */
  frontPath: string;
  /** Pixel y of the lowest accuracy the budget allows, when the budget bounds the drop and it is in view. */
  floorY?: number;
  /** Trials not drawn: failed ones have no figures. */
  failed: string[];
  xTicks: Tick[];
  yTicks: Tick[];
}

/** Radius of the original's point, pixels; other points scale by √(size ratio), within [MIN_R, MAX_R]. */
export const BASE_R = 7;
const MIN_R = 3;
const MAX_R = 14;

export function radiusFor(sizeBytes: number, baselineBytes: number): number {
  if (!(baselineBytes > 0) || !(sizeBytes > 0)) return BASE_R;
  return Math.min(MAX_R, Math.max(MIN_R, BASE_R * Math.sqrt(sizeBytes / baselineBytes)));
}

/** `[lo, hi]` widened by `pad` of its span on each side (a fixed step when the span is 0). */
function padded(lo: number, hi: number, pad: number, flat: number): [number, number] {
  const span = hi - lo;
  return span > 0 ? [lo - span * pad, hi + span * pad] : [lo - flat, hi + flat];
}

export function paretoChart(report: TuningReport, box: ChartBox): ParetoChart {
  const front = new Set(report.pareto);
  const ran = report.trials.filter((t) => t.speedup !== null && t.accuracy !== null && t.sizeBytes !== null);
  const floor = report.budget.maxAccuracyDrop === null ? undefined : report.baseline.accuracy - report.budget.maxAccuracyDrop;
  const speedups = [1, ...ran.map((t) => t.speedup!)];
  const accuracies = [report.baseline.accuracy, ...ran.map((t) => t.accuracy!), ...(floor !== undefined && floor >= 0 ? [floor] : [])];
  const [x0, x1] = padded(Math.min(...speedups), Math.max(...speedups), 0.08, 0.1);
  const [y0, y1] = padded(Math.min(...accuracies), Math.max(...accuracies), 0.1, 0.02);
  const x = scaleLinear().domain([Math.max(0, x0), x1]).range([box.left, box.width - box.right]);
  const y = scaleLinear().domain([Math.max(0, y0), Math.min(1, y1)]).range([box.height - box.bottom, box.top]);
  const points: ParetoMark[] = ran.map((t) => ({
    id: t.id,
    speedup: t.speedup!,
    accuracy: t.accuracy!,
    sizeBytes: t.sizeBytes!,
    status: !t.withinBudget ? 'over' : front.has(t.id) ? 'front' : 'within',
    best: t.id === report.best,
    px: x(t.speedup!),
    py: y(t.accuracy!),
    r: radiusFor(t.sizeBytes!, report.baseline.sizeBytes),
  }));
  const onFront = points.filter((p) => p.status === 'front').sort((a, b) => a.speedup - b.speedup);
  const frontPath = onFront.length > 1 ? `M${onFront.map((p) => `${p.px.toFixed(1)},${p.py.toFixed(1)}`).join('L')}` : '';
  const [ya, yb] = y.domain();
  return {
    points,
    baseline: { px: x(1), py: y(report.baseline.accuracy), r: BASE_R },
    frontPath,
    ...(floor !== undefined && floor >= ya && floor <= yb ? { floorY: y(floor) } : {}),
    failed: report.trials.filter((t) => t.speedup === null || t.accuracy === null || t.sizeBytes === null).map((t) => t.id),
    xTicks: x.ticks(6).map((v) => ({ at: x(v), label: `${+v.toFixed(2)}×` })),
    yTicks: y.ticks(5).map((v) => ({ at: y(v), label: formatPercent(v) })),
  };
}
