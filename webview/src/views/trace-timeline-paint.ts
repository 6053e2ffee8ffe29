/**
 * Paints one frame of the trace Timeline on a 2D canvas: time axis, the step band, lane blocks with
 * their names, the marks batched by colour (one path and one fill per colour), event names inside
 * marks wide enough to hold them, and the hovered event's outline.
 */
import type { ScaleLinear } from 'd3';
import { formatUs } from '../../../engine/src/util/format';
import type { RowLayout, StepMark, TraceRow } from '../charts/trace-timeline-rows';
import type { TimelineMarks } from '../charts/timeline-marks';
import { fillMarks, type PaintColors } from './timeline-paint';

/** Geometry of the canvas, CSS pixels. */
export interface TraceFrameGeometry {
  width: number;
  height: number;
  /** Gutter for lane names. */
  left: number;
  right: number;
  /** Height of the time axis. */
  axis: number;
  /** Top and height of the step band (height 0 without steps). */
  stepTop: number;
  stepHeight: number;
}

export interface TracePaintInput {
  g: TraceFrameGeometry;
  rows: RowLayout;
  rowData: readonly TraceRow[];
  laneNames: readonly string[];
  /** Event names, indexed by a row's `op` entries. */
  names: readonly string[];
  marks: TimelineMarks;
  steps: readonly StepMark[];
  hover?: { row: number; x0: number; x1: number };
}

/** Average glyph width of the 11px UI font, pixels: enough to cut labels without measuring each. */
const CHAR_PX = 6.4;

/** `text` cut to `px` pixels with an ellipsis, or '' when not even three characters fit. */
export function fitLabel(text: string, px: number): string {
  const n = Math.floor(px / CHAR_PX);
  if (n < 3) return '';
  return text.length <= n ? text : `${text.slice(0, n - 1)}…`;
}

export function paintTraceTimeline(ctx: CanvasRenderingContext2D, x: ScaleLinear<number, number>, p: TracePaintInput, colors: PaintColors): void {
  const { g, rows, marks } = p;
  const plotRight = g.width - g.right;
  ctx.clearRect(0, 0, g.width, g.height);
  ctx.font = `11px ${colors.font}`;
  ctx.textBaseline = 'middle';
  // Lane blocks: alternate stripes and a rule between lanes.
  ctx.fillStyle = colors.grid;
  p.laneNames.forEach((_, lane) => {
    if (rows.laneHeight[lane] === 0) return;
    ctx.globalAlpha = lane % 2 ? 0.06 : 0.14;
    ctx.fillRect(g.left, rows.laneTop[lane], plotRight - g.left, rows.laneHeight[lane]);
  });
  ctx.globalAlpha = 1;
  // Axis ticks and grid lines.
  ctx.strokeStyle = colors.grid;
  ctx.fillStyle = colors.dim;
  ctx.textAlign = 'center';
  ctx.beginPath();
  for (const t of x.ticks(Math.max(2, Math.floor((g.width - g.left) / 110)))) {
    const px = Math.round(x(t)) + 0.5;
    if (px < g.left || px > plotRight) continue;
    ctx.moveTo(px, g.axis - 4);
    ctx.lineTo(px, rows.bottom);
    ctx.fillText(formatUs(t), px, g.axis / 2);
  }
  ctx.globalAlpha = 0.5;
  ctx.stroke();
  ctx.globalAlpha = 1;
  // Step band.
  for (const s of p.steps) {
    ctx.fillStyle = colors.slots[s.index % 2 ? 5 : 0];
    ctx.globalAlpha = s.index % 2 ? 0.45 : 0.6;
    ctx.fillRect(g.left + s.x, g.stepTop, Math.max(1, s.w - 1), g.stepHeight);
    ctx.globalAlpha = 1;
    const label = fitLabel(s.label, s.w - 6) || fitLabel(s.label.replace(/^.*#/, '#'), s.w - 6);
    if (label) {
      ctx.fillStyle = colors.foreground;
      ctx.textAlign = 'left';
      ctx.fillText(label, g.left + s.x + 3, g.stepTop + g.stepHeight / 2);
    }
  }
  const pad = rows.rowHeight > 12 ? 1 : 0;
  fillMarks(ctx, marks, colors, { left: g.left, rowTop: (row) => rows.rowTop[row] + pad, height: rows.rowHeight - 2 * pad, trim: 0.5 });
  const { x: mx, w: mw, lane: mr, length } = marks;
  // Names inside marks that have room for them, where one event fills the mark: a merged mark of
  // many short events has no one name.
  if (rows.rowHeight >= 12) {
    const [d0, d1] = x.domain();
    ctx.fillStyle = colors.foreground;
    ctx.textAlign = 'left';
    for (let i = 0; i < length; i++) {
      if (mw[i] < 30) continue;
      const row = p.rowData[mr[i]];
      const e = marks.event[i];
      if (marks.count[i] !== 1 && x(Math.min(row.ends[e], d1)) - x(Math.max(row.starts[e], d0)) < 0.8 * mw[i]) continue;
      const label = fitLabel(p.names[row.op[e]] ?? '', mw[i] - 6);
      if (label) ctx.fillText(label, g.left + Math.max(0, mx[i]) + 3, rows.rowTop[mr[i]] + rows.rowHeight / 2, mw[i] - 6);
    }
  }
  if (p.hover) {
    ctx.strokeStyle = colors.highlight;
    ctx.lineWidth = 2;
    ctx.strokeRect(p.hover.x0 - 1, rows.rowTop[p.hover.row] + 0.5, Math.max(2, p.hover.x1 - p.hover.x0) + 2, rows.rowHeight - 1);
    ctx.lineWidth = 1;
  }
  // Lane names over a cleared gutter.
  ctx.clearRect(0, g.stepTop, g.left, g.height);
  ctx.textAlign = 'right';
  p.laneNames.forEach((name, lane) => {
    if (rows.laneHeight[lane] === 0) return;
    ctx.fillStyle = colors.dim;
    ctx.fillText(fitLabel(name, g.left - 14), g.left - 8, rows.laneTop[lane] + Math.min(rows.laneHeight[lane], 18) / 2);
  });
  if (g.stepHeight > 0) {
    ctx.fillStyle = colors.dim;
    ctx.fillText('steps', g.left - 8, g.stepTop + g.stepHeight / 2);
  }
}
