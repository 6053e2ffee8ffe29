/**
 * Timeline of an imported trace: a canvas with one block per lane (CPU threads, GPU streams), events
 * stacked by nesting depth, the `ProfilerStep#N` band on top. Zoom and pan with d3-zoom (wheel, drag,
 * and + − ← → 0 on the keyboard); hover names an event; clicking an event that carries a Python
 * frame opens it. Frames use the kernel Timeline's level-of-detail merge, so a row never yields more
 * marks than it has pixels, and are timed into `window.__traceTimelineStats`.
 */
import { scaleLinear, zoomIdentity, ZoomTransform } from 'd3';
import type { TraceRun } from '../../../engine/src/schema/trace';
import { formatUs } from '../../../engine/src/util/format';
import { cssVarColor, swatch } from '../charts/palette';
import { hitTest } from '../charts/timeline-lanes';
import { TimelineMarks, timelineMarks } from '../charts/timeline-marks';
import { buildTraceRows, nameColors, rowAt, RowLayout, rowLayout, stepMarks, TraceRows } from '../charts/trace-timeline-rows';
import { emptyState, h, hideTooltip, showTooltip } from '../dom';
import { frameLabel } from '../model/trace-labels';
import { FrameStats, recordFrame, resetFrames, sizeCanvas, watchHost } from './canvas-frame';
import { attachZoom, CanvasZoom, resetZoom, zoomByKey } from './canvas-zoom';
import type { TraceViewContext } from './trace-context';
import { paintTraceTimeline, TraceFrameGeometry } from './trace-timeline-paint';
import { PaintColors, resolvePaintColors } from './timeline-paint';

/** Frame timings, read by the browser tests. */
export interface TraceTimelineStats extends FrameStats {
  /** Events in the timeline. */
  events: number;
}

declare global {
  interface Window {
    __traceTimelineStats?: TraceTimelineStats;
  }
}

const LEFT = 190;
const RIGHT = 12;
const AXIS = 22;
const STEP_BAND = 16;
const LANE_GAP = 6;

/** Row height for `rows` rows: roomy for a few, down to 8 px so that deep traces stay on a screen or two. */
const rowHeightFor = (rows: number) => Math.max(8, Math.min(18, Math.floor(640 / Math.max(1, rows))));

