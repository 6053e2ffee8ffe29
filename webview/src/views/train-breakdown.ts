/**
 * The Training view's kernel-time breakdown: forward / backward / optimizer as one stacked bar with
 * a table, kernel time by op type × phase (sortable, share bars), and by layer split by phase.
 * Times are per training step: the run sums them over its profiled steps.
 */
import { TRAIN_PHASES, type TrainingRun, type TrainPhase } from '../../../engine/src/schema/training';
import { formatPercent, formatUs } from '../../../engine/src/util/format';
import { layerRows, OpSortKey, OpTypeRow, phaseBar, Segment, segments, sortOpTypeRows } from '../model/train-breakdown';
import { Child, h } from '../dom';

/** Divides the run's summed times into per-step figures. */
const perStep = (run: TrainingRun) => (us: number) => us / Math.max(1, run.config.profiledSteps);

/** Segments of a stacked bar, each a span positioned through the CSSOM. */
function stacked(segs: readonly Segment[], label: (s: Segment) => string, cls = 'twb-stack'): HTMLElement {
  return h(
    'span',
    { class: cls, attrs: { role: 'img', 'aria-label': segs.map(label).join(', ') } },
    ...segs.map((s) => h('span', { class: `twb-stack-seg twb-phase-${s.phase}`, attrs: { title: label(s), 'data-phase': s.phase }, css: { left: `${(s.start * 100).toFixed(3)}%`, width: `${(s.length * 100).toFixed(3)}%` } })),
  );
}

/** A swatch per phase, then `extra` (a note on how to read the chart). */
export function phaseLegend(...extra: Child[]): HTMLElement {
  return h('div', { class: 'twb-legend' }, ...TRAIN_PHASES.map((p) => h('span', {}, h('span', { class: `twb-swatch twb-phase-${p}` }), p)), ...extra);
}

/** The phases as one bar and a table of their time per step and share. */
export function phaseCard(run: TrainingRun): HTMLElement {
  const step = perStep(run);
  const segs = phaseBar(run.phases);
  const total = run.phases.reduce((s, p) => s + p.totalUs, 0);
  return h(
    'div',
    { class: 'twb-phases' },
    stacked(segs, (s) => `${s.phase} ${formatUs(step(s.us))} (${formatPercent(s.length)})`, 'twb-stack twb-stack-wide'),
    phaseLegend(),
    h(
      'table',
      { class: 'twb-table twb-compact twb-phase-table' },
      h('thead', {}, h('tr', {}, h('th', {}, 'phase'), h('th', { class: 'twb-num' }, 'kernel time per step'), h('th', { class: 'twb-num' }, 'share'))),
      h(
        'tbody',
        {},
        ...run.phases.map((p) => h('tr', { attrs: { 'data-phase': p.phase } }, h('td', {}, h('span', { class: `twb-swatch twb-phase-${p.phase}` }), p.phase), h('td', { class: 'twb-num' }, formatUs(step(p.totalUs))), h('td', { class: 'twb-num' }, formatPercent(p.share)))),
        h('tr', { class: 'twb-total' }, h('td', {}, 'all kernels'), h('td', { class: 'twb-num' }, formatUs(step(total))), h('td', { class: 'twb-num' }, formatPercent(1))),
      ),
    ),
    h('p', { class: 'twb-dim' }, `Kernel time from tf.profile over ${run.config.profiledSteps} profiled step${run.config.profiledSteps === 1 ? '' : 's'}, per step; wall time per step (p50 ${run.stepMs.p50.toFixed(1)} ms) also counts the time between kernels.`),
  );
}

interface OpColumn {
  key: OpSortKey;
  label: string;
  numeric: boolean;
  cell(r: OpTypeRow): Child;
}

export interface OpTableOptions {
  sortKey: OpSortKey;
  descending: boolean;
  onSort(key: OpSortKey): void;
}

/** One row per op type: time per step in each phase, calls, total and a share bar split by phase. */
export function opTypeTable(run: TrainingRun, rows: readonly OpTypeRow[], o: OpTableOptions): HTMLElement {
  const step = perStep(run);
  const phaseCol = (phase: TrainPhase): OpColumn => ({ key: phase, label: phase, numeric: true, cell: (r) => (r.byPhase[phase] > 0 ? formatUs(step(r.byPhase[phase])) : '—') });
  const cols: OpColumn[] = [
    { key: 'opType', label: 'op type', numeric: false, cell: (r) => h('span', { class: 'twb-mono' }, r.opType) },
    ...TRAIN_PHASES.map(phaseCol),
    { key: 'calls', label: 'calls per step', numeric: true, cell: (r) => String(+step(r.calls).toFixed(1)) },
    { key: 'totalUs', label: 'per step', numeric: true, cell: (r) => formatUs(step(r.totalUs)) },
  ];
  // Bars on one scale: the busiest op type's is full length.
  const longest = Math.max(0, ...rows.map((r) => r.totalUs));
  const shareCell = (r: OpTypeRow) => h('span', { class: 'twb-share' }, stacked(segments(r.byPhase, longest), (s) => `${s.phase} ${formatUs(step(s.us))}`, 'twb-stack twb-share-bar'), h('span', { class: 'twb-share-text' }, formatPercent(r.share)));
  const sorted = sortOpTypeRows(rows, o.sortKey, o.descending);
  const head = h(
    'tr',
    {},
    ...cols.map((c) => {
      const active = c.key === o.sortKey;
      return h(
        'th',
        { class: c.numeric ? 'twb-num' : '', attrs: { 'aria-sort': active ? (o.descending ? 'descending' : 'ascending') : 'none', 'data-key': c.key } },
        h('button', { class: 'twb-sort', attrs: { type: 'button' }, on: { click: () => o.onSort(c.key) } }, c.label + (active ? (o.descending ? ' ▼' : ' ▲') : '')),
      );
    }),
    h('th', {}, 'share of kernel time'),
  );
  return h(
    'div',
    { class: 'twb-table-wrap' },
    h('table', { class: 'twb-table twb-train-ops' }, h('thead', {}, head), h('tbody', {}, ...sorted.map((r) => h('tr', { attrs: { 'data-op': r.opType } }, ...cols.map((c) => h('td', { class: c.numeric ? 'twb-num' : '' }, c.cell(r))), h('td', {}, shareCell(r)))))),
  );
}

/** One bar per transformer block (then the kernels outside them), split by phase, to one scale. */
export function layerBars(run: TrainingRun): HTMLElement {
  const step = perStep(run);
  const rows = layerRows(run.ops, run.spec.layers);
  return h(
    'div',
    { class: 'twb-bars twb-layer-bars', attrs: { role: 'list' } },
    ...rows.map((r) =>
      h(
        'div',
        { class: 'twb-bar-row', attrs: { role: 'listitem', 'data-layer': r.layer === null ? 'none' : r.layer } },
        h('span', { class: 'twb-bar-label' }, r.label),
        stacked(r.segments, (s) => `${s.phase} ${formatUs(step(s.us))}`, 'twb-stack twb-bar-track'),
        h('span', { class: 'twb-bar-value' }, formatUs(step(r.totalUs))),
      ),
    ),
  );
}
