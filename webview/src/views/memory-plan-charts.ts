/**
 * The Memory-plan view's figures: bytes per GPU against N (one line per ZeRO stage, the requested N
 * marked, an optional GPU-memory line) as SVG, and the breakdown per ZeRO stage as stacked bars.
 */
import type { MemoryPlan, ZeroStage } from '../../../engine/src/schema/parallel';
import { formatBytes } from '../../../engine/src/util/format';
import { BREAKDOWN_PARTS, BreakdownPart, memoryLines, stackedBars } from '../charts/memory-lines';
import { h, hideTooltip, s, showTooltip } from '../dom';

const HEIGHT = 300;
const BOX = { top: 24, right: 24, bottom: 40, left: 78 };

export const PART_LABELS: Record<BreakdownPart, string> = { params: 'parameters (fp16)', grads: 'gradients (fp16)', optimizer: 'optimizer states (fp32 Adam)', activations: 'activations (one micro-batch)' };

export function zeroLegend(): HTMLElement {
  return h('div', { class: 'twb-legend twb-zero-legend' }, ...([0, 1, 2, 3] as const).map((z) => h('span', { attrs: { 'data-zero': z } }, h('span', { class: `twb-swatch twb-zero-${z}` }), `ZeRO ${z}`)), h('span', {}, h('span', { class: 'twb-swatch-line twb-ref-swatch' }), 'requested N'));
}

export function partsLegend(): HTMLElement {
  return h('div', { class: 'twb-legend twb-parts-legend' }, ...BREAKDOWN_PARTS.map((p) => h('span', { attrs: { 'data-part': p } }, h('span', { class: `twb-swatch twb-part-${p}` }), PART_LABELS[p])));
}

/** The curve, with `gpuBytes` drawn as a horizontal line when given. */
export function memoryLinesFigure(plan: MemoryPlan, width: number, gpuBytes?: number): SVGSVGElement {
  const c = memoryLines(plan.curve, { ...BOX, width, height: HEIGHT }, plan.input.gpus, gpuBytes);
  const bottom = HEIGHT - BOX.bottom;
  const right = width - BOX.right;
  const svg = s(
    'svg',
    { class: 'twb-memory-lines', attrs: { width, height: HEIGHT, viewBox: `0 0 ${width} ${HEIGHT}`, role: 'img', 'aria-label': `bytes per GPU against the GPU count, ZeRO stages 0 to 3, log scales` } },
    ...c.yTicks.map((t) => s('g', { class: 'twb-tick' }, s('line', { attrs: { x1: BOX.left, x2: right, y1: t.at, y2: t.at } }), s('text', { attrs: { x: BOX.left - 8, y: t.at + 4, 'text-anchor': 'end' } }, t.label))),
    ...c.xTicks.map((t) => s('g', { class: 'twb-tick' }, s('line', { attrs: { x1: t.at, x2: t.at, y1: BOX.top, y2: bottom } }), s('text', { attrs: { x: t.at, y: bottom + 16, 'text-anchor': 'middle' } }, t.label))),
    s('text', { class: 'twb-tick twb-axis-name', attrs: { x: (BOX.left + right) / 2, y: bottom + 33, 'text-anchor': 'middle' } }, 'data-parallel GPUs N (log₂)'),
    s('text', { class: 'twb-tick twb-axis-name', attrs: { x: BOX.left, y: 12, 'text-anchor': 'middle' } }, 'bytes per GPU (log)'),
    s('line', { class: 'twb-memory-requested', attrs: { x1: c.requested.x, x2: c.requested.x, y1: BOX.top, y2: bottom, 'data-gpus': c.requested.gpus } }),
    // At the foot of the marker: the lines of stage 0 and 1 run flat along the top.
    s('text', { class: 'twb-memory-requested-label', attrs: { x: c.requested.x + 4, y: bottom - 6 } }, `N = ${c.requested.gpus}`),
  );
  if (c.reference) {
    svg.append(
      s('line', { class: 'twb-memory-reference', attrs: { x1: BOX.left, x2: right, y1: c.reference.y, y2: c.reference.y, 'data-bytes': c.reference.bytes } }),
      s('text', { class: 'twb-memory-reference-label', attrs: { x: right - 4, y: c.reference.y - 5, 'text-anchor': 'end' } }, `GPU memory ${formatBytes(c.reference.bytes)}`),
    );
  }
  for (const l of c.lines) {
    const g = s('g', { class: `twb-memory-line twb-zero-${l.zeroStage}`, attrs: { 'data-zero': l.zeroStage } }, s('path', { class: 'twb-memory-path', attrs: { d: l.path } }));
    for (const p of l.points) {
      const dot = s('circle', { class: 'twb-memory-point', attrs: { cx: p.px, cy: p.py, r: p.gpus === plan.input.gpus ? 4.5 : 3, tabindex: 0 } });
      dot.addEventListener('mousemove', (e) => showTooltip([`ZeRO ${l.zeroStage}`, ['GPUs', String(p.gpus)], ['per GPU', formatBytes(p.bytes)]], e.clientX, e.clientY));
      dot.addEventListener('mouseleave', hideTooltip);
      g.append(dot);
    }
    svg.append(g);
  }
  return svg;
}

/** The breakdown at the plan's N for each ZeRO stage; `fits` marks the stages under the GPU's memory. */
export function stackedBarsFigure(plan: MemoryPlan, fits?: readonly ZeroStage[]): HTMLElement {
  return h(
    'div',
    { class: 'twb-zero-bars' },
    ...stackedBars(plan.byStage).map((bar) => {
      const fit = fits === undefined ? '' : fits.includes(bar.zeroStage) ? 'fits' : 'does not fit';
      const track = h('span', { class: 'twb-stack twb-stack-wide' });
      for (const seg of bar.segments) {
        const el = h('span', { class: `twb-stack-seg twb-part-${seg.part}`, attrs: { 'data-part': seg.part }, css: { left: `${(seg.start * 100).toFixed(3)}%`, width: `${(seg.width * 100).toFixed(3)}%` } });
        el.addEventListener('mousemove', (e) => showTooltip([`ZeRO ${bar.zeroStage}`, [PART_LABELS[seg.part], formatBytes(seg.bytes)]], e.clientX, e.clientY));
        el.addEventListener('mouseleave', hideTooltip);
        track.append(el);
      }
      return h(
        'div',
        { class: `twb-zero-bar${bar.zeroStage === plan.input.zeroStage ? ' twb-current' : ''}`, attrs: { 'data-zero': bar.zeroStage, 'data-fits': fit || undefined } },
        h('span', { class: 'twb-zero-bar-label' }, `ZeRO ${bar.zeroStage}`),
        track,
        h('span', { class: 'twb-num twb-zero-bar-total' }, formatBytes(bar.total), fit ? h('span', { class: `twb-zero-fit ${fit === 'fits' ? 'twb-pass' : 'twb-fail'}` }, ` ${fit}`) : null),
      );
    }),
  );
}
