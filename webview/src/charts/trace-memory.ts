/**
 * Memory view charts of an imported trace: allocator bytes over time with the peak marked (a step
 * curve, like the profiler's memory chart) and small line charts of counter series. Pure: data and a
 * box in, SVG paths and pixel positions out. Time axes start at the trace's first event and reach
 * its span, so that they line up with the Timeline.
 */
import { curveStepAfter, line, scaleLinear } from 'd3';
import type { TraceCounter, TraceMemory } from '../../../engine/src/schema/trace';
import { formatBytes, formatCount, formatUs } from '../../../engine/src/util/format';
import { ChartBox, stepCurve, StepCurve, Tick } from './memory';

export interface TraceMemoryChart extends StepCurve {
  peak: { x: number; y: number; tUs: number; bytes: number; label: string };
}

/** `memory.timeline` in `box`, the x axis from 0 to `spanUs`, the peak at `peakAtUs` labelled with its device. */
export function traceMemoryChart(m: TraceMemory, box: ChartBox, spanUs: number): TraceMemoryChart {
  const highest = m.timeline.reduce((p, q) => (q.bytes > p.bytes ? q : p), m.timeline[0] ?? { tUs: m.peakAtUs, bytes: 0 });
  const peakBytes = Math.max(m.peakBytes, highest.bytes);
  const peakT = m.peakBytes >= highest.bytes ? m.peakAtUs : highest.tUs;
  const c = stepCurve(m.timeline, peakBytes, box, Math.max(spanUs, peakT));
  return { ...c, peak: { x: c.x(peakT), y: c.y(peakBytes), tUs: peakT, bytes: peakBytes, label: `peak ${formatBytes(peakBytes)} on ${m.device} at ${formatUs(peakT)}` } };
}

export interface CounterChart {
  line: string;
  xTicks: Tick[];
  yTicks: Tick[];
  /** The largest value and where it is drawn. */
  max: { x: number; y: number; value: number };
}

/** Compact value labels: `1.5 k`, `12.0 M`, `0.25`. */
export function counterValueLabel(v: number): string {
  if (Math.abs(v) >= 1000) return (v < 0 ? '−' : '') + formatCount(Math.abs(v)).replace(/\.0+ /, ' ');
  return String(+v.toPrecision(3));
}

/** A counter series as a step line in `box` (counters hold their value until the next sample). */
export function counterChart(c: TraceCounter, box: ChartBox, spanUs: number): CounterChart {
  const n = Math.min(c.tUs.length, c.values.length);
  let lo = 0;
  let hi = 0;
  let maxAt = 0;
  let maxT = Math.max(1, spanUs);
  for (let i = 0; i < n; i++) {
    if (c.values[i] < lo) lo = c.values[i];
    if (c.values[i] > hi) hi = c.values[i];
    if (c.values[i] > c.values[maxAt]) maxAt = i;
    if (c.tUs[i] > maxT) maxT = c.tUs[i];
  }
  const x = scaleLinear().domain([0, maxT]).range([box.left, box.width - box.right]);
  const y = scaleLinear()
    .domain([lo, hi > lo ? hi : lo + 1])
    .nice(4)
    .range([box.height - box.bottom, box.top]);
  const pts: Array<[number, number]> = [];
  for (let i = 0; i < n; i++) pts.push([x(c.tUs[i]), y(c.values[i])]);
  return {
    line: line<[number, number]>().curve(curveStepAfter)(pts) ?? '',
    xTicks: x.ticks(5).map((t) => ({ at: x(t), label: formatUs(t) })),
    yTicks: y.ticks(3).map((v) => ({ at: y(v), label: counterValueLabel(v) })),
    max: n ? { x: x(c.tUs[maxAt]), y: y(c.values[maxAt]), value: c.values[maxAt] } : { x: box.left, y: y(0), value: 0 },
  };
}
