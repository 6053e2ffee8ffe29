/**
 * Draws a pipeline Gantt chart (charts/gantt.ts) as SVG, or on a canvas past a few thousand blocks:
 * F/B/W in theme colours, later interleaved chunks lighter, idle gaps hatched, the micro-batch on
 * blocks wide enough, and a tooltip on hover. Either way the figure carries `data-blocks` and
 * `data-idle` counts.
 */
import type { BlockKind, TimelineBlock } from '../../../engine/src/schema/parallel';
import { formatUs } from '../../../engine/src/util/format';
import { blockAt, chunkAlpha, DEFAULT_GANTT_BOX, ganttChart, GanttChart, idleAt } from '../charts/gantt';
import { h, hideTooltip, s, showTooltip } from '../dom';

/** Above this many blocks the chart is painted on a canvas: an SVG node per block gets slow. */
export const GANTT_SVG_LIMIT = 2000;

export const KIND_NAMES: Record<BlockKind, string> = { F: 'forward', B: 'backward', W: 'weight gradient' };
const KIND_VARS: Record<BlockKind, [string, string]> = { F: ['--twb-forward', '#3794ff'], B: ['--twb-backward', '#d18616'], W: ['--twb-weightgrad', '#b180d7'] };

export interface GanttOptions {
  /** Extra class on the figure (`twb-gantt-main`, `twb-gantt-measured`, …). */
  cls: string;
  chunks: number;
  label: string;
}

/** Legend of the kinds present, the chunk shades when interleaved, and the idle mark. */
export function ganttLegend(kinds: readonly BlockKind[], chunks: number): HTMLElement {
  return h(
    'div',
    { class: 'twb-legend twb-gantt-legend' },
    ...kinds.map((k) => h('span', { attrs: { 'data-kind': k } }, h('span', { class: `twb-swatch twb-gantt-${k}` }), `${k}: ${KIND_NAMES[k]}`)),
    chunks > 1 ? h('span', {}, `lighter: later chunks (V = ${chunks})`) : null,
    h('span', {}, h('span', { class: 'twb-swatch twb-gantt-idle-swatch' }), 'idle (bubble)'),
  );
}

export function kindsOf(timeline: readonly TimelineBlock[]): BlockKind[] {
  return (['F', 'B', 'W'] as const).filter((k) => timeline.some((b) => b.kind === k));
}

function tooltip(chart: GanttChart, px: number, py: number, e: MouseEvent): void {
  const b = blockAt(chart, px, py);
  if (b) {
    return showTooltip([`${b.kind}: ${KIND_NAMES[b.kind]}`, ['stage', String(b.stage)], ['micro-batch', String(b.microbatch)], ['chunk', String(b.chunk)], ['start', formatUs(b.startUs)], ['duration', formatUs(b.endUs - b.startUs)]], e.clientX, e.clientY);
  }
  const g = idleAt(chart, px, py);
  if (g) return showTooltip(['idle (bubble)', ['stage', String(g.stage)], ['from', formatUs(g.startUs)], ['duration', formatUs(g.endUs - g.startUs)]], e.clientX, e.clientY);
  hideTooltip();
}

let hatchIds = 0;

