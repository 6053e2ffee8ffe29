/**
 * Validator of the imported-trace document (schema/trace.ts): a TraceRun read from a file, the run
 * store or IPC is checked field by field, with bounds on every array and every index checked against
 * the table it points into, so that a view never meets a malformed or runaway document.
 */
import {
  KERNEL_CATEGORIES,
  LANE_KINDS,
  MAX_TRACE_MEMORY_POINTS,
  MAX_TRACE_TIMELINE_EVENTS,
  TRACE_FORMATS,
  TRACE_SCHEMA_VERSION,
  TraceCommunication,
  TraceCounter,
  TraceDevice,
  TraceDistributed,
  TraceFrame,
  TraceGpu,
  TraceGpuDevice,
  TraceKernel,
  TraceLane,
  TraceMemory,
  TraceMeta,
  TraceOpType,
  TraceRun,
  TraceSource,
  TraceStep,
  TraceTimeline,
} from './trace';
import { arrayUpTo, bool, literal, nullable, numberIn, object, oneOf, optional, parseJsonText, strUpTo, Validator } from './validate';
import { TwbError } from '../util/errors';

/** Distinct op names, kernel names and frames of one trace: real traces stay in the thousands. */
const MAX_ROWS = 1_000_000;
const MAX_DEVICES = 4096;
const MAX_STEPS = 1_000_000;
const MAX_LANES = 100_000;
const MAX_COUNTERS = 256;
const MAX_WARNINGS = 1000;
/** Kernel names of templated CUDA code run to several thousand characters. */
const MAX_NAME = 100_000;
const MAX_TEXT = 10_000;

const count = numberIn(0, Number.MAX_SAFE_INTEGER, true);
const nonNegative = numberIn(0, Number.MAX_VALUE);
const anyNumber = numberIn(-Number.MAX_VALUE, Number.MAX_VALUE);
const fraction = numberIn(0, 1);
const name = strUpTo(MAX_NAME);
const text = strUpTo(MAX_TEXT);

const source = object<TraceSource>({
  file: text,
  name: text,
  format: oneOf(TRACE_FORMATS),
  fileBytes: count,
  jsonBytes: count,
  gzip: bool,
  events: count,
  truncated: optional(object({ atByte: count, detail: text })),
});

const device = object<TraceDevice>({
  id: anyNumber,
  name: text,
  totalMemoryBytes: optional(nonNegative),
  computeCapability: optional(text),
});

const distributed = object<TraceDistributed>({ rank: anyNumber, worldSize: nullable(anyNumber), backend: nullable(text) });

const meta = object<TraceMeta>({
  traceName: optional(text),
  schemaVersion: optional(anyNumber),
  devices: arrayUpTo(device, MAX_DEVICES),
});

const frame = object<TraceFrame>({ file: text, line: count, fn: name });

const opType = object<TraceOpType>({
  opType: name,
  calls: count,
  selfUs: anyNumber,
  totalUs: nonNegative,
  selfShare: anyNumber,
  sources: optional(arrayUpTo(object({ frame: count, calls: count }), 3)),
});

const kernel = object<TraceKernel>({
  name,
  calls: count,
  totalUs: nonNegative,
  meanUs: nonNegative,
  maxUs: nonNegative,
  category: oneOf(KERNEL_CATEGORIES),
  launchers: arrayUpTo(object({ opType: name, calls: count, totalUs: nonNegative }), 5),
});

const gpuDevice = object<TraceGpuDevice>({ device: anyNumber, kernelUs: nonNegative, busyUs: nonNegative, idleUs: nonNegative, utilization: fraction, spanUs: nonNegative });
const gpu = object<TraceGpu>({ devices: arrayUpTo(gpuDevice, MAX_DEVICES), spanUs: nonNegative });
const communication = object<TraceCommunication>({ commUs: nonNegative, computeUs: nonNegative, overlapUs: nonNegative, overlapShare: fraction });

const memory = object<TraceMemory>({
  device: text,
  peakBytes: anyNumber,
  peakAtUs: anyNumber,
  devices: arrayUpTo(object({ device: text, peakBytes: anyNumber }), MAX_DEVICES),
  timeline: arrayUpTo(object({ tUs: anyNumber, bytes: anyNumber }), MAX_TRACE_MEMORY_POINTS),
});

const step = object<TraceStep>({ name, step: anyNumber, startUs: anyNumber, durUs: nonNegative });

