/**
 * Timeline: every profiled kernel on a canvas, one lane per profiled run, zoomable and pannable with
 * d3-zoom (wheel, drag, and + − ← → 0 on the keyboard). A frame computes the visible marks (with the
 * level-of-detail merge) and paints them; frames are coalesced into requestAnimationFrame and timed
 * into `window.__timelineStats` for the benchmark.
 */
import { scaleLinear, zoomIdentity, ZoomTransform } from 'd3';
import type { InferenceRun } from '../../../engine/src/schema/run';
import { formatPercent, formatUs } from '../../../engine/src/util/format';
import { layerLabel } from '../charts/icicle';
import { cssVarColor, OTHER_SLOT, swatch } from '../charts/palette';
import { hitTest, Lane, lanesDurationUs } from '../charts/timeline-lanes';
import { TimelineMarks, timelineMarks } from '../charts/timeline-marks';
import { emptyState, h, hideTooltip, showTooltip } from '../dom';
import { runColors } from '../model/run-colors';
import { runLanes } from '../model/run-lanes';
import { AppState, selectedRun } from '../state';
import { paintTimeline, PaintColors, resolvePaintColors, TimelineLayout } from './timeline-paint';
import { FrameStats, recordFrame, resetFrames, sizeCanvas, watchHost } from './canvas-frame';
import { attachZoom, CanvasZoom, resetZoom, zoomByKey } from './canvas-zoom';
import type { View } from './view';

/** Frame timings, read by the benchmark and the browser tests. */
export interface TimelineStats extends FrameStats {
  /** Kernels in the run. */
  kernels: number;
}

declare global {
  interface Window {
    __timelineStats?: TimelineStats;
  }
}

const MARGIN = { left: 64, right: 12, top: 24 };

