/**
 * Overview of an imported trace: where it came from, its devices and distributed setup, steps, GPU
 * utilization and idle time, communication against computation, the memory peak, the top host ops
 * and kernels, and the importer's warnings. Every figure is measured from the trace; the notes say
 * how.
 */
import type { TraceRun } from '../../../engine/src/schema/trace';
import { formatBytes, formatPercent, formatUs } from '../../../engine/src/util/format';
import { card, errorBox, facts, h } from '../dom';
import { localTime } from '../model/run-label';
import { deviceLabel, distributedLabel, formatName } from '../model/trace-labels';
import { gpuTotals, kernelCategoryTotals, stepStats, topHostOps, topKernels } from '../model/trace-summary';
import { opSources } from '../model/trace-tables';
import type { TraceViewContext } from './trace-context';
import { barList, frameLink, shareCell, stat } from './trace-parts';
import type { Fittable } from './view';

const count = (n: number) => n.toLocaleString('en-US');
/** Steps drawn as bars before the rest are summarised. */
const STEP_BARS = 40;

export function renderTraceOverview(root: HTMLElement, t: TraceRun, ctx: TraceViewContext): Fittable[] {
  root.replaceChildren(
    h(
      'div',
      { class: 'twb-overview twb-trace-overview', attrs: { 'data-trace': t.id } },
      h('header', { class: 'twb-view-header' }, h('h1', {}, t.source.name), h('p', { class: 'twb-dim' }, `${formatName(t.source.format)} · imported ${localTime(t.createdAt)} · ${count(t.source.events)} events`)),
      t.source.truncated ? errorBox({ message: `The file ends at byte ${count(t.source.truncated.atByte)} before its event list closes (${t.source.truncated.detail}).`, hint: 'The events before the cut were imported: every figure below covers only them.' }, 'Truncated trace') : null,
      headline(t),
      h('div', { class: 'twb-grid' }, sourceCard(t), devicesCard(t), stepsCard(t), gpuCard(t), commCard(t), memoryCard(t)),
      h('div', { class: 'twb-grid' }, card('Top host ops by self time', hostBars(t, ctx)), card('Top GPU kernels by time', kernelBars(t))),
      card('Warnings', t.warnings.length ? h('ul', { class: 'twb-warnings' }, ...t.warnings.map((w) => h('li', {}, w))) : h('p', { class: 'twb-dim' }, 'No warnings: the importer read every event as the format describes it.')),
    ),
  );
  return [];
}

function headline(t: TraceRun): HTMLElement {
  const steps = stepStats(t.steps);
  const gpu = gpuTotals(t.gpu);
  const comm = t.communication;
  const mem = t.memory;
  return h(
    'div',
    { class: 'twb-stats' },
    stat('span', formatUs(t.spanUs), 'first event to the end of the last', 'span'),
    steps ? stat('mean step', formatUs(steps.meanUs), `${steps.count} ProfilerStep${steps.count === 1 ? '' : 's'}, ${formatUs(steps.minUs)} – ${formatUs(steps.maxUs)}`, 'step') : stat('steps', 'none', 'no ProfilerStep#N in the trace', 'step'),
    gpu ? stat('GPU utilization', formatPercent(gpu.utilization), `busy ÷ span over ${gpu.devices} device${gpu.devices === 1 ? '' : 's'}`, 'gpu-utilization') : stat('GPU', 'none', 'no GPU activity in the trace', 'gpu-utilization'),
    gpu ? stat('GPU idle', formatUs(gpu.idleUs), 'span − busy, summed over devices', 'gpu-idle') : null,
    comm ? stat('comm. overlap', formatPercent(comm.overlapShare), `of ${formatUs(comm.commUs)} communication hidden behind compute`, 'overlap') : null,
    mem ? stat('memory peak', formatBytes(mem.peakBytes), `${mem.device} at ${formatUs(mem.peakAtUs)}`, 'memory-peak') : null,
    stat('host ops', count(t.opTypes.length), `distinct names, ${count(t.opTypes.reduce((s, o) => s + o.calls, 0))} calls`, 'ops'),
    t.kernels.length ? stat('GPU kernels', count(t.kernels.length), `distinct names, ${count(t.kernels.reduce((s, k) => s + k.calls, 0))} launches`, 'kernels') : null,
  );
}

