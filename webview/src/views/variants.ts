/**
 * Variants: the structural options side by side on one configuration — parameters, counted FLOPs,
 * measured step time and memory, throughput, accuracy and how time and memory grow with sequence
 * length — with the best of each column highlighted, the spans adaptive-span variants learned,
 * and the sweep plotted on log–log axes.
 */
import type { VariantResult, VariantsReport } from '../../../engine/src/schema/training';
import { formatBytes, formatCount, formatPercent, formatUs } from '../../../engine/src/util/format';
import { binaryTicks, decadeTicks } from '../charts/loglog';
import { card, Child, emptyState, h } from '../dom';
import { localTime } from '../model/run-label';
import { flopLabel, shortModel, variantsPickerLabel } from '../model/train-label';
import { variantNote } from '../model/learned-spans';
import { bestPerColumn, columnValue, growthReading, sweepSeries, VariantColumn } from '../model/variant-table';
import { AppState, selectedVariants } from '../state';
import { chartSlot } from './chart-slot';
import { docPicker } from './doc-picker';
import { learnedSpansGrid } from './learned-spans';
import { seriesLegend, sweepFigure } from './variants-plot';
import { chartView, type Fittable, type View, type ViewContext } from './view';

const ms = (v: number) => formatUs(v * 1000);
/** Axis labels: `50 ms`, `1 s`, `64 MiB` (ticks are round numbers). */
const msTick = (v: number) => (v >= 1000 ? `${+(v / 1000).toPrecision(3)} s` : `${+v.toPrecision(3)} ms`);
const bytesTick = (v: number) => formatBytes(v).replace(/\.0+ /, ' ');
const growthCell = (e: number | null): Child => (e === null ? '—' : h('span', {}, e.toFixed(2), h('span', { class: 'twb-growth-reading' }, growthReading(e))));

const COLUMNS: Array<{ key: VariantColumn; label: string; cell(v: VariantResult): Child }> = [
  { key: 'params', label: 'params', cell: (v) => formatCount(v.params) },
  { key: 'flopsPerStep', label: 'FLOPs / step', cell: (v) => flopLabel(v.flopsPerStep) },
  { key: 'stepMs', label: 'step time', cell: (v) => ms(v.stepMs) },
  { key: 'peakBytes', label: 'peak memory', cell: (v) => formatBytes(v.peakBytes) },
  { key: 'tokensPerSecond', label: 'tokens / s', cell: (v) => formatCount(Math.round(v.tokensPerSecond)) },
  { key: 'accuracy', label: 'accuracy', cell: (v) => (v.accuracy === null ? 'not trained' : formatPercent(v.accuracy)) },
  { key: 'growthTime', label: 'time growth', cell: (v) => growthCell(v.growth.time) },
  { key: 'growthMemory', label: 'memory growth', cell: (v) => growthCell(v.growth.memory) },
];

/** Mixer's fixed length, and where the learned spans of an adaptive-span variant are shown. */
function variantNotes(v: VariantResult, maxSeq: number): Child {
  const note = variantNote(v.variant.attention, maxSeq);
  if (!note && !v.spans) return null;
  return h('div', { class: 'twb-variant-note' }, note ?? null, v.spans ? h('span', { class: 'twb-variant-spans' }, `${note ? ' · ' : ''}spans learned per head: below`) : null);
}

/** One grid of learned spans per adaptive-span variant that was trained on the task. */
function spansCard(r: VariantsReport): HTMLElement | null {
  const withSpans = r.variants.filter((v) => v.spans);
  if (withSpans.length === 0) return null;
  const source = `in ${r.config.trainSteps} training steps of ${r.config.task ?? 'the task'}`;
  return card(
    'Learned attention spans',
    ...withSpans.map((v) => h('div', { class: 'twb-variant-spans-block', attrs: { 'data-variant': v.label } }, h('h3', { class: 'twb-mono' }, v.label), learnedSpansGrid(v.spans!, source))),
  );
}