export function createTimelineView(): View {
  let root: HTMLElement | undefined;
  let canvas: HTMLCanvasElement | undefined;
  let rangeText: HTMLElement | undefined;
  let run: InferenceRun | undefined;
  let lanes: Lane[] = [];
  let layout: TimelineLayout | undefined;
  let colors: PaintColors | undefined;
  let zoomer: CanvasZoom | undefined;
  let transform: ZoomTransform = zoomIdentity;
  let hover: { lane: number; event: number } | undefined;
  let frame = 0;
  let marksBuffer: TimelineMarks | undefined;
  let mountedAt = 0;
  let unwatch: (() => void) | undefined;
  const stats: TimelineStats = { frames: [], marks: 0, kernels: 0, domain: [0, 0] };

  const xScale = () => {
    const l = layout as TimelineLayout;
    return transform.rescaleX(scaleLinear().domain([0, lanesDurationUs(lanes)]).range([l.left, l.width - l.right]));
  };

  const draw = () => {
    frame = 0;
    if (!canvas || !layout || !run || !colors) return;
    const t0 = performance.now();
    const l = layout;
    const x = xScale();
    const domain = x.domain() as [number, number];
    const plotWidth = l.width - l.left - l.right;
    const byOp = runColors(run).byOp;
    const marks = (marksBuffer = timelineMarks(lanes, domain, plotWidth, (op) => byOp[op] ?? OTHER_SLOT, marksBuffer));
    const ctx = canvas.getContext('2d') as CanvasRenderingContext2D;
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const hv = hover && lanes[hover.lane] ? { lane: hover.lane, x0: x(lanes[hover.lane].starts[hover.event]), x1: x(lanes[hover.lane].ends[hover.event]) } : undefined;
    paintTimeline(ctx, l, x, marks, colors, hv);
    recordFrame(stats, t0, mountedAt, marks.length, domain);
    if (rangeText) rangeText.textContent = `${formatUs(domain[0])} – ${formatUs(domain[1])} (${formatUs(domain[1] - domain[0])} shown, ${marks.length} marks for ${stats.kernels} kernels)`;
  };

  const requestDraw = () => {
    if (!frame) frame = requestAnimationFrame(draw);
  };

  /** Sizes the canvas to its box and the device pixel ratio; keeps the zoom. */
  const fit = () => {
    if (!canvas || !root || !run) return;
    const width = Math.max(320, canvas.parentElement?.clientWidth ?? 0);
    const laneHeight = Math.max(10, Math.min(28, Math.floor(420 / Math.max(1, lanes.length))));
    const height = MARGIN.top + laneHeight * lanes.length + 6;
    if (layout && layout.width === width && layout.height === height) return;
    layout = { width, height, left: MARGIN.left, right: MARGIN.right, top: MARGIN.top, laneHeight, lanes: lanes.length };
    sizeCanvas(canvas, width, height, zoomer, layout.left, layout.right);
    // Resizing cleared the canvas: paint now rather than show a blank frame until the next one.
    if (frame) cancelAnimationFrame(frame);
    draw();
  };

  const onHover = (e: PointerEvent) => {
    if (!layout || !run || e.buttons) return;
    const l = layout;
    const lane = Math.floor((e.offsetY - l.top) / l.laneHeight);
    if (lane < 0 || lane >= lanes.length || e.offsetX < l.left) return clearHover();
    const x = xScale();
    const t = x.invert(e.offsetX);
    const tol = Math.abs(x.invert(e.offsetX + 3) - t);
    const j = hitTest(lanes[lane], t, tol);
    if (j < 0) return clearHover();
    const op = run.ops[lanes[lane].op[j]];
    const dur = lanes[lane].ends[j] - lanes[lane].starts[j];
    showTooltip(
      [op.node, ['op type', op.opType], ['layer', layerLabel(op.layer)], ['duration', formatUs(dur)], ['start', `${formatUs(lanes[lane].starts[j])} into run ${lane + 1}`], ['node share', formatPercent(op.share)]],
      e.clientX,
      e.clientY,
    );
    if (!hover || hover.lane !== lane || hover.event !== j) {
      hover = { lane, event: j };
      requestDraw();
    }
  };

  const clearHover = () => {
    hideTooltip();
    if (hover) {
      hover = undefined;
      requestDraw();
    }
  };

  const onKey = (e: KeyboardEvent) => {
    if (zoomer && canvas && layout) zoomByKey(e, zoomer, canvas, layout, transform.k);
  };

  const legend = (r: InferenceRun) => {
    const byType = runColors(r).byOpType;
    const top = [...r.opTypes].sort((a, b) => b.totalUs - a.totalUs).slice(0, 12);
    return h(
      'div',
      { class: 'twb-legend', attrs: { 'aria-label': 'Colours by op type' } },
      ...top.map((t) => {
        const slot = byType.get(t.opType) ?? OTHER_SLOT;
        return h('span', { class: 'twb-legend-item' }, h('span', { class: 'twb-swatch', css: { background: cssVarColor(slot), opacity: String(swatch(slot).alpha) } }), t.opType);
      }),
      r.opTypes.length > top.length ? h('span', { class: 'twb-legend-item twb-dim' }, `+${r.opTypes.length - top.length} more`) : null,
    );
  };

  const build = (s: AppState) => {
    if (!root) return;
    mountedAt = performance.now();
    resetFrames(stats);
    window.__timelineStats = stats;
    run = selectedRun(s);
    layout = undefined;
    hover = undefined;
    transform = zoomIdentity;
    if (!run || run.trace.op.length === 0) {
      root.replaceChildren(emptyState(run ? 'This run recorded no kernels.' : 'No run yet: profile the model to see its kernels over time.'));
      return;
    }
    lanes = runLanes(run);
    stats.kernels = run.trace.op.length;
    canvas = h('canvas', { class: 'twb-timeline-canvas', attrs: { tabindex: 0, role: 'img', 'aria-label': `Kernels of ${lanes.length} profiled runs over time. Zoom with the wheel or + and -, pan by dragging or with the arrow keys, 0 resets.` } });
    rangeText = h('span', { class: 'twb-dim twb-range', attrs: { 'aria-live': 'off' } });
    const reset = h('vscode-button', { attrs: { secondary: true } }, 'Reset zoom');
    reset.addEventListener('click', () => resetZoom(zoomer, canvas));
    root.replaceChildren(
      h('div', { class: 'twb-toolbar' }, h('span', { class: 'twb-dim' }, `${stats.kernels.toLocaleString('en-US')} kernels in ${lanes.length} profiled runs · wheel or +/− to zoom, drag or ←/→ to pan, 0 resets`), reset),
      legend(run),
      h('div', { class: 'twb-timeline-box' }, canvas),
      rangeText,
    );
    const maxK = Math.max(1, lanesDurationUs(lanes) / 2);
    zoomer = attachZoom(canvas, maxK, (t) => {
      transform = t;
      hideTooltip();
      requestDraw();
    });
    canvas.addEventListener('pointermove', onHover);
    canvas.addEventListener('pointerleave', clearHover);
    canvas.addEventListener('keydown', onKey);
    colors = resolvePaintColors(root);
    fit();
  };

  return {
    mount(r, s) {
      root = r;
      build(s);
      unwatch = watchHost(r, fit, () => {
        if (root) colors = resolvePaintColors(root);
        requestDraw();
      });
    },
    update(s, prev) {
      if (selectedRun(s) !== selectedRun(prev)) build(s);
    },
    unmount() {
      if (frame) cancelAnimationFrame(frame);
      frame = 0;
      unwatch?.();
      unwatch = undefined;
      hideTooltip();
      root = canvas = rangeText = undefined;
      zoomer = undefined;
    },
  };
}