const numbers = (max: number, item: Validator<number>): Validator<number[]> => arrayUpTo(item, max);
const timelineShape = object<TraceTimeline>({
  lanes: arrayUpTo(object<TraceLane>({ name: text, kind: oneOf(LANE_KINDS) }), MAX_LANES),
  names: arrayUpTo(name, MAX_TRACE_TIMELINE_EVENTS),
  lane: numbers(MAX_TRACE_TIMELINE_EVENTS, count),
  startUs: numbers(MAX_TRACE_TIMELINE_EVENTS, anyNumber),
  durUs: numbers(MAX_TRACE_TIMELINE_EVENTS, nonNegative),
  name: numbers(MAX_TRACE_TIMELINE_EVENTS, count),
  depth: numbers(MAX_TRACE_TIMELINE_EVENTS, count),
  frame: numbers(MAX_TRACE_TIMELINE_EVENTS, numberIn(-1, Number.MAX_SAFE_INTEGER, true)),
  dropped: count,
});

const counter = object<TraceCounter>({ name, tUs: numbers(MAX_TRACE_MEMORY_POINTS, anyNumber), values: numbers(MAX_TRACE_MEMORY_POINTS, anyNumber) });

const traceRun = object<TraceRun>({
  schemaVersion: literal(TRACE_SCHEMA_VERSION),
  kind: literal('trace'),
  id: text,
  createdAt: text,
  source,
  meta,
  distributed: optional(distributed),
  spanUs: nonNegative,
  opTypes: arrayUpTo(opType, MAX_ROWS),
  kernels: arrayUpTo(kernel, MAX_ROWS),
  gpu: nullable(gpu),
  communication: nullable(communication),
  memory: optional(memory),
  steps: arrayUpTo(step, MAX_STEPS),
  timeline: timelineShape,
  frames: arrayUpTo(frame, MAX_ROWS),
  counters: optional(arrayUpTo(counter, MAX_COUNTERS)),
  warnings: arrayUpTo(text, MAX_WARNINGS),
});

/** Columns of equal length whose indices point into lanes, names and frames. */
function checkTimeline(t: TraceTimeline, frames: number): void {
  const n = t.lane.length;
  for (const key of ['startUs', 'durUs', 'name', 'depth', 'frame'] as const) {
    if (t[key].length !== n) throw new TwbError('io', `trace.timeline.${key}: ${t[key].length} values for ${n} events (the columns must have equal lengths)`);
  }
  for (let i = 0; i < n; i++) {
    if (t.lane[i] >= t.lanes.length) throw new TwbError('io', `trace.timeline.lane[${i}]: lane ${t.lane[i]} does not exist (${t.lanes.length} lanes)`);
    if (t.name[i] >= t.names.length) throw new TwbError('io', `trace.timeline.name[${i}]: name ${t.name[i]} does not exist (${t.names.length} names)`);
    if (t.frame[i] >= frames) throw new TwbError('io', `trace.timeline.frame[${i}]: frame ${t.frame[i]} does not exist (${frames} frames)`);
  }
}

/** Validates a parsed trace document; throws an io error naming the bad path. */
export function validateTraceRun(v: unknown): TraceRun {
  const version = v && typeof v === 'object' ? (v as { schemaVersion?: unknown }).schemaVersion : undefined;
  if (version !== undefined && version !== TRACE_SCHEMA_VERSION) {
    throw new TwbError('io', `trace document has schemaVersion ${String(version)}; this version of the workbench reads ${TRACE_SCHEMA_VERSION}`);
  }
  const run = traceRun(v, 'trace');
  checkTimeline(run.timeline, run.frames.length);
  run.opTypes.forEach((o, i) =>
    o.sources?.forEach((s, k) => {
      if (s.frame >= run.frames.length) throw new TwbError('io', `trace.opTypes[${i}].sources[${k}].frame: frame ${s.frame} does not exist (${run.frames.length} frames)`);
    }),
  );
  run.counters?.forEach((c, i) => {
    if (c.tUs.length !== c.values.length) throw new TwbError('io', `trace.counters[${i}]: ${c.tUs.length} times for ${c.values.length} values`);
  });
  return run;
}

/** Parses and validates the JSON text of a trace document. */
export function parseTraceRun(text: string): TraceRun {
  return validateTraceRun(parseJsonText(text));
}