function sourceCard(t: TraceRun): HTMLElement {
  const s = t.source;
  return card(
    'Source',
    facts([
      ['file', h('span', { class: 'twb-mono twb-trace-path', attrs: { title: s.file } }, s.file)],
      ['format', formatName(s.format)],
      ['on disk', `${formatBytes(s.fileBytes)}${s.gzip ? ' (gzip)' : ''}`],
      ['JSON', formatBytes(s.jsonBytes)],
      ['events', `${count(s.events)}${s.truncated ? ' (file truncated)' : ''}`],
      ...(t.meta.traceName ? ([['trace name', h('span', { class: 'twb-mono twb-trace-path', attrs: { title: t.meta.traceName } }, t.meta.traceName)]] as Array<[string, HTMLElement]>) : []),
      ...(t.meta.schemaVersion !== undefined ? ([['Kineto schema', String(t.meta.schemaVersion)]] as Array<[string, string]>) : []),
      ['timeline', `${count(t.timeline.lane.length)} events in ${t.timeline.lanes.length} lanes${t.timeline.dropped ? `, ${count(t.timeline.dropped)} left out (only the first ${count(t.timeline.lane.length)} are kept)` : ''}`],
    ]),
  );
}

function devicesCard(t: TraceRun): HTMLElement {
  const d = t.distributed;
  return card(
    'Devices and distribution',
    t.meta.devices.length
      ? h('ul', { class: 'twb-trace-devices' }, ...t.meta.devices.map((x) => h('li', { attrs: { 'data-device': x.id } }, deviceLabel(x))))
      : h('p', { class: 'twb-dim' }, t.gpu ? 'The trace lists no device properties.' : 'No accelerator: the trace records host activity only.'),
    d ? facts([['distributed', distributedLabel(d)], ['rank', String(d.rank)], ['world size', d.worldSize === null ? 'not recorded' : String(d.worldSize)], ['backend', d.backend ?? 'not recorded']]) : h('p', { class: 'twb-dim' }, 'Not a distributed run (no distributedInfo).'),
  );
}

function stepsCard(t: TraceRun): HTMLElement {
  const s = stepStats(t.steps);
  if (!s) return card('Steps', h('p', { class: 'twb-dim' }, 'No ProfilerStep#N events: wrap the loop body in a profiler schedule and call prof.step() to see per-step times.'));
  const shown = t.steps.slice(0, STEP_BARS);
  return card(
    'Steps',
    facts([
      ['steps', String(s.count)],
      ['mean', formatUs(s.meanUs)],
      ['min', formatUs(s.minUs)],
      ['max', `${formatUs(s.maxUs)} (${s.slowest})`],
    ]),
    h(
      'div',
      { class: 'twb-bars twb-trace-steps', attrs: { role: 'list' } },
      ...shown.map((st) => h('div', { class: 'twb-bar-row', attrs: { role: 'listitem', 'data-step': st.step } }, h('span', { class: 'twb-bar-label' }, `#${st.step}`), h('span', { class: 'twb-bar-track' }, h('span', { class: 'twb-bar-fill', css: { width: `${((st.durUs / Math.max(1, s.maxUs)) * 100).toFixed(2)}%` } })), h('span', { class: 'twb-bar-value' }, formatUs(st.durUs)))),
    ),
    t.steps.length > shown.length ? h('p', { class: 'twb-dim' }, `and ${t.steps.length - shown.length} more steps`) : null,
  );
}

function gpuCard(t: TraceRun): HTMLElement {
  if (!t.gpu) return card('GPU', h('p', { class: 'twb-dim' }, 'No GPU kernels, copies or memsets in this trace.'));
  const names = new Map(t.meta.devices.map((d) => [d.id, d.name]));
  const cats = kernelCategoryTotals(t);
  return card(
    'GPU utilization and idle time',
    h(
      'div',
      { class: 'twb-table-wrap' },
      h(
        'table',
        { class: 'twb-table twb-compact twb-trace-gpu' },
      h('thead', {}, h('tr', {}, h('th', {}, 'device'), h('th', {}, 'utilization'), h('th', { class: 'twb-num' }, 'busy'), h('th', { class: 'twb-num' }, 'idle'), h('th', { class: 'twb-num' }, 'kernel time'), h('th', { class: 'twb-num' }, 'span'))),
      h('tbody', {}, ...t.gpu.devices.map((d) => h('tr', { attrs: { 'data-device': d.device } }, h('td', { attrs: { title: names.get(d.device) } }, `GPU ${d.device}`), h('td', {}, shareCell(d.utilization)), h('td', { class: 'twb-num' }, formatUs(d.busyUs)), h('td', { class: 'twb-num' }, formatUs(d.idleUs)), h('td', { class: 'twb-num' }, formatUs(d.kernelUs)), h('td', { class: 'twb-num' }, formatUs(d.spanUs))))),
      ),
    ),
    h('p', { class: 'twb-dim' }, 'Busy: the union of kernel, copy and memset intervals on all streams of the device; span: its first activity to the end of its last; kernel time sums kernels alone, so concurrent streams count twice.'),
    facts(cats.map((c) => [c.category, `${formatUs(c.totalUs)} · ${count(c.calls)} calls of ${c.names} name${c.names === 1 ? '' : 's'}`])),
  );
}

