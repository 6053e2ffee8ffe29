/**
 * Memory view data: the in-use curve as SVG paths with its peak, the weights/activations split and
 * an estimate of the tensors live at the peak.
 */
import { area, curveStepAfter, line, nice, scaleLinear, ticks } from 'd3';
import type { InferenceRun, MemoryProfile, OpStat } from '../../../engine/src/schema/run';
import { formatBytes, formatUs } from '../../../engine/src/util/format';

export interface ChartBox {
  /** Outer size, pixels. */
  width: number;
  height: number;
  /** Margins around the plot area, pixels. */
  top: number;
  right: number;
  bottom: number;
  left: number;
}

export interface Tick {
  /** Position along its axis, pixels. */
  at: number;
  label: string;
}

export interface MemoryChart {
  /** SVG path of the area under the curve. */
  area: string;
  /** SVG path of the curve. */
  line: string;
  /** The peak marker: position in pixels, and its label. */
  peak: { x: number; y: number; tUs: number; bytes: number; label: string };
  xTicks: Tick[];
  yTicks: Tick[];
}

/**
 * Lays out `memory.timeline` (bytes in use after each node, µs since run start) as a step curve in
 * `box`. The peak is ORT's `peakBytes` at `peakAt` when known, else the highest sample.
 */
export function memoryChart(memory: MemoryProfile, box: ChartBox): MemoryChart {
  const pts = memory.timeline;
  const highest = pts.reduce((m, p) => (p.bytes > m.bytes ? p : m), pts[0] ?? { tUs: 0, bytes: 0 });
  const peakBytes = Math.max(memory.peakBytes, highest.bytes);
  const peakT = memory.peakAt?.tUs ?? highest.tUs;
  const c = stepCurve(pts, peakBytes, box, memory.peakAt?.tUs ?? 0);
  const node = memory.peakAt?.node;
  return {
    area: c.area,
    line: c.line,
    peak: { x: c.x(peakT), y: c.y(peakBytes), tUs: peakT, bytes: peakBytes, label: `peak ${formatBytes(peakBytes)}${node ? ` after ${node}` : ''}` },
    xTicks: c.xTicks,
    yTicks: c.yTicks,
  };
}

/** A bytes-over-time step curve laid out in `box`, with the scales to place other marks on it. */
export interface StepCurve {
  x: (tUs: number) => number;
  y: (bytes: number) => number;
  area: string;
  line: string;
  /** Pixel x of each point, for hover readouts. */
  xs: number[];
  xTicks: Tick[];
  yTicks: Tick[];
}

/** Lays out points (bytes in use from `tUs` on) as a step curve whose axis reaches `peakBytes` (and `minT`). */
export function stepCurve(pts: ReadonlyArray<{ tUs: number; bytes: number }>, peakBytes: number, box: ChartBox, minT = 0): StepCurve {
  const maxT = Math.max(1, minT, ...pts.map((p) => p.tUs));
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
  return {
    x,
    y,
    area: areaPath ?? '',
    line: line<[number, number]>().curve(curveStepAfter)(series) ?? '',
    xs: series.map((d) => d[0]),
    xTicks: x.ticks(6).map((t) => ({ at: x(t), label: formatUs(t) })),
    yTicks: yTicks.map((t) => ({ at: y(t.value), label: t.label })),
  };
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/**
 * About `count` ticks from 0 to at least `maxBytes` at round multiples of one binary unit (0, 4 MiB,
 * 8 MiB, …); the last tick is at or above `maxBytes`. Values in bytes, labels like `12 MiB`.
 */
export function byteTicks(maxBytes: number, count: number): Array<{ value: number; label: string }> {
  const power = Math.max(0, Math.min(UNITS.length - 1, Math.floor(Math.log(Math.max(1, maxBytes)) / Math.log(1024))));
  const unit = 1024 ** power;
  const [, top] = nice(0, maxBytes / unit, count);
  return ticks(0, top, count).map((t) => ({ value: t * unit, label: t === 0 ? '0' : `${+t.toFixed(3)} ${UNITS[power]}` }));
}

export interface MemorySplit {
  /** All initializers, bytes. */
  weightsBytes: number;
  /** Peak in use, bytes. */
  peakBytes: number;
  /** In use after the first node of the run, bytes (what the arena already held). */
  baselineBytes: number;
  /** Peak − baseline: what the run itself added at its peak, bytes (an estimate of activations). */
  activationsBytes: number;
}

/** Weights vs activations at the peak. */
export function memorySplit(memory: MemoryProfile): MemorySplit {
  const baselineBytes = memory.timeline[0]?.bytes ?? 0;
  return { weightsBytes: memory.weightsBytes, peakBytes: memory.peakBytes, baselineBytes, activationsBytes: Math.max(0, memory.peakBytes - baselineBytes) };
}

export interface LiveTensor {
  node: string;
  opType: string;
  /** Output index of the node. */
  output: number;
  shape: number[];
  /** Size assuming 4-byte elements, bytes. */
  bytes: number;
  /** When the producing kernel ended, microseconds since run start. */
  producedUs: number;
}

export interface LiveAtPeak {
  /** The node ORT reported the peak after, if it is in `ops`. */
  peakOp?: OpStat;
  /** Largest outputs of kernels that ended before the peak in the first profiled run, largest first. */
  tensors: LiveTensor[];
  /** Outputs produced before the peak, in all (not only those listed). */
  candidates: number;
  /** Always true: the Run records no consumers, so which outputs were still alive is not known. */
  estimate: true;
}

/** Bytes per element assumed for outputs (the Run does not record element types). */
export const ASSUMED_ELEMENT_BYTES = 4;

/**
 * What was plausibly live at the memory peak: the node at `memory.peakAt` and the `limit` largest
 * outputs produced before it in the first profiled run (the one `memory.timeline` comes from).
 */
export function liveAtPeak(run: InferenceRun, limit = 12): LiveAtPeak {
  const peak = run.memory.peakAt;
  const peakOp = peak ? run.ops.find((o) => o.node === peak.node) : undefined;
  if (!peak) return { peakOp, tensors: [], candidates: 0, estimate: true };
  const { op, run: runIdx, startUs, durUs } = run.trace;
  const all: LiveTensor[] = [];
  const seen = new Set<number>();
  for (let i = 0; i < op.length; i++) {
    if (runIdx[i] !== 0 || seen.has(op[i])) continue;
    const end = startUs[i] + durUs[i];
    if (end > peak.tUs) continue;
    seen.add(op[i]);
    const stat = run.ops[op[i]];
    if (!stat || stat.node === peak.node) continue;
    stat.outputShapes.forEach((shape, output) => {
      const elements = shape.reduce((p, d) => p * Math.max(0, d), 1);
      all.push({ node: stat.node, opType: stat.opType, output, shape, bytes: elements * ASSUMED_ELEMENT_BYTES, producedUs: end });
    });
  }
  all.sort((a, b) => b.bytes - a.bytes || b.producedUs - a.producedUs);
  return { peakOp, tensors: all.slice(0, limit), candidates: all.length, estimate: true };
}
