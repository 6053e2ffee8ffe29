/**
 * Turns the collected columns of one trace into the TraceRun document: format, host op table (or
 * ORT's), kernels and launchers, GPU utilization and overlap, memory, steps, timeline, frames,
 * counters, metadata and the warnings that say what the importer had to tolerate.
 */
import * as path from 'node:path';
import { TRACE_SCHEMA_VERSION, TraceCounter, TraceDevice, TraceDistributed, TraceFormat, TraceMeta, TraceRun, TraceSource, MAX_TRACE_MEMORY_POINTS, MAX_TRACE_TIMELINE_EVENTS } from '../schema/trace';
import { resultId } from '../util/result-id';
import type { TraceCollector } from './collect';
import { IS_ANY } from './event-kinds';
import { gpuSummary } from './gpu';
import { buildHostTree, hostOpTable } from './host-ops';
import { kernelTable } from './kernels';
import { downsampleMax, memorySummary } from './memory';
import { laneOrders, timeEpsilon } from './nest';
import { ortOpTable } from './ort-ops';
import { addSources, attachPythonFrames } from './stacks';
import { stepsOf } from './steps';
import { buildTimeline } from './timeline';

/** What the reader learnt about the file (see read-trace.ts's TraceReadResult). */
export interface ReadFacts {
  file: string;
  container: 'object' | 'array';
  gzip: boolean;
  fileBytes: number;
  jsonBytes: number;
  events: number;
  truncated?: { atByte: number; detail: string };
  warnings: string[];
}

const MAX_COUNTER_SERIES = 256;
const KINETO_META_KEYS = ['deviceProperties', 'distributedInfo', 'traceName', 'baseTimeNanoseconds'];

export function analyzeTrace(c: TraceCollector, facts: ReadFacts, now: Date, opts: { timelineCap?: number } = {}): TraceRun {
  c.finish();
  const rows = c.rows;
  const ts = c.ts.view();
  const dur = c.dur.view();
  const end = new Float64Array(rows);
  for (let r = 0; r < rows; r++) end[r] = ts[r] + dur[r];
  const t0 = Number.isFinite(c.minTs) ? c.minTs : 0;
  const eps = timeEpsilon(Math.max(Math.abs(t0), Math.abs(Number.isFinite(c.maxEnd) ? c.maxEnd : 0)));
  const format = formatOf(c, facts.container);
  const warnings = [...facts.warnings, ...collectWarnings(c, facts)];

  const laneRows = laneOrders(c.lanes.size, c.lane.view(), c.kind.view(), IS_ANY, ts, end);
  const tree = buildHostTree(c, laneRows, end, eps);
  const host = hostOpTable(c, tree);
  let opTypes = host.opTypes;
  if (format === 'ort') {
    const ort = ortOpTable(c);
    opTypes = ort.opTypes;
    if (ort.outsideRuns > 0) warnings.push(`${ort.outsideRuns} kernel events ran outside every model_run span (session initialisation) and are left out of the op table, as twb profile leaves them out`);
  } else {
    attachPythonFrames(c, tree, end);
    addSources(c, tree, host);
  }
  if (tree.partialOverlaps > 0) warnings.push(`${tree.partialOverlaps} host events overlap an enclosing event only partly (not properly nested); like PyTorch, the importer counts them as its siblings`);

  const kernels = kernelTable(c, tree, host.keys);
  if (kernels.activities > kernels.launched) warnings.push(`${kernels.activities - kernels.launched} of ${kernels.activities} GPU activities could not be traced to the runtime call that launched them (no correlation id or launch flow matched)`);
  if (kernels.launched > kernels.linked) warnings.push(`${kernels.launched - kernels.linked} of ${kernels.activities} GPU activities were launched outside every host op, so they have no launching op`);
  const { gpu, communication } = gpuSummary(c, end);
  const { memory, lifted } = memorySummary(c, t0);
  if (lifted.length > 0) warnings.push(`memory events of ${lifted.join(', ')} carry only allocation sizes and free more than they allocate: memory allocated before recording is unknown, so the curve is lifted to start at zero (a lower bound)`);
  const cap = opts.timelineCap ?? MAX_TRACE_TIMELINE_EVENTS;
  const timeline = buildTimeline(c, laneRows, tree, end, eps, t0, cap);
  if (timeline.dropped > 0) warnings.push(`the timeline keeps ${rows - timeline.dropped} of ${rows} events (GPU activity and the outer host levels first)`);
  const counters = countersOf(c, t0, warnings);
  if (rows === 0 && c.memTs.length === 0 && c.counterTs.length === 0) warnings.push('the trace holds no events with a time');

  const source: TraceSource = {
    file: facts.file,
    name: path.basename(facts.file),
    format,
    fileBytes: facts.fileBytes,
    jsonBytes: facts.jsonBytes,
    gzip: facts.gzip,
    events: facts.events,
    ...(facts.truncated ? { truncated: facts.truncated } : {}),
  };
  const run: TraceRun = {
    schemaVersion: TRACE_SCHEMA_VERSION,
    kind: 'trace',
    id: resultId(now, traceSlug(source.name), 'trace'),
    createdAt: now.toISOString(),
    source,
    meta: metaOf(c.meta),
    ...distributedOf(c.meta),
    spanUs: Number.isFinite(c.maxEnd) && Number.isFinite(c.minTs) ? c.maxEnd - c.minTs : 0,
    opTypes,
    kernels: kernels.kernels,
    gpu,
    communication,
    ...(memory ? { memory } : {}),
    steps: stepsOf(c, host.stepRows, t0),
    timeline,
    frames: c.frames.list,
    ...(counters.length > 0 ? { counters } : {}),
    warnings,
  };
  return run;
}

