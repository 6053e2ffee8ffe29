/**
 * The Training view's memory: bytes in use over one step with phase bands and the peak, the peak
 * split into weights / optimizer state / activations, and the mixed-precision panel, whose fp16 and
 * bf16 figures are estimates unless that precision actually ran.
 */
import type { TrainingRun } from '../../../engine/src/schema/training';
import { formatBytes, formatUs } from '../../../engine/src/util/format';
import { nearestIndex } from '../charts/curve';
import { memoryParts, stepMemoryChart } from '../charts/step-memory';
import { facts, h, hideTooltip, s, showTooltip } from '../dom';
import { phaseLegend } from './train-breakdown';

const HEIGHT = 260;
const BOX = { top: 26, right: 20, bottom: 28, left: 76 };

export function stepMemoryFigure(run: TrainingRun, width: number): SVGSVGElement {
  const c = stepMemoryChart(run.memory, { ...BOX, width, height: HEIGHT });
  const bottom = HEIGHT - BOX.bottom;
  const labelLeft = c.peak.x > width * 0.6;
  const pts = run.memory.timeline;
  const svg = s(
    'svg',
    { class: 'twb-step-memory', attrs: { width, height: HEIGHT, viewBox: `0 0 ${width} ${HEIGHT}`, role: 'img', 'aria-label': `Memory in use over one training step; ${c.peak.label}` } },
    ...c.bands.map((b) => s('rect', { class: `twb-band twb-phase-${b.phase}`, attrs: { x: b.x0, y: BOX.top, width: Math.max(0, b.x1 - b.x0), height: bottom - BOX.top, 'data-phase': b.phase } })),
    ...c.yTicks.map((t) => s('g', { class: 'twb-tick' }, s('line', { attrs: { x1: BOX.left, x2: width - BOX.right, y1: t.at, y2: t.at } }), s('text', { attrs: { x: BOX.left - 8, y: t.at + 4, 'text-anchor': 'end' } }, t.label))),
    ...c.xTicks.map((t) => s('text', { class: 'twb-tick', attrs: { x: t.at, y: HEIGHT - 8, 'text-anchor': 'middle' } }, t.label)),
    s('path', { class: 'twb-memory-area', attrs: { d: c.area } }),
    s('path', { class: 'twb-memory-line', attrs: { d: c.line } }),
    s('line', { class: 'twb-peak-rule', attrs: { x1: c.peak.x, x2: c.peak.x, y1: c.peak.y, y2: bottom } }),
    s('circle', { class: 'twb-peak-dot', attrs: { cx: c.peak.x, cy: c.peak.y, r: 4 } }),
    s('text', { class: 'twb-peak-label', attrs: { x: c.peak.x + (labelLeft ? -8 : 8), y: Math.max(14, c.peak.y - 8), 'text-anchor': labelLeft ? 'end' : 'start' } }, c.peak.label),
  );
  const hit = s('rect', { class: 'twb-hit-area', attrs: { x: BOX.left, y: BOX.top, width: Math.max(0, width - BOX.right - BOX.left), height: bottom - BOX.top } });
  hit.addEventListener('mousemove', (e) => {
    const at = svg.getBoundingClientRect();
    const i = nearestIndex(c.xs, ((e.clientX - at.left) * width) / Math.max(1, at.width));
    const p = pts[i];
    if (p) showTooltip([`${formatUs(p.tUs)} into the step`, ['in use', formatBytes(p.bytes)], ['phase', p.phase]], e.clientX, e.clientY);
  });
  hit.addEventListener('mouseleave', hideTooltip);
  svg.append(hit);
  return svg;
}

export function memoryLegend(): HTMLElement {
  return phaseLegend(h('span', { class: 'twb-dim' }, 'bands: phase of the kernels; curve: bytes in use after each kernel'));
}

/** Weights, optimizer state and activations at the peak, as one bar and a list. */
export function memorySplitCard(run: TrainingRun): HTMLElement {
  const parts = memoryParts(run.memory);
  return h(
    'div',
    { class: 'twb-train-split' },
    h('div', { class: 'twb-split', attrs: { role: 'img', 'aria-label': parts.map((p) => `${p.label} ${formatBytes(p.bytes)}`).join(', ') } }, ...parts.map((p) => h('span', { class: `twb-mem-${p.key}`, attrs: { 'data-part': p.key }, css: { width: `${(p.fraction * 100).toFixed(2)}%` } }))),
    facts([
      ...parts.map((p): [HTMLElement, string] => [h('span', {}, h('span', { class: `twb-swatch twb-mem-${p.key}` }), p.label), formatBytes(p.bytes)]),
      ['peak in use', formatBytes(run.memory.peakBytes)],
    ]),
    h('p', { class: 'twb-dim' }, 'Weights count each shared tensor once; optimizer state is AdamW\'s two moments per weight; activations are everything else live at the peak (saved for backward, gradients, temporaries), by the tfjs engine\'s accounting.'),
  );
}

/** What precision ran and why, and the fp16/bf16 figures, marked as estimates. */
export function mixedPrecisionCard(run: TrainingRun): HTMLElement {
  const mp = run.mixedPrecision;
  return h(
    'div',
    { class: 'twb-mixed' },
    facts([
      ['ran in', h('strong', {}, mp.ran)],
      ['why', mp.reason],
    ]),
    mp.estimates.length
      ? h(
          'table',
          { class: 'twb-table twb-compact twb-precision' },
          h('thead', {}, h('tr', {}, h('th', {}, 'precision'), h('th', { class: 'twb-num' }, 'weights'), h('th', { class: 'twb-num' }, 'optimizer'), h('th', { class: 'twb-num' }, 'activations'), h('th', { class: 'twb-num' }, 'peak'), h('th', {}, ''))),
          h(
            'tbody',
            {},
            h('tr', { attrs: { 'data-dtype': mp.ran } }, h('td', {}, `${mp.ran} (ran)`), h('td', { class: 'twb-num' }, formatBytes(run.memory.weightsBytes)), h('td', { class: 'twb-num' }, formatBytes(run.memory.optimizerBytes)), h('td', { class: 'twb-num' }, formatBytes(run.memory.activationsBytes)), h('td', { class: 'twb-num' }, formatBytes(run.memory.peakBytes)), h('td', {}, h('span', { class: 'twb-badge twb-badge-measured' }, 'measured'))),
            ...mp.estimates.map((e) =>
              h(
                'tr',
                { class: 'twb-estimate-row', attrs: { 'data-dtype': e.dtype } },
                h('td', {}, e.dtype),
                h('td', { class: 'twb-num' }, formatBytes(e.weightsBytes)),
                h('td', { class: 'twb-num' }, formatBytes(e.optimizerBytes)),
                h('td', { class: 'twb-num' }, formatBytes(e.activationsBytes)),
                h('td', { class: 'twb-num' }, formatBytes(e.peakBytes)),
                h('td', {}, h('span', { class: 'twb-badge twb-badge-estimate', attrs: { title: 'not run on this backend: computed from the fp32 figures' } }, 'estimate')),
              ),
            ),
          ),
        )
      : null,
    mp.estimates.length ? h('p', { class: 'twb-dim' }, 'Estimates, not measurements: weights in the lower precision plus an fp32 master copy, optimizer moments in fp32, activations at half the bytes.') : null,
  );
}