function svgFigure(chart: GanttChart, width: number, o: GanttOptions): SVGSVGElement {
  const hatch = `twb-gantt-hatch-${++hatchIds}`;
  const bottom = chart.height;
  const svg = s(
    'svg',
    { class: `twb-gantt ${o.cls}`, attrs: { width, height: chart.height, viewBox: `0 0 ${width} ${chart.height}`, role: 'img', 'aria-label': o.label, 'data-blocks': chart.blocks.length, 'data-idle': chart.idle.length } },
    s('defs', {}, s('pattern', { attrs: { id: hatch, width: 6, height: 6, patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' } }, s('line', { class: 'twb-gantt-hatch-line', attrs: { x1: 0, y1: 0, x2: 0, y2: 6 } }))),
    ...chart.xTicks.map((t) => s('g', { class: 'twb-tick' }, s('line', { attrs: { x1: t.at, x2: t.at, y1: DEFAULT_GANTT_BOX.top - 4, y2: bottom } }), s('text', { attrs: { x: t.at, y: DEFAULT_GANTT_BOX.top - 8, 'text-anchor': 'middle' } }, t.label))),
    ...chart.rows.map((r) => s('text', { class: 'twb-gantt-row-label', attrs: { x: 4, y: r.y + r.h / 2 + 4 } }, r.label)),
    ...chart.idle.map((g) => s('rect', { class: 'twb-gantt-idle', attrs: { x: g.x, y: g.y, width: Math.max(g.w, 0.5), height: g.h, fill: `url(#${hatch})`, 'data-stage': g.stage } })),
  );
  const blocks = s('g', { class: 'twb-gantt-blocks' });
  for (const b of chart.blocks) {
    const rect = s('rect', { class: `twb-gantt-block twb-gantt-${b.kind}`, attrs: { x: b.x, y: b.y, width: Math.max(b.w, 0.5), height: b.h, 'data-kind': b.kind, 'data-stage': b.stage, 'data-mb': b.microbatch, 'data-chunk': b.chunk } });
    const alpha = chunkAlpha(b.chunk, o.chunks);
    if (alpha < 1) rect.style.setProperty('fill-opacity', String(alpha));
    blocks.append(rect);
    if (b.label) blocks.append(s('text', { class: 'twb-gantt-label', attrs: { x: b.x + b.w / 2, y: b.y + b.h / 2 + 4, 'text-anchor': 'middle' } }, b.label));
  }
  svg.append(blocks);
  svg.addEventListener('mousemove', (e) => {
    const r = svg.getBoundingClientRect();
    tooltip(chart, e.clientX - r.left, e.clientY - r.top, e);
  });
  svg.addEventListener('mouseleave', hideTooltip);
  return svg;
}

function canvasFigure(chart: GanttChart, width: number, o: GanttOptions): HTMLCanvasElement {
  const canvas = h('canvas', { class: `twb-gantt twb-gantt-canvas ${o.cls}`, attrs: { role: 'img', 'aria-label': o.label, 'data-blocks': chart.blocks.length, 'data-idle': chart.idle.length } });
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.round(width * dpr);
  canvas.height = Math.round(chart.height * dpr);
  canvas.style.setProperty('width', `${width}px`);
  canvas.style.setProperty('height', `${chart.height}px`);
  // Painted once the canvas is in the document, where the theme's variables resolve.
  requestAnimationFrame(() => paint(canvas, chart, o, dpr));
  canvas.addEventListener('mousemove', (e) => {
    const r = canvas.getBoundingClientRect();
    tooltip(chart, e.clientX - r.left, e.clientY - r.top, e);
  });
  canvas.addEventListener('mouseleave', hideTooltip);
  return canvas;
}

function paint(canvas: HTMLCanvasElement, chart: GanttChart, o: GanttOptions, dpr: number): void {
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const cs = getComputedStyle(canvas);
  const v = (name: string, fallback: string) => cs.getPropertyValue(name).trim() || fallback;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.font = `11px ${v('--vscode-font-family', 'sans-serif')}`;
  ctx.fillStyle = v('--twb-dim', '#9d9d9d');
  ctx.textAlign = 'center';
  for (const t of chart.xTicks) ctx.fillText(t.label, t.at, DEFAULT_GANTT_BOX.top - 8);
  ctx.textAlign = 'left';
  for (const r of chart.rows) ctx.fillText(r.label, 4, r.y + r.h / 2 + 4);
  ctx.fillStyle = v('--twb-track', 'rgba(128,128,128,0.15)');
  for (const g of chart.idle) ctx.fillRect(g.x, g.y, Math.max(g.w, 0.5), g.h);
  for (const kind of ['F', 'B', 'W'] as const) {
    ctx.fillStyle = v(...KIND_VARS[kind]);
    for (const b of chart.blocks) {
      if (b.kind !== kind) continue;
      ctx.globalAlpha = chunkAlpha(b.chunk, o.chunks);
      ctx.fillRect(b.x, b.y, Math.max(b.w, 0.5), b.h);
    }
  }
  ctx.globalAlpha = 1;
}

/** The Gantt figure of `timeline` at `width` pixels. */
export function ganttFigure(timeline: readonly TimelineBlock[], stages: number, makespanUs: number, width: number, o: GanttOptions): Element {
  const chart = ganttChart(timeline, stages, makespanUs, { ...DEFAULT_GANTT_BOX, width });
  return chart.blocks.length > GANTT_SVG_LIMIT ? canvasFigure(chart, width, o) : svgFigure(chart, width, o);
}
