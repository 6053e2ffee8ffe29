/**
 * The pipeline Gantt chart: one row per stage (device), time left to right, one rectangle per
 * F/B/W block and one idle mark per gap in a stage's work — the pipeline bubble made visible. Pure:
 * blocks and a box in, pixels out; the view draws them as SVG (or on a canvas when there are many)
 * and uses `blockAt` for hover.
 */
import { scaleLinear, ticks } from 'd3';
import type { BlockKind, TimelineBlock } from '../../../engine/src/schema/parallel';
import type { Tick } from './memory';

/** Geometry of the chart, CSS pixels. */
export interface GanttBox {
  width: number;
  /** Left gutter for the stage labels. */
  left: number;
  right: number;
  /** Height of the time axis above the rows. */
  top: number;
  rowHeight: number;
  /** Space between rows, pixels. */
  rowGap: number;
}

/** One block of work, placed. */
export interface GanttBlockMark {
  /** Index in the timeline the chart was made from. */
  index: number;
  stage: number;
  kind: BlockKind;
  microbatch: number;
  chunk: number;
  startUs: number;
  endUs: number;
  x: number;
  y: number;
  w: number;
  h: number;
  /** The micro-batch number when the block is wide enough to carry it, else null. */
  label: string | null;
}

/** A span of a stage's step when it runs nothing, microseconds since the start of the step. */
export interface IdleGap {
  stage: number;
  startUs: number;
  endUs: number;
}

export interface IdleMark extends IdleGap {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface GanttChart {
  blocks: GanttBlockMark[];
  idle: IdleMark[];
  rows: Array<{ stage: number; y: number; h: number; label: string }>;
  xTicks: Tick[];
  /** Full height of the chart, pixels. */
  height: number;
  /** Right edge of the plot area, pixels. */
  plotRight: number;
  makespanUs: number;
}

export const DEFAULT_GANTT_BOX: Omit<GanttBox, 'width'> = { left: 64, right: 16, top: 26, rowHeight: 26, rowGap: 6 };

/** Pixels a label needs per character (12px UI font), plus padding. */
const CHAR_PX = 7;
const LABEL_PAD = 4;

/**
 * Gaps of each stage's work over [0, makespanUs]: before its first block, between blocks, after its
 * last. Blocks of a stage never overlap in a simulation, but a measured timeline might; overlapping
 * blocks count as busy once. Gaps shorter than a billionth of the makespan are float noise, not idle.
 */
export function idleGaps(timeline: readonly TimelineBlock[], stages: number, makespanUs: number): IdleGap[] {
  const eps = Math.max(makespanUs, 1) * 1e-9;
  const byStage: TimelineBlock[][] = Array.from({ length: stages }, () => []);
  for (const b of timeline) if (b.stage >= 0 && b.stage < stages) byStage[b.stage].push(b);
  const gaps: IdleGap[] = [];
  byStage.forEach((blocks, stage) => {
    const sorted = [...blocks].sort((a, b) => a.startUs - b.startUs);
    let cursor = 0;
    for (const b of sorted) {
      if (b.startUs > cursor + eps) gaps.push({ stage, startUs: cursor, endUs: b.startUs });
      cursor = Math.max(cursor, b.endUs);
    }
    if (makespanUs > cursor + eps) gaps.push({ stage, startUs: cursor, endUs: makespanUs });
  });
  return gaps;
}

/** Idle time of each stage, microseconds (the sum of its gaps). */
export function idlePerStage(gaps: readonly IdleGap[], stages: number): number[] {
  const out = new Array<number>(stages).fill(0);
  for (const g of gaps) out[g.stage] += g.endUs - g.startUs;
  return out;
}

/** A round time-axis label: `500 µs`, `2.5 ms`, `1.2 s`. */
export function timeTick(us: number): string {
  if (us === 0) return '0';
  if (Math.abs(us) < 1000) return `${+us.toPrecision(3)} µs`;
  if (Math.abs(us) < 1e6) return `${+(us / 1000).toPrecision(3)} ms`;
  return `${+(us / 1e6).toPrecision(3)} s`;
}

/** Opacity of chunk `chunk` of `chunks` (interleaved): the first chunk full, later ones lighter. */
export function chunkAlpha(chunk: number, chunks: number): number {
  return chunks <= 1 ? 1 : 1 - (0.5 * chunk) / (chunks - 1);
}

/** Lays out `timeline` for `stages` rows over [0, makespanUs] in `box`. */
export function ganttChart(timeline: readonly TimelineBlock[], stages: number, makespanUs: number, box: GanttBox): GanttChart {
  const end = Math.max(makespanUs, ...timeline.map((b) => b.endUs), 1e-6);
  const plotRight = Math.max(box.left + 1, box.width - box.right);
  const x = scaleLinear().domain([0, end]).range([box.left, plotRight]);
  const rowY = (stage: number) => box.top + stage * (box.rowHeight + box.rowGap);
  const blocks: GanttBlockMark[] = timeline.map((b, index) => {
    const x0 = x(b.startUs);
    const w = Math.max(0, x(b.endUs) - x0);
    const label = String(b.microbatch);
    return { index, stage: b.stage, kind: b.kind, microbatch: b.microbatch, chunk: b.chunk, startUs: b.startUs, endUs: b.endUs, x: x0, y: rowY(b.stage), w, h: box.rowHeight, label: w >= label.length * CHAR_PX + LABEL_PAD ? label : null };
  });
  const idle: IdleMark[] = idleGaps(timeline, stages, end).map((g) => ({ ...g, x: x(g.startUs), y: rowY(g.stage), w: x(g.endUs) - x(g.startUs), h: box.rowHeight }));
  const rows = Array.from({ length: stages }, (_, stage) => ({ stage, y: rowY(stage), h: box.rowHeight, label: `stage ${stage}` }));
  // About one tick per 90 pixels keeps the labels apart.
  const count = Math.max(2, Math.floor((plotRight - box.left) / 90));
  const xTicks = ticks(0, end, count).map((v) => ({ at: x(v), label: timeTick(v) }));
  return { blocks, idle, rows, xTicks, height: rowY(stages) + 4, plotRight, makespanUs: end };
}

/** The block under a point (CSS pixels in the chart's frame), or undefined. */
export function blockAt(chart: GanttChart, px: number, py: number): GanttBlockMark | undefined {
  // Blocks are few per row (at most a few thousand in all) and hover is per pointer move: a scan is enough.
  let best: GanttBlockMark | undefined;
  for (const b of chart.blocks) {
    if (py < b.y || py > b.y + b.h) continue;
    // A block narrower than a pixel still answers within half a pixel of it.
    const pad = b.w < 1 ? 0.5 : 0;
    if (px >= b.x - pad && px <= b.x + b.w + pad && (!best || b.w > best.w)) best = b;
  }
  return best;
}

/** The idle gap under a point, or undefined. */
export function idleAt(chart: GanttChart, px: number, py: number): IdleMark | undefined {
  return chart.idle.find((g) => py >= g.y && py <= g.y + g.h && px >= g.x && px <= g.x + g.w);
}