function variantTable(r: VariantsReport): HTMLElement {
  const best = bestPerColumn(r.variants);
  return h(
    'div',
    { class: 'twb-table-wrap' },
    h(
      'table',
      { class: 'twb-table twb-variants-table' },
      h('thead', {}, h('tr', {}, h('th', {}, 'variant'), h('th', {}, 'sharing'), ...COLUMNS.map((c) => h('th', { class: 'twb-num', attrs: { 'data-col': c.key } }, c.label)))),
      h(
        'tbody',
        {},
        ...r.variants.map((v, i) =>
          h(
            'tr',
            { class: v.error ? 'twb-variant-failed' : '', attrs: { 'data-variant': v.label } },
            h('td', {}, h('span', { class: 'twb-mono' }, v.variant.attention), variantNotes(v, r.spec.maxSeq), v.error ? h('div', { class: 'twb-error-text twb-variant-error' }, v.error) : null),
            h('td', {}, v.variant.shareLayers),
            ...COLUMNS.map((c) => {
              const isBest = best[c.key].has(i);
              return h('td', { class: `twb-num${isBest ? ' twb-best' : ''}`, attrs: { 'data-col': c.key, title: isBest ? 'best in this column' : undefined } }, v.error && columnValue(v, c.key) === null ? '—' : c.cell(v));
            }),
          ),
        ),
      ),
    ),
  );
}

function emptyVariants(s: AppState): HTMLElement {
  if (s.session?.mode === 'report') return emptyState('This report holds no variant comparisons.');
  return emptyState(
    'No variant comparisons yet.',
    h('p', {}, 'Run "Transformer Workbench: Compare Structural Variants…" from the command palette, or on the command line ', h('code', {}, 'twb sweep builtin:tiny-bert --json variants.json'), ', and open the result from the Runs view.'),
  );
}

function renderVariants(root: HTMLElement, s: AppState, ctx: ViewContext): Fittable[] {
  const r = selectedVariants(s);
  if (!r) {
    root.replaceChildren(emptyVariants(s));
    return [];
  }
  const c = r.config;
  const keys = r.variants.map((v) => v.label);
  const timeFailed = r.variants.some((v) => v.sweep.some((p) => p.stepMs === undefined));
  const memoryFailed = r.variants.some((v) => v.sweep.some((p) => p.peakBytes === undefined));
  const time = chartSlot((w) => sweepFigure(sweepSeries(r, 'time'), w, { cls: 'twb-sweep-time', yName: 'step time', yAxis: { ticks: decadeTicks, format: msTick }, formatValue: ms }));
  const memory = chartSlot((w) => sweepFigure(sweepSeries(r, 'memory'), w, { cls: 'twb-sweep-memory', yName: 'peak memory', yAxis: { ticks: binaryTicks, format: bytesTick }, formatValue: formatBytes }));
  const picker = docPicker({ id: 'twb-variants-picker', label: 'Comparison', items: s.variantReports.map((v, i) => ({ value: v.id, label: variantsPickerLabel(v, i) })), current: r.id, onPick: (id) => ctx.store.update({ selectedVariantsId: id }) });
  const task = c.task ? `${c.task}, ${c.trainSteps} training steps each` : 'no task trained';
  root.replaceChildren(
    h(
      'div',
      { class: 'twb-variants', attrs: { 'data-report': r.id } },
      h(
        'header',
        { class: 'twb-view-header twb-quant-header' },
        h(
          'div',
          {},
          h('h1', {}, `Variants: ${shortModel(r.model)} · ${r.variants.length} variant${r.variants.length === 1 ? '' : 's'}`, r.cancelled ? h('span', { class: 'twb-badge twb-badge-cancelled' }, 'cancelled') : null),
          h('p', { class: 'twb-dim' }, `batch ${c.batch} × seq ${c.seq} · sweep over seq ${c.seqs.join(', ')} · ${task} · ${r.backend} (tfjs ${r.env.tfjsVersion}) on ${r.env.cpuCount} cores · ${localTime(r.createdAt)}`),
        ),
        picker,
      ),
      card(`Side by side at seq ${c.seq}`, variantTable(r), h('p', { class: 'twb-dim' }, 'Highlighted: the best value of each column. FLOPs per step are counted from the shapes; everything else is measured. Growth: the least-squares slope of log time (or memory) over log sequence length across the sweep — about 1 is linear, about 2 quadratic.')),
      spansCard(r),
      h('div', { class: 'twb-grid' }, card('Step time against sequence length', seriesLegend(keys, timeFailed), time.el), card('Peak memory against sequence length', seriesLegend(keys, memoryFailed), memory.el)),
      card('Warnings', r.warnings.length ? h('ul', { class: 'twb-warnings' }, ...r.warnings.map((w) => h('li', {}, w))) : h('p', { class: 'twb-dim' }, 'No warnings.')),
    ),
  );
  return [time, memory];
}

export function createVariantsView(ctx: ViewContext): View {
  return chartView(
    (root, s) => renderVariants(root, s, ctx),
    (s, prev) => s.session !== prev.session || s.variantReports !== prev.variantReports || selectedVariants(s) !== selectedVariants(prev),
  );
}
