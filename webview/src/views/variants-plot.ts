/**
 * The sweep plot: step time or peak memory against sequence length on log–log axes, one line per
 * variant (colour by position, legend above), failed points as crosses on the top edge with their
 * reason on hover, and dashed slope-1 and slope-2 guides for reading linear against quadratic.
 */
import type { LogAxis, LogLogChart, LogSeries } from '../charts/loglog';
import { logLogChart } from '../charts/loglog';
import { h, hideTooltip, s, showTooltip } from '../dom';

const HEIGHT = 300;
const BOX = { top: 30, right: 20, bottom: 40, left: 74 };

/** Colour slots of the series (classes twb-series-0 … in the stylesheet): VS Code's six chart colours. */
export const SERIES_SLOTS = 6;

/**
 * A series' colour class; past the six colours (a sweep of all seven attention variants and a
 * shared one has eight) the colours repeat with dashed lines and hollow swatches, so no two
 * series of a plot look alike.
 */
export const seriesClass = (i: number): string => `twb-series-${i % SERIES_SLOTS}${Math.floor(i / SERIES_SLOTS) % 2 === 1 ? ' twb-series-alt' : ''}`;

/** Swatches of the variants, the guides, and the failure mark when some point failed. */
export function seriesLegend(keys: readonly string[], anyFailed: boolean): HTMLElement {
  return h(
    'div',
    { class: 'twb-legend twb-sweep-legend' },
    ...keys.map((k, i) => h('span', { attrs: { 'data-series': k } }, h('span', { class: `twb-swatch ${seriesClass(i)}` }), k)),
    h('span', {}, h('span', { class: 'twb-swatch-line twb-ref-swatch' }), 'slope 1 (linear) and 2 (quadratic)'),
    anyFailed ? h('span', {}, h('span', { class: 'twb-fail-mark' }, '×'), ' not measured (hover for why)') : null,
  );
}

/**
 * A guide's name at 60% of its length, clear of the failure marks on the top edge: the steep
 * quadratic guide labelled above-left (where no data grows faster), the linear one below-right.
 */
function refLabel(c: LogLogChart['refs'][number]): SVGTextElement {
  const x = c.x1 + 0.6 * (c.x2 - c.x1);
  const y = c.y1 + 0.6 * (c.y2 - c.y1);
  const steep = c.slope >= 2;
  return s('text', { class: 'twb-ref-label', attrs: { x: x + (steep ? -6 : 6), y: y + (steep ? -4 : 14), 'text-anchor': steep ? 'end' : 'start' } }, steep ? 'slope 2: quadratic' : 'slope 1: linear');
}

export function sweepFigure(series: readonly LogSeries[], width: number, o: { cls: string; yName: string; yAxis: LogAxis; formatValue(v: number): string }): SVGSVGElement {
  const c = logLogChart(series, { ...BOX, width, height: HEIGHT }, o.yAxis);
  const bottom = HEIGHT - BOX.bottom;
  const right = width - BOX.right;
  const svg = s(
    'svg',
    { class: `twb-sweep ${o.cls}`, attrs: { width, height: HEIGHT, viewBox: `0 0 ${width} ${HEIGHT}`, role: 'img', 'aria-label': `${o.yName} against sequence length, log–log, ${series.length} variants` } },
    ...c.yTicks.map((t) => s('g', { class: 'twb-tick' }, s('line', { attrs: { x1: BOX.left, x2: right, y1: t.at, y2: t.at } }), s('text', { attrs: { x: BOX.left - 8, y: t.at + 4, 'text-anchor': 'end' } }, t.label))),
    ...c.xTicks.map((t) => s('g', { class: 'twb-tick' }, s('line', { attrs: { x1: t.at, x2: t.at, y1: BOX.top, y2: bottom } }), s('text', { attrs: { x: t.at, y: bottom + 16, 'text-anchor': 'middle' } }, t.label))),
    s('text', { class: 'twb-tick twb-axis-name', attrs: { x: (BOX.left + right) / 2, y: bottom + 33, 'text-anchor': 'middle' } }, 'sequence length (log)'),
    s('text', { class: 'twb-tick twb-axis-name', attrs: { x: BOX.left, y: 12, 'text-anchor': 'middle' } }, `${o.yName} (log)`),
    ...c.refs.flatMap((r) => [s('line', { class: 'twb-ref-line', attrs: { x1: r.x1, y1: r.y1, x2: r.x2, y2: r.y2, 'data-slope': r.slope } }), refLabel(r)]),
  );
  c.series.forEach((m, i) => {
    const g = s('g', { class: `twb-sweep-series ${seriesClass(i)}`, attrs: { 'data-series': m.key } }, s('path', { class: 'twb-sweep-line', attrs: { d: m.path } }));
    for (const p of m.points) {
      const dot = s('circle', { class: 'twb-sweep-point', attrs: { cx: p.px, cy: p.py, r: 4, tabindex: 0 } });
      const tip = (e: MouseEvent) => showTooltip([m.key, ['seq', String(p.x)], [o.yName, o.formatValue(p.y)]], e.clientX, e.clientY);
      dot.addEventListener('mousemove', tip);
      dot.addEventListener('mouseleave', hideTooltip);
      g.append(dot);
    }
    for (const f of m.failed) {
      const cross = s('text', { class: 'twb-sweep-failed', attrs: { x: f.px, y: f.py + 4, 'text-anchor': 'middle', tabindex: 0, 'data-seq': f.x } }, '×');
      cross.addEventListener('mousemove', (e) => showTooltip([m.key, ['seq', String(f.x)], ['not measured', f.error]], e.clientX, e.clientY));
      cross.addEventListener('mouseleave', hideTooltip);
      g.append(cross);
    }
    svg.append(g);
  });
  return svg;
}
