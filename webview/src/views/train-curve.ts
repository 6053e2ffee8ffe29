/**
 * A loss or accuracy curve as SVG (charts/curve.ts) with axes, an optional dashed reference line
 * (the accuracy bar) and a hover readout: a rule and dot on the nearest step, and its value.
 */
import type { StepValue } from '../../../engine/src/schema/training';
import { formatPercent } from '../../../engine/src/util/format';
import { curveChart, CurveOptions, nearestIndex } from '../charts/curve';
import { hideTooltip, s, showTooltip } from '../dom';
import { chartSlot, ChartSlot } from './chart-slot';

const HEIGHT = 210;
const BOX = { top: 12, right: 16, bottom: 28, left: 54 };

export interface CurveFigureOptions extends CurveOptions {
  /** What the values are, for the readout and screen readers: `loss`, `accuracy`. */
  name: string;
  /** Class of the svg (tests and CSS tell the curves apart by it). */
  cls: string;
  refLabel?: string;
}

function curveFigure(points: readonly StepValue[], width: number, o: CurveFigureOptions): SVGSVGElement {
  const box = { ...BOX, width, height: HEIGHT };
  const c = curveChart(points, box, o);
  const bottom = HEIGHT - BOX.bottom;
  const right = width - BOX.right;
  const last = points[points.length - 1];
  const svg = s(
    'svg',
    {
      class: `twb-curve ${o.cls}`,
      attrs: { width, height: HEIGHT, viewBox: `0 0 ${width} ${HEIGHT}`, role: 'img', 'data-points': points.length, 'aria-label': last ? `${o.name} over ${points.length} points; last ${o.formatY(last.value)} at step ${last.step}` : `${o.name}: no points yet` },
    },
    ...c.yTicks.map((t) => s('g', { class: 'twb-tick' }, s('line', { attrs: { x1: BOX.left, x2: right, y1: t.at, y2: t.at } }), s('text', { attrs: { x: BOX.left - 6, y: t.at + 4, 'text-anchor': 'end' } }, t.label))),
    ...c.xTicks.map((t) => s('text', { class: 'twb-tick', attrs: { x: t.at, y: bottom + 16, 'text-anchor': 'middle' } }, t.label)),
    s('text', { class: 'twb-tick twb-axis-name', attrs: { x: BOX.left - 6, y: bottom + 16, 'text-anchor': 'end' } }, 'step'),
    s('line', { class: 'twb-axis', attrs: { x1: BOX.left, x2: right, y1: bottom, y2: bottom } }),
    c.refY !== undefined ? s('line', { class: 'twb-curve-ref', attrs: { x1: BOX.left, x2: right, y1: c.refY, y2: c.refY } }) : null,
    // At the left end: a curve that has to reach the bar starts below it.
    c.refY !== undefined && o.refLabel ? s('text', { class: 'twb-curve-ref-label', attrs: { x: BOX.left + 6, y: c.refY - 5, 'text-anchor': 'start' } }, o.refLabel) : null,
    s('path', { class: 'twb-curve-line', attrs: { d: c.path } }),
    points.length === 1 ? s('circle', { class: 'twb-curve-dot', attrs: { cx: c.xs[0], cy: c.ys[0], r: 3 } }) : null,
  );
  const rule = s('line', { attrs: { y1: BOX.top, y2: bottom } });
  const dot = s('circle', { attrs: { r: 4 } });
  const focus = s('g', { class: 'twb-curve-focus' }, rule, dot);
  const hit = s('rect', { class: 'twb-hit-area', attrs: { x: BOX.left, y: BOX.top, width: Math.max(0, right - BOX.left), height: Math.max(0, bottom - BOX.top) } });
  hit.addEventListener('mousemove', (e) => {
    const at = svg.getBoundingClientRect();
    const i = nearestIndex(c.xs, ((e.clientX - at.left) * width) / Math.max(1, at.width));
    if (i < 0) return;
    for (const [el, attrs] of [
      [rule, { x1: c.xs[i], x2: c.xs[i] }],
      [dot, { cx: c.xs[i], cy: c.ys[i] }],
    ] as const) {
      for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
    }
    focus.classList.add('twb-on');
    showTooltip([`step ${points[i].step}`, [o.name, o.formatY(points[i].value)]], e.clientX, e.clientY);
  });
  hit.addEventListener('mouseleave', () => {
    focus.classList.remove('twb-on');
    hideTooltip();
  });
  svg.append(focus, hit);
  return svg;
}

/** Loss values: three significant decimals below 1, two above. */
export const lossText = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(2) : v.toFixed(3));

/** The loss curve over `steps` planned steps, fitted to its container. */
export const lossSlot = (points: readonly StepValue[], steps: number): ChartSlot => chartSlot((w) => curveFigure(points, w, { name: 'loss', cls: 'twb-loss-curve', steps, formatY: lossText }));

/** The accuracy curve on a 0–100% axis, with the task's bar when it has one. */
export const accuracySlot = (points: readonly StepValue[], steps: number, bar?: number): ChartSlot =>
  chartSlot((w) =>
    curveFigure(points, w, { name: 'accuracy', cls: 'twb-accuracy-curve', steps, yDomain: [0, 1], ref: bar, refLabel: bar !== undefined ? `bar ${formatPercent(bar)}` : undefined, formatY: formatPercent, formatTick: (v) => `${Math.round(v * 100)}%` }),
  );