function commCard(t: TraceRun): HTMLElement {
  const c = t.communication;
  if (!c) return card('Communication vs computation', h('p', { class: 'twb-dim' }, t.gpu ? 'No collective-communication (NCCL/RCCL) kernels ran.' : 'No GPU activity.'));
  const whole = Math.max(1, c.commUs + c.computeUs - c.overlapUs);
  const seg = (cls: string, us: number, label: string) => h('span', { class: cls, attrs: { title: `${label}: ${formatUs(us)}` }, css: { width: `${((Math.max(0, us) / whole) * 100).toFixed(2)}%` } });
  return card(
    'Communication vs computation',
    h('div', { class: 'twb-split twb-trace-comm', attrs: { role: 'img', 'aria-label': `computation only, overlap, communication only` } }, seg('twb-trace-compute', c.computeUs - c.overlapUs, 'computation only'), seg('twb-trace-overlap', c.overlapUs, 'both at once'), seg('twb-trace-comm-only', c.commUs - c.overlapUs, 'communication only')),
    facts([
      [h('span', {}, h('span', { class: 'twb-swatch twb-trace-compute' }), 'computation'), formatUs(c.computeUs)],
      [h('span', {}, h('span', { class: 'twb-swatch twb-trace-comm-only' }), 'communication'), formatUs(c.commUs)],
      [h('span', {}, h('span', { class: 'twb-swatch twb-trace-overlap' }), 'overlap'), `${formatUs(c.overlapUs)} (${formatPercent(c.overlapShare)} of communication hidden)`],
    ]),
    h('p', { class: 'twb-dim' }, 'Unions of kernel intervals per device, summed over devices; communication is NCCL/RCCL collective kernels. Communication not overlapped with computation is exposed: the GPU waits for it.'),
  );
}

function memoryCard(t: TraceRun): HTMLElement {
  const m = t.memory;
  if (!m) return card('Memory', h('p', { class: 'twb-dim' }, 'No memory events: profile with profile_memory=True to record allocations.'));
  return card(
    'Memory',
    facts([
      ['peak', `${formatBytes(m.peakBytes)} on ${m.device}`],
      ['when', `${formatUs(m.peakAtUs)} after the first event`],
      ...m.devices.filter((d) => d.device !== m.device).map((d) => [`peak on ${d.device}`, formatBytes(d.peakBytes)] as [string, string]),
    ]),
    h('p', { class: 'twb-dim' }, 'Bytes allocated by the caching allocator, from the [memory] events; memory reserved but not allocated is not counted.'),
  );
}

function hostBars(t: TraceRun, ctx: TraceViewContext): HTMLElement {
  const bars = topHostOps(t, 10);
  if (bars.length === 0) return h('p', { class: 'twb-dim' }, 'No host operators in this trace.');
  return h(
    'div',
    {},
    barList(bars, formatUs, 'twb-trace-top-ops', (b) => {
      const src = opSources(t, b.label)[0];
      return src ? h('span', { class: 'twb-trace-bar-source' }, ' · ', frameLink(src.frame, ctx)) : null;
    }),
    h('p', { class: 'twb-dim' }, 'Self time: each call’s duration minus that of the ops it called, summed; shares are of all host self time (as key_averages() reports it).'),
  );
}

function kernelBars(t: TraceRun): HTMLElement {
  const bars = topKernels(t, 10);
  if (bars.length === 0) return h('p', { class: 'twb-dim' }, 'No GPU kernels in this trace.');
  return h('div', {}, barList(bars, formatUs, 'twb-trace-top-kernels'), h('p', { class: 'twb-dim' }, 'GPU time summed over all launches, devices and streams; shares are of all GPU time (copies and memsets included).'));
}
