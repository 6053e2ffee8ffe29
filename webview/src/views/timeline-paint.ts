/**
 * Paints one Timeline frame on a 2D canvas: time axis, lane stripes and labels, and the marks batched
 * by colour (one path and one fill per colour, not per kernel).
 */
import type { ScaleLinear } from 'd3';
import { formatUs } from '../../../engine/src/util/format';
import { OTHER_SLOT, PALETTE_SLOTS, swatch } from '../charts/palette';
import type { TimelineMarks } from '../charts/timeline-marks';

/** Geometry of the plot, CSS pixels. */
export interface TimelineLayout {
  width: number;
  height: number;
  /** Left gutter for lane labels. */
  left: number;
  right: number;
  /** Height of the time axis above the lanes. */
  top: number;
  laneHeight: number;
  lanes: number;
}

/** Theme colours resolved to concrete CSS colour strings (canvas cannot use var()). */
export interface PaintColors {
  slots: string[];
  other: string;
  foreground: string;
  dim: string;
  grid: string;
  highlight: string;
  /** Font family for labels. */
  font: string;
}

/** Reads the theme's colours from the page's CSS custom properties (with the palette's fallbacks). */
export function resolvePaintColors(el: Element): PaintColors {
  const cs = getComputedStyle(el);
  const v = (name: string, fallback: string) => cs.getPropertyValue(name).trim() || fallback;
  const color = (slot: number) => {
    const { color: c } = swatch(slot);
    return v(c.cssVar, c.fallback);
  };
  return {
    slots: Array.from({ length: PALETTE_SLOTS }, (_, i) => color(i)),
    other: color(OTHER_SLOT),
    foreground: v('--twb-fg', '#cccccc'),
    dim: v('--twb-dim', '#9d9d9d'),
    grid: v('--twb-grid', 'rgba(128,128,128,0.25)'),
    highlight: v('--twb-focus', '#007fd4'),
    font: v('--vscode-font-family', 'sans-serif'),
  };
}

export function laneTop(l: TimelineLayout, lane: number): number {
  return l.top + lane * l.laneHeight;
}

/** Where marks go: the plot's left edge, the top of each mark's row, the marks' height, and what is taken off each width. */
export interface MarkBoxes {
  left: number;
  rowTop: (row: number) => number;
  height: number;
  trim: number;
}

/** Fills the marks, one path and one fill per colour slot (a few fills per frame however many marks). */
export function fillMarks(ctx: CanvasRenderingContext2D, marks: TimelineMarks, colors: PaintColors, box: MarkBoxes): void {
  const { x: mx, w: mw, lane: ml, colorKey: mc, length } = marks;
  for (let slot = -1; slot < PALETTE_SLOTS; slot++) {
    ctx.beginPath();
    let any = false;
    for (let i = 0; i < length; i++) {
      if (mc[i] !== slot) continue;
      ctx.rect(box.left + mx[i], box.rowTop(ml[i]), Math.max(1, mw[i] - box.trim), box.height);
      any = true;
    }
    if (!any) continue;
    ctx.fillStyle = slot === OTHER_SLOT ? colors.other : colors.slots[slot];
    ctx.globalAlpha = swatch(slot).alpha;
    ctx.fill();
  }
  ctx.globalAlpha = 1;
}

/** Draws a frame; `x` maps microseconds to CSS pixels; `hover` outlines one mark-sized box. */
export function paintTimeline(ctx: CanvasRenderingContext2D, l: TimelineLayout, x: ScaleLinear<number, number>, marks: TimelineMarks, colors: PaintColors, hover?: { lane: number; x0: number; x1: number }): void {
  ctx.clearRect(0, 0, l.width, l.height);
  ctx.font = `11px ${colors.font}`;
  ctx.textBaseline = 'middle';
  // Lane stripes.
  ctx.fillStyle = colors.grid;
  ctx.globalAlpha = 0.12;
  for (let i = 0; i < l.lanes; i += 2) ctx.fillRect(l.left, laneTop(l, i), l.width - l.left - l.right, l.laneHeight);
  ctx.globalAlpha = 1;
  // Axis ticks and grid lines.
  ctx.strokeStyle = colors.grid;
  ctx.fillStyle = colors.dim;
  ctx.textAlign = 'center';
  ctx.beginPath();
  for (const t of x.ticks(Math.max(2, Math.floor((l.width - l.left) / 110)))) {
    const px = Math.round(x(t)) + 0.5;
    if (px < l.left || px > l.width - l.right) continue;
    ctx.moveTo(px, l.top - 4);
    ctx.lineTo(px, laneTop(l, l.lanes));
    ctx.fillText(formatUs(t), px, l.top / 2 - 1);
  }
  ctx.stroke();
  const pad = l.laneHeight > 14 ? 2 : 1;
  fillMarks(ctx, marks, colors, { left: l.left, rowTop: (lane) => laneTop(l, lane) + pad, height: l.laneHeight - 2 * pad, trim: 0 });
  if (hover) {
    ctx.strokeStyle = colors.highlight;
    ctx.lineWidth = 2;
    ctx.strokeRect(hover.x0 - 1, laneTop(l, hover.lane) + 1, Math.max(2, hover.x1 - hover.x0) + 2, l.laneHeight - 2);
    ctx.lineWidth = 1;
  }
  // Lane labels over a cleared gutter.
  ctx.clearRect(0, l.top - 2, l.left, l.height);
  ctx.fillStyle = colors.dim;
  ctx.textAlign = 'right';
  const every = Math.ceil(12 / l.laneHeight);
  for (let i = 0; i < l.lanes; i += every) ctx.fillText(`run ${i + 1}`, l.left - 8, laneTop(l, i) + l.laneHeight / 2);
}
