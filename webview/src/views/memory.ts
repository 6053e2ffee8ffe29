/**
 * Memory: bytes in use over the first profiled run with the peak marked, the split of the peak into
 * weights and activations, and what was (probably) live at the peak.
 */
import type { InferenceRun } from '../../../engine/src/schema/run';
import { formatBytes, formatUs } from '../../../engine/src/util/format';
import { layerLabel } from '../charts/icicle';
import { ASSUMED_ELEMENT_BYTES, liveAtPeak, memoryChart, memorySplit } from '../charts/memory';
import { formatShape } from '../charts/ops-rows';
import { card, emptyState, facts, h, s as svg } from '../dom';
import { AppState, selectedRun } from '../state';
import type { View } from './view';

const HEIGHT = 280;
const BOX = { top: 28, right: 24, bottom: 28, left: 76 };

function chart(run: InferenceRun, width: number): SVGSVGElement {
  const c = memoryChart(run.memory, { ...BOX, width, height: HEIGHT });
  const labelLeft = c.peak.x > width * 0.6;
  return svg(
    'svg',
    { class: 'twb-memory-chart', attrs: { width, height: HEIGHT, viewBox: `0 0 ${width} ${HEIGHT}`, role: 'img', 'aria-label': `Memory in use over time; ${c.peak.label}` } },
    ...c.yTicks.map((t) => svg('g', { class: 'twb-tick' }, svg('line', { attrs: { x1: BOX.left, x2: width - BOX.right, y1: t.at, y2: t.at } }), svg('text', { attrs: { x: BOX.left - 8, y: t.at + 4, 'text-anchor': 'end' } }, t.label))),
    ...c.xTicks.map((t) => svg('text', { class: 'twb-tick', attrs: { x: t.at, y: HEIGHT - 8, 'text-anchor': 'middle' } }, t.label)),
    svg('path', { class: 'twb-memory-area', attrs: { d: c.area } }),
    svg('path', { class: 'twb-memory-line', attrs: { d: c.line } }),
    svg('line', { class: 'twb-peak-rule', attrs: { x1: c.peak.x, x2: c.peak.x, y1: c.peak.y, y2: HEIGHT - BOX.bottom } }),
    svg('circle', { class: 'twb-peak-dot', attrs: { cx: c.peak.x, cy: c.peak.y, r: 4 } }),
    svg('text', { class: 'twb-peak-label', attrs: { x: c.peak.x + (labelLeft ? -8 : 8), y: Math.max(14, c.peak.y - 8), 'text-anchor': labelLeft ? 'end' : 'start' } }, c.peak.label),
  );
}

function splitCard(run: InferenceRun): HTMLElement {
  const sp = memorySplit(run.memory);
  const scale = Math.max(1, sp.weightsBytes + sp.activationsBytes);
  const bar = (cls: string, bytes: number) => h('span', { class: cls, css: { width: `${((bytes / scale) * 100).toFixed(2)}%` } });
  return card(
    'Weights vs activations',
    h('div', { class: 'twb-split', attrs: { role: 'img', 'aria-label': 'weights and activations' } }, bar('twb-split-weights', sp.weightsBytes), bar('twb-split-acts', sp.activationsBytes)),
    facts([
      [h('span', {}, h('span', { class: 'twb-swatch twb-split-weights' }), 'weights'), `${formatBytes(sp.weightsBytes)} (all initializers)`],
      [h('span', {}, h('span', { class: 'twb-swatch twb-split-acts' }), 'activations'), `${formatBytes(sp.activationsBytes)} (peak − in use at run start)`],
      ['peak in use', formatBytes(sp.peakBytes)],
      ['at run start', `${formatBytes(sp.baselineBytes)} (after the first kernel)`],
      ['arena held', formatBytes(run.memory.arenaHeldBytes)],
    ]),
    h('p', { class: 'twb-dim' }, 'ORT keeps some weights outside its arena (pre-packed or memory-mapped), so weights and the in-use curve need not add up.'),
  );
}

function liveCard(run: InferenceRun): HTMLElement {
  const live = liveAtPeak(run);
  const peak = run.memory.peakAt;
  const op = live.peakOp;
  return card(
    'Live at the peak',
    peak ? facts([['peak after', h('span', { class: 'twb-mono' }, peak.node)], ['at', `${formatUs(peak.tUs)} into the run`], ...(op ? ([['op type', op.opType], ['layer', layerLabel(op.layer)], ['outputs', op.outputShapes.map(formatShape).join(', ') || '—']] as Array<[string, string]>) : [])]) : h('p', { class: 'twb-dim' }, 'ORT did not say after which node the peak happened.'),
    h('p', { class: 'twb-dim' }, `Estimate: the run does not record which node consumes which output, so these are the largest of the ${live.candidates} outputs produced before the peak (${ASSUMED_ELEMENT_BYTES} bytes per element assumed); some were freed before it.`),
    live.tensors.length
      ? h(
          'table',
          { class: 'twb-table twb-compact twb-live' },
          h('thead', {}, h('tr', {}, h('th', {}, 'output of'), h('th', {}, 'shape'), h('th', { class: 'twb-num' }, 'size'), h('th', { class: 'twb-num' }, 'before peak'))),
          h('tbody', {}, ...live.tensors.map((t) => h('tr', {}, h('td', { class: 'twb-mono', attrs: { title: `${t.node} (${t.opType})` } }, `${t.node}${t.output ? ` #${t.output}` : ''}`), h('td', { class: 'twb-mono' }, formatShape(t.shape)), h('td', { class: 'twb-num' }, formatBytes(t.bytes)), h('td', { class: 'twb-num' }, formatUs(Math.max(0, (peak?.tUs ?? 0) - t.producedUs)))))),
        )
      : null,
  );
}

export function createMemoryView(): View {
  let root: HTMLElement | undefined;
  let chartHost: HTMLElement | undefined;
  let run: InferenceRun | undefined;
  let drawnWidth = 0;
  let resize: ResizeObserver | undefined;

  const drawChart = () => {
    const width = chartHost?.clientWidth ?? 0;
    if (!run || !chartHost || width <= 0 || width === drawnWidth) return;
    drawnWidth = width;
    chartHost.replaceChildren(chart(run, width));
  };

  const build = (s: AppState) => {
    if (!root) return;
    run = selectedRun(s);
    drawnWidth = 0;
    if (!run) return void root.replaceChildren(emptyState('No run yet: profile the model to see its memory.'));
    if (run.memory.unavailable) {
      return void root.replaceChildren(emptyState(`Memory was not measured for this run: ${run.memory.unavailable}`), card('Weights', facts([['weights', formatBytes(run.memory.weightsBytes)]])));
    }
    if (run.memory.timeline.length === 0) return void root.replaceChildren(emptyState('ORT reported no memory samples for this run.'));
    chartHost = h('div', { class: 'twb-chart-host' });
    root.replaceChildren(card('Memory in use (ORT arena), first profiled run', chartHost), h('div', { class: 'twb-grid twb-grid-memory' }, splitCard(run), liveCard(run)));
    drawChart();
  };

  return {
    mount(r, s) {
      root = r;
      build(s);
      resize = new ResizeObserver(drawChart);
      resize.observe(r);
    },
    update(s, prev) {
      if (selectedRun(s) !== selectedRun(prev)) build(s);
    },
    unmount() {
      resize?.disconnect();
      root = chartHost = undefined;
    },
  };
}