export function createTraceTimeline(t: TraceRun, ctx: TraceViewContext): { mount(root: HTMLElement): void; unmount(): void } {
  let root: HTMLElement | undefined;
  let canvas: HTMLCanvasElement | undefined;
  let rangeText: HTMLElement | undefined;
  let data: TraceRows | undefined;
  let colorsByName: Int32Array | undefined;
  let layout: RowLayout | undefined;
  let geo: TraceFrameGeometry | undefined;
  let colors: PaintColors | undefined;
  let zoomer: CanvasZoom | undefined;
  let transform: ZoomTransform = zoomIdentity;
  let hover: { row: number; event: number } | undefined;
  let frame = 0;
  let marksBuffer: TimelineMarks | undefined;
  let mountedAt = 0;
  let unwatch: (() => void) | undefined;
  const stats: TraceTimelineStats = { frames: [], marks: 0, events: 0, domain: [0, 0] };
  const tl = t.timeline;

  const xScale = () => {
    const g = geo as TraceFrameGeometry;
    return transform.rescaleX(scaleLinear().domain([0, (data as TraceRows).durationUs]).range([g.left, g.width - g.right]));
  };

  const draw = () => {
    frame = 0;
    if (!canvas || !geo || !layout || !data || !colors || !colorsByName) return;
    const t0 = performance.now();
    const g = geo;
    const x = xScale();
    const domain = x.domain() as [number, number];
    const plotWidth = g.width - g.left - g.right;
    const byName = colorsByName;
    const marks = (marksBuffer = timelineMarks(data.rows, domain, plotWidth, (name) => byName[name] ?? -1, marksBuffer));
    const c = canvas.getContext('2d') as CanvasRenderingContext2D;
    const dpr = window.devicePixelRatio || 1;
    c.setTransform(dpr, 0, 0, dpr, 0, 0);
    const row = hover && data.rows[hover.row];
    const hv = hover && row ? { row: hover.row, x0: x(row.starts[hover.event]), x1: x(row.ends[hover.event]) } : undefined;
    paintTraceTimeline(c, x, { g, rows: layout, rowData: data.rows, laneNames: tl.lanes.map((l) => l.name), names: tl.names, marks, steps: g.stepHeight ? stepMarks(t.steps, domain, plotWidth) : [], hover: hv }, colors);
    recordFrame(stats, t0, mountedAt, marks.length, domain);
    if (rangeText) rangeText.textContent = `${formatUs(domain[0])} – ${formatUs(domain[1])} (${formatUs(domain[1] - domain[0])} shown, ${marks.length.toLocaleString('en-US')} marks for ${stats.events.toLocaleString('en-US')} events)`;
  };

  const requestDraw = () => {
    if (!frame) frame = requestAnimationFrame(draw);
  };

  /** Sizes the canvas to its box and the device pixel ratio; keeps the zoom. */
  const fit = () => {
    if (!canvas || !data) return;
    const width = Math.max(480, canvas.parentElement?.clientWidth ?? 0);
    const stepHeight = t.steps.length ? STEP_BAND : 0;
    const top = AXIS + (stepHeight ? stepHeight + 4 : 0) + 2;
    const rl = rowLayout(data, top, rowHeightFor(data.rows.length), LANE_GAP);
    const height = Math.ceil(rl.bottom + 4);
    if (geo && geo.width === width && geo.height === height) return;
    layout = rl;
    geo = { width, height, left: LEFT, right: RIGHT, axis: AXIS, stepTop: AXIS + 2, stepHeight };
    sizeCanvas(canvas, width, height, zoomer, LEFT, RIGHT);
    // Resizing cleared the canvas: paint now rather than show a blank frame until the next one.
    if (frame) cancelAnimationFrame(frame);
    draw();
  };

  /** The event under a pointer position (canvas pixels), as a row and an index in it. */
  const eventAt = (px: number, py: number): { row: number; event: number } | undefined => {
    if (!layout || !data || !geo || px < geo.left || px > geo.width - geo.right) return undefined;
    const row = rowAt(layout, py);
    if (row < 0) return undefined;
    const x = xScale();
    const tUs = x.invert(px);
    const j = hitTest(data.rows[row], tUs, Math.abs(x.invert(px + 3) - tUs));
    return j < 0 ? undefined : { row, event: j };
  };

  const frameOf = (at: { row: number; event: number }) => {
    const i = (data as TraceRows).rows[at.row].traceIndex[at.event];
    const f = tl.frame[i];
    return f >= 0 ? t.frames[f] : undefined;
  };

  const onHover = (e: PointerEvent) => {
    if (!data || e.buttons) return;
    const at = eventAt(e.offsetX, e.offsetY);
    if (!at) return clearHover();
    const r = data.rows[at.row];
    const i = r.traceIndex[at.event];
    const f = frameOf(at);
    const dur = tl.durUs[i];
    showTooltip(
      [tl.names[tl.name[i]] ?? '?', ['lane', tl.lanes[r.lane]?.name ?? '?'], ['duration', dur > 0 ? formatUs(dur) : 'instant'], ['start', formatUs(tl.startUs[i])], ['depth', String(r.depth)], ...(f ? ([['source', `${frameLabel(f)}${ctx.openSource ? ' (click to open)' : ''}`]] as Array<[string, string]>) : [])],
      e.clientX,
      e.clientY,
    );
    canvas?.style.setProperty('cursor', f && ctx.openSource ? 'pointer' : '');
    if (!hover || hover.row !== at.row || hover.event !== at.event) {
      hover = at;
      requestDraw();
    }
  };

  const clearHover = () => {
    hideTooltip();
    canvas?.style.removeProperty('cursor');
    if (hover) {
      hover = undefined;
      requestDraw();
    }
  };

  // d3-zoom suppresses the click that ends a drag, so a click here is a click.
  const onClick = (e: MouseEvent) => {
    const at = eventAt(e.offsetX, e.offsetY);
    const f = at && frameOf(at);
    if (f && ctx.openSource) ctx.openSource(f);
  };

  const onKey = (e: KeyboardEvent) => {
    if (zoomer && canvas && geo) zoomByKey(e, zoomer, canvas, geo, transform.k);
  };

  /** The ten names with the most time on CPU and GPU lanes; steps have their band, whole-trace spans say nothing. */
  const legend = () => {
    const total = new Float64Array(tl.names.length);
    for (let i = 0; i < tl.name.length; i++) if (tl.lanes[tl.lane[i]]?.kind !== 'other') total[tl.name[i]] += Math.max(0, tl.durUs[i]);
    const top = Array.from(tl.names.keys())
      .filter((i) => total[i] > 0 && !tl.names[i].startsWith('ProfilerStep#'))
      .sort((a, b) => total[b] - total[a])
      .slice(0, 10);
    return h(
      'div',
      { class: 'twb-legend twb-trace-legend', attrs: { 'aria-label': 'Colours of the longest-running event names' } },
      ...top.map((i) => {
        const slot = colorsByName?.[i] ?? -1;
        return h('span', { class: 'twb-legend-item twb-mono', attrs: { title: tl.names[i] } }, h('span', { class: 'twb-swatch', css: { background: cssVarColor(slot), opacity: String(swatch(slot).alpha) } }), tl.names[i].length > 48 ? `${tl.names[i].slice(0, 47)}…` : tl.names[i]);
      }),
    );
  };

  const build = () => {
    if (!root) return;
    mountedAt = performance.now();
    resetFrames(stats);
    window.__traceTimelineStats = stats;
    geo = layout = undefined;
    hover = undefined;
    transform = zoomIdentity;
    if (tl.lane.length === 0) {
      root.replaceChildren(emptyState('This trace has no events to draw.'));
      return;
    }
    data = buildTraceRows(tl, t.spanUs);
    colorsByName = nameColors(tl);
    stats.events = data.events;
    canvas = h('canvas', { class: 'twb-timeline-canvas twb-trace-timeline-canvas', attrs: { tabindex: 0, role: 'img', 'aria-label': `${data.events} events in ${tl.lanes.length} lanes over time. Zoom with the wheel or + and -, pan by dragging or with the arrow keys, 0 resets.` } });
    rangeText = h('span', { class: 'twb-dim twb-range', attrs: { 'aria-live': 'off' } });
    const reset = h('vscode-button', { attrs: { secondary: true } }, 'Reset zoom');
    reset.addEventListener('click', () => resetZoom(zoomer, canvas));
    const note = `${data.events.toLocaleString('en-US')} events in ${tl.lanes.length} lanes${tl.dropped ? ` (${tl.dropped.toLocaleString('en-US')} more left out of the timeline by the importer)` : ''} · wheel or +/− to zoom, drag or ←/→ to pan, 0 resets${t.frames.length && ctx.openSource ? ' · click an op to open its source' : ''}`;
    root.replaceChildren(h('div', { class: 'twb-trace-timeline', attrs: { 'data-trace': t.id } }, h('div', { class: 'twb-toolbar' }, h('span', { class: 'twb-dim' }, note), reset), legend(), h('div', { class: 'twb-timeline-box' }, canvas), rangeText));
    zoomer = attachZoom(canvas, data.durationUs / 2, (t) => {
      transform = t;
      hideTooltip();
      requestDraw();
    });
    canvas.addEventListener('pointermove', onHover);
    canvas.addEventListener('pointerleave', clearHover);
    canvas.addEventListener('click', onClick);
    canvas.addEventListener('keydown', onKey);
    colors = resolvePaintColors(root);
    fit();
  };

  return {
    mount(r) {
      root = r;
      build();
      unwatch = watchHost(r, fit, () => {
        if (root) colors = resolvePaintColors(root);
        requestDraw();
      });
    },
    unmount() {
      if (frame) cancelAnimationFrame(frame);
      frame = 0;
      unwatch?.();
      unwatch = undefined;
      hideTooltip();
      root = canvas = rangeText = undefined;
      zoomer = undefined;
      data = undefined;
    },
  };
}