function formatOf(c: TraceCollector, container: 'object' | 'array'): TraceFormat {
  if (c.sawKineto || KINETO_META_KEYS.some((k) => k in c.meta)) return 'kineto';
  if (c.sawOrt && container === 'array') return 'ort';
  return 'chrome';
}

/** `worker0.1623143089861.pt.trace.json.gz` → `worker0.1623143089861` for the id. */
function traceSlug(name: string): string {
  return name.replace(/\.gz$/i, '').replace(/\.json$/i, '').replace(/\.pt\.trace$/i, '') || 'trace';
}

function collectWarnings(c: TraceCollector, facts: ReadFacts): string[] {
  const w: string[] = [];
  const n = c.counts;
  if (facts.truncated) w.push(`the file ends before its event array closes (byte ${facts.truncated.atByte}: ${facts.truncated.detail}); the ${facts.events} events before the cut were imported`);
  if (n.nonObject > 0) w.push(`${n.nonObject} trace events were not JSON objects and were skipped`);
  if (n.badTime > 0) w.push(`${n.badTime} events had no valid "ts" and were skipped`);
  if (n.noDuration > 0) w.push(`${n.noDuration} complete ("X") events had no "dur"; they count as lasting 0 µs`);
  if (n.negativeDuration > 0) w.push(`${n.negativeDuration} events had a negative "dur"; they count as lasting 0 µs`);
  if (n.unmatchedEnd > 0) w.push(`${n.unmatchedEnd} "E" events closed no open "B" event of their thread and were skipped`);
  if (n.unclosedBegin > 0) w.push(`${n.unclosedBegin} "B" events were never closed by an "E" event and were skipped`);
  return w;
}

function countersOf(c: TraceCollector, t0: number, warnings: string[]): TraceCounter[] {
  if (c.counterTs.length === 0) return [];
  const series = c.counterSeries.values.map((name) => ({ name, points: [] as Array<{ tUs: number; value: number }> }));
  for (let k = 0; k < c.counterTs.length; k++) series[c.counterOf.data[k]].points.push({ tUs: c.counterTs.data[k] - t0, value: c.counterValue.data[k] });
  if (series.length > MAX_COUNTER_SERIES) warnings.push(`${series.length} counter series; the first ${MAX_COUNTER_SERIES} are kept`);
  return series.slice(0, MAX_COUNTER_SERIES).map((s) => {
    const pts = downsampleMax(s.points.sort((a, b) => a.tUs - b.tUs), MAX_TRACE_MEMORY_POINTS, (p) => p.value);
    return { name: s.name, tUs: pts.map((p) => p.tUs), values: pts.map((p) => p.value) };
  });
}

function metaOf(meta: Record<string, unknown>): TraceMeta {
  const out: TraceMeta = { devices: [] };
  if (typeof meta.traceName === 'string') out.traceName = meta.traceName;
  if (typeof meta.schemaVersion === 'number') out.schemaVersion = meta.schemaVersion;
  if (Array.isArray(meta.deviceProperties)) {
    meta.deviceProperties.forEach((p, i) => {
      if (!p || typeof p !== 'object') return;
      const d = p as Record<string, unknown>;
      const dev: TraceDevice = { id: typeof d.id === 'number' ? d.id : i, name: typeof d.name === 'string' ? d.name : `device ${i}` };
      if (typeof d.totalGlobalMem === 'number') dev.totalMemoryBytes = d.totalGlobalMem;
      if (typeof d.computeMajor === 'number' && typeof d.computeMinor === 'number') dev.computeCapability = `${d.computeMajor}.${d.computeMinor}`;
      out.devices.push(dev);
    });
  }
  return out;
}

/** `{ distributed }` from the trace's `distributedInfo` (older traces carry only the rank), or nothing. */
function distributedOf(meta: Record<string, unknown>): { distributed?: TraceDistributed } {
  const info = meta.distributedInfo as Record<string, unknown> | undefined;
  if (!info || typeof info !== 'object' || typeof info.rank !== 'number') return {};
  return {
    distributed: {
      rank: info.rank,
      worldSize: typeof info.world_size === 'number' ? info.world_size : null,
      backend: typeof info.backend === 'string' ? info.backend : null,
    },
  };
}
