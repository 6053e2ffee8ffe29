/**
 * The selected layer's histograms: weights and activations, before vs after on one shared range,
 * drawn as SVG from `charts/histogram.ts`. Bars are the original values, the outline the new ones.
 */
import type { HistogramPair, LayerError } from '../../../engine/src/schema/compression';
import { CountScale, histogramChart, valueLabel } from '../charts/histogram';
import type { ChartBox } from '../charts/memory';
import { h, hideTooltip, s, showTooltip } from '../dom';

const HEIGHT = 190;

/** One histogram as an SVG of `width` pixels, or a line saying why there is none. */
export function histogramFigure(title: string, pair: HistogramPair | undefined, width: number, countScale: CountScale, afterLabel: string): HTMLElement {
  if (!pair || pair.before.length === 0) return h('figure', { class: 'twb-hist-figure' }, h('figcaption', {}, title), h('p', { class: 'twb-dim' }, 'Not recorded for this layer.'));
  const box: ChartBox = { width, height: HEIGHT, top: 8, right: 10, bottom: 22, left: 46 };
  const c = histogramChart(pair, box, countScale);
  const bottom = box.height - box.bottom;
  const svg = s(
    'svg',
    { class: 'twb-hist', attrs: { width, height: HEIGHT, viewBox: `0 0 ${width} ${HEIGHT}`, role: 'img', 'aria-label': `${title}: ${pair.before.length} bins from ${valueLabel(pair.lo)} to ${valueLabel(pair.hi)}` } },
    ...c.yTicks.map((t) => s('g', { class: 'twb-tick' }, s('line', { attrs: { x1: box.left, x2: width - box.right, y1: t.at, y2: t.at } }), s('text', { attrs: { x: box.left - 5, y: t.at + 3, 'text-anchor': 'end' } }, t.label))),
    ...c.xTicks.map((t) => s('text', { class: 'twb-tick', attrs: { x: t.at, y: bottom + 15, 'text-anchor': 'middle' } }, t.label)),
    c.zeroX !== undefined ? s('line', { class: 'twb-hist-zero', attrs: { x1: c.zeroX, x2: c.zeroX, y1: box.top, y2: bottom } }) : null,
    s('g', { class: 'twb-hist-before' }, ...c.bins.map((b) => s('rect', { attrs: { x: b.x, y: b.before.y, width: Math.max(0.5, b.width - 0.5), height: b.before.height } }))),
    s('path', { class: 'twb-hist-after', attrs: { d: c.afterPath } }),
  );
  // One tooltip target per bin, over both marks, for the exact counts.
  const hit = s('g', { class: 'twb-hist-hit' }, ...c.bins.map((b, i) => s('rect', { attrs: { x: b.x, y: box.top, width: b.width, height: bottom - box.top, 'data-bin': i } })));
  hit.addEventListener('mousemove', (e) => {
    const i = Number((e.target as Element).getAttribute('data-bin'));
    const b = c.bins[i];
    if (!b) return;
    showTooltip([`${valueLabel(b.lo)} … ${valueLabel(b.hi)}`, ['before', String(b.before.count)], [afterLabel, String(b.after.count)]], e.clientX, e.clientY);
  });
  hit.addEventListener('mouseleave', hideTooltip);
  svg.append(hit);
  return h('figure', { class: 'twb-hist-figure' }, h('figcaption', {}, title), svg);
}

/** Both histograms of `layer`, with a legend; `width` is that of the card they go in. */
export function layerHistograms(layer: LayerError, width: number, countScale: CountScale, afterLabel: string): HTMLElement {
  const each = Math.max(240, Math.floor(width >= 640 ? (width - 24) / 2 : width));
  return h(
    'div',
    { class: 'twb-hist-pair', attrs: { 'data-node': layer.node } },
    h('div', { class: 'twb-legend' }, h('span', {}, h('span', { class: 'twb-swatch twb-hist-swatch-before' }), 'before (original)'), h('span', {}, h('span', { class: 'twb-swatch twb-hist-swatch-after' }), `after (${afterLabel})`), countScale === 'sqrt' ? h('span', { class: 'twb-dim' }, 'counts on a square-root axis') : null),
    h('div', { class: 'twb-hist-grid' }, histogramFigure('Weights', layer.weightHistogram, each, countScale, afterLabel), histogramFigure(`Activations (${layer.tensor})`, layer.activationHistogram, each, countScale, afterLabel)),
  );
}
