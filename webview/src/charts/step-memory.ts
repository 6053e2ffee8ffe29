/**
 * Memory over one training step: bytes in use after each kernel against kernel time, with the
 * forward, backward and optimizer stretches as bands behind the curve and the peak marked. Pure:
 * the timeline and a box in, marks in pixels out.
 */
import { area, curveStepAfter, line, scaleLinear } from 'd3';
import type { TrainMemory, TrainMemoryPoint, TrainPhase } from '../../../engine/src/schema/training';
import { formatBytes, formatUs } from '../../../engine/src/util/format';
import { byteTicks, ChartBox, Tick } from './memory';

/** A stretch of consecutive kernels of one phase, in microseconds since the step began. */
export interface PhaseRun {
  phase: TrainPhase;
  t0: number;
  t1: number;
}

/**
 * Consecutive points of the same phase merged into runs. A point is the state after its kernel, so
 * a run starts where the previous point ended (0 for the first).
 */
export function phaseRuns(timeline: readonly TrainMemoryPoint[]): PhaseRun[] {
  const runs: PhaseRun[] = [];
  let prevT = 0;
  for (const p of timeline) {
    const last = runs[runs.length - 1];
    if (last && last.phase === p.phase) last.t1 = p.tUs;
    else runs.push({ phase: p.phase, t0: prevT, t1: p.tUs });
    prevT = p.tUs;
  }
  return runs;
}

export interface StepMemoryChart {
  area: string;
  line: string;
  bands: Array<PhaseRun & { x0: number; x1: number }>;
  peak: { x: number; y: number; tUs: number; bytes: number; phase?: TrainPhase; label: string };
  /** Pixel x of each point, for the hover readout. */
  xs: number[];
  xTicks: Tick[];
  yTicks: Tick[];
}

export function stepMemoryChart(memory: TrainMemory, box: ChartBox): StepMemoryChart {
  const pts = memory.timeline;
  const maxT = Math.max(1, ...pts.map((p) => p.tUs));
  const highest = pts.reduce<TrainMemoryPoint | undefined>((m, p) => (!m || p.bytes > m.bytes ? p : m), undefined);
  const peakBytes = Math.max(memory.peakBytes, highest?.bytes ?? 0);
  const x = scaleLinear().domain([0, maxT]).range([box.left, box.width - box.right]);
  const yTicks = byteTicks(Math.max(1, peakBytes) * 1.08, 5);
  const y = scaleLinear()
    .domain([0, yTicks[yTicks.length - 1].value])
    .range([box.height - box.bottom, box.top]);
  const series = pts.map((p) => [x(p.tUs), y(p.bytes)] as [number, number]);
  const areaPath = area<[number, number]>()
    .x((d) => d[0])
    .y0(y(0))
    .y1((d) => d[1])
    .curve(curveStepAfter)(series);
  const peakT = highest?.tUs ?? 0;
  return {
    area: areaPath ?? '',
    line: line<[number, number]>().curve(curveStepAfter)(series) ?? '',
    bands: phaseRuns(pts).map((r) => ({ ...r, x0: x(r.t0), x1: x(r.t1) })),
    peak: { x: x(peakT), y: y(peakBytes), tUs: peakT, bytes: peakBytes, phase: highest?.phase, label: `peak ${formatBytes(peakBytes)}${highest ? ` in ${highest.phase}` : ''}` },
    xs: series.map((d) => d[0]),
    xTicks: x.ticks(6).map((t) => ({ at: x(t), label: formatUs(t) })),
    yTicks: yTicks.map((t) => ({ at: y(t.value), label: t.label })),
  };
}

export interface MemoryPart {
  key: 'weights' | 'optimizer' | 'activations';
  label: string;
  bytes: number;
  /** Of the three together (0–1). */
  fraction: number;
}

/** Weights, optimizer state and activations at the peak, as parts of one bar. */
export function memoryParts(m: Pick<TrainMemory, 'weightsBytes' | 'optimizerBytes' | 'activationsBytes'>): MemoryPart[] {
  const parts: Array<Omit<MemoryPart, 'fraction'>> = [
    { key: 'weights', label: 'weights', bytes: m.weightsBytes },
    { key: 'optimizer', label: 'optimizer state', bytes: m.optimizerBytes },
    { key: 'activations', label: 'activations and gradients', bytes: m.activationsBytes },
  ];
  const total = parts.reduce((s, p) => s + Math.max(0, p.bytes), 0);
  return parts.map((p) => ({ ...p, fraction: total > 0 ? Math.max(0, p.bytes) / total : 0 }));
}
