/**
 * Memory of an imported trace: bytes allocated over time on the device with the highest peak (from
 * the `[memory]` events), the peak marked, every device's peak, and the trace's counter series as
 * small line charts. Without memory events it says how to record them.
 */
import type { TraceCounter, TraceMemory, TraceRun } from '../../../engine/src/schema/trace';
import { formatBytes, formatUs } from '../../../engine/src/util/format';
import type { ChartBox } from '../charts/memory';
import { counterChart, counterValueLabel, traceMemoryChart } from '../charts/trace-memory';
import { card, emptyState, facts, h, s as svg } from '../dom';
import { chartSlot } from './chart-slot';
import type { Fittable } from './view';

const HEIGHT = 280;
const BOX = { top: 28, right: 24, bottom: 28, left: 76 };
const COUNTER_HEIGHT = 120;
const COUNTER_BOX = { top: 12, right: 16, bottom: 22, left: 56 };

function memorySvg(m: TraceMemory, spanUs: number, width: number): SVGSVGElement {
  const box: ChartBox = { ...BOX, width, height: HEIGHT };
  const c = traceMemoryChart(m, box, spanUs);
  const labelLeft = c.peak.x > width * 0.6;
  return svg(
    'svg',
    { class: 'twb-memory-chart twb-trace-memory-chart', attrs: { width, height: HEIGHT, viewBox: `0 0 ${width} ${HEIGHT}`, role: 'img', 'aria-label': `Memory allocated on ${m.device} over time; ${c.peak.label}` } },
    ...c.yTicks.map((t) => svg('g', { class: 'twb-tick' }, svg('line', { attrs: { x1: BOX.left, x2: width - BOX.right, y1: t.at, y2: t.at } }), svg('text', { attrs: { x: BOX.left - 8, y: t.at + 4, 'text-anchor': 'end' } }, t.label))),
    ...c.xTicks.map((t) => svg('text', { class: 'twb-tick', attrs: { x: t.at, y: HEIGHT - 8, 'text-anchor': 'middle' } }, t.label)),
    svg('path', { class: 'twb-memory-area', attrs: { d: c.area } }),
    svg('path', { class: 'twb-memory-line', attrs: { d: c.line } }),
    svg('line', { class: 'twb-peak-rule', attrs: { x1: c.peak.x, x2: c.peak.x, y1: c.peak.y, y2: HEIGHT - BOX.bottom } }),
    svg('circle', { class: 'twb-peak-dot', attrs: { cx: c.peak.x, cy: c.peak.y, r: 4 } }),
    svg('text', { class: 'twb-peak-label', attrs: { x: c.peak.x + (labelLeft ? -8 : 8), y: Math.max(14, c.peak.y - 8), 'text-anchor': labelLeft ? 'end' : 'start' } }, c.peak.label),
  );
}

function counterSvg(c: TraceCounter, spanUs: number, width: number): SVGSVGElement {
  const ch = counterChart(c, { ...COUNTER_BOX, width, height: COUNTER_HEIGHT }, spanUs);
  return svg(
    'svg',
    { class: 'twb-trace-counter-chart', attrs: { width, height: COUNTER_HEIGHT, viewBox: `0 0 ${width} ${COUNTER_HEIGHT}`, role: 'img', 'aria-label': `${c.name} over time, up to ${counterValueLabel(ch.max.value)}` } },
    ...ch.yTicks.map((t) => svg('g', { class: 'twb-tick' }, svg('line', { attrs: { x1: COUNTER_BOX.left, x2: width - COUNTER_BOX.right, y1: t.at, y2: t.at } }), svg('text', { attrs: { x: COUNTER_BOX.left - 6, y: t.at + 4, 'text-anchor': 'end' } }, t.label))),
    ...ch.xTicks.map((t) => svg('text', { class: 'twb-tick', attrs: { x: t.at, y: COUNTER_HEIGHT - 6, 'text-anchor': 'middle' } }, t.label)),
    svg('path', { class: 'twb-trace-counter-line', attrs: { d: ch.line } }),
    svg('circle', { class: 'twb-trace-counter-max', attrs: { cx: ch.max.x, cy: ch.max.y, r: 3 } }),
  );
}

function counterCards(t: TraceRun): { el: HTMLElement; charts: Fittable[] } | null {
  const counters = t.counters ?? [];
  if (!counters.length) return null;
  const charts: Fittable[] = [];
  const el = card(
    `Counters (${counters.length})`,
    h('p', { class: 'twb-dim' }, 'Counter events (ph "C") as the trace recorded them; each point is the largest value of its time bucket.'),
    h(
      'div',
      { class: 'twb-trace-counters' },
      ...counters.map((c) => {
        const slot = chartSlot((w) => counterSvg(c, t.spanUs, w));
        charts.push(slot);
        const max = c.values.length ? Math.max(...c.values) : 0;
        return h('figure', { class: 'twb-trace-counter', attrs: { 'data-counter': c.name } }, h('figcaption', {}, h('span', { class: 'twb-mono' }, c.name), h('span', { class: 'twb-dim' }, ` · ${c.values.length} points, max ${counterValueLabel(max)}`)), slot.el);
      }),
    ),
  );
  return { el, charts };
}

export function renderTraceMemory(root: HTMLElement, t: TraceRun): Fittable[] {
  const m = t.memory;
  const counters = counterCards(t);
  const charts: Fittable[] = [...(counters?.charts ?? [])];
  const body: HTMLElement[] = [];
  if (!m || m.timeline.length === 0) {
    body.push(
      emptyState(
        m ? `The trace has memory events but no samples to draw (peak ${formatBytes(m.peakBytes)} on ${m.device}).` : 'No memory events in this trace.',
        h('p', { class: 'twb-dim' }, 'To record allocations, profile with ', h('code', {}, 'torch.profiler.profile(profile_memory=True)'), ' (add ', h('code', {}, 'record_shapes=True'), ' to see tensor shapes); every allocation and free then becomes a [memory] event.'),
      ),
    );
  } else {
    const slot = chartSlot((w) => memorySvg(m, t.spanUs, w));
    charts.unshift(slot);
    body.push(
      card(`Memory allocated on ${m.device} over time`, slot.el, h('p', { class: 'twb-dim' }, `From the [memory] events' "Total Allocated"; ${m.timeline.length} points, each the largest allocation of its time bucket, so the peak survives downsampling. Time since the trace's first event.`)),
      card(
        'Peaks per device',
        h(
          'table',
          { class: 'twb-table twb-compact twb-trace-mem-devices' },
          h('thead', {}, h('tr', {}, h('th', {}, 'device'), h('th', { class: 'twb-num' }, 'peak allocated'), h('th', {}, ''))),
          h('tbody', {}, ...[...m.devices].sort((a, b) => b.peakBytes - a.peakBytes).map((d) => h('tr', { attrs: { 'data-device': d.device } }, h('td', { class: 'twb-mono' }, d.device), h('td', { class: 'twb-num' }, formatBytes(d.peakBytes)), h('td', { class: 'twb-dim' }, d.device === m.device ? 'charted above' : '')))),
        ),
        facts([['peak', `${formatBytes(m.peakBytes)} on ${m.device}`], ['reached at', `${formatUs(m.peakAtUs)} after the first event`]]),
      ),
    );
  }
  root.replaceChildren(h('div', { class: 'twb-trace-memory', attrs: { 'data-trace': t.id } }, ...body, counters?.el ?? null));
  return charts;
}
