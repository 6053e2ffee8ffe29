/**
 * Memory over one training step: bytes in use after each kernel against kernel time, with the
 * forward, backward and optimizer stretches as bands behind the curve and the peak marked. Pure:
 * the timeline and a box in, marks in pixels out.
 */
import type { TrainMemory, TrainMemoryPoint, TrainPhase } from '../../../engine/src/schema/training';
import { formatBytes } from '../../../engine/src/util/format';
import { ChartBox, stepCurve, Tick } from './memory';

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
  const highest = pts.reduce<TrainMemoryPoint | undefined>((m, p) => (!m || p.bytes > m.bytes ? p : m), undefined);
  const peakBytes = Math.max(memory.peakBytes, highest?.bytes ?? 0);
  const peakT = highest?.tUs ?? 0;
  const c = stepCurve(pts, peakBytes, box);
  return {
    area: c.area,
    line: c.line,
    bands: phaseRuns(pts).map((r) => ({ ...r, x0: c.x(r.t0), x1: c.x(r.t1) })),
    peak: { x: c.x(peakT), y: c.y(peakBytes), tUs: peakT, bytes: peakBytes, phase: highest?.phase, label: `peak ${formatBytes(peakBytes)}${highest ? ` in ${highest.phase}` : ''}` },
    xs: c.xs,
    xTicks: c.xTicks,
    yTicks: c.yTicks,
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
