/**
 * Compare between two imported traces, as HTA's TraceDiff does: headline deltas, then per-op and
 * per-kernel deltas by name sorted by the size of the change, ops and kernels found on one side only
 * flagged as added or removed. A switch compares per step when both traces have steps.
 */
import type { VscodeTextfield } from '@vscode-elements/elements/dist/vscode-textfield/index.js';
import type { TraceRun } from '../../../engine/src/schema/trace';
import { formatBytes, formatPercent, formatUs } from '../../../engine/src/util/format';
import { REGRESSION_FRACTION, REGRESSION_MIN_US } from '../charts/compare';
import { Child, h } from '../dom';
import { traceTitle } from '../model/trace-labels';
import { canCompareSteps, diffHeadline, diffKernels, diffOps, DiffOptions, DiffStatus, HeadlineUnit, KernelDiff, OpDiff } from '../model/trace-diff';
import { filterByName } from '../model/trace-tables';
import { TABLE_LIMIT } from './trace-parts';
import type { Fittable } from './view';

const signed = (v: number, fmt: (x: number) => string) => (v > 0 ? `+${fmt(v)}` : v < 0 ? `−${fmt(-v)}` : fmt(0));
const calls = (n: number) => (Number.isInteger(n) ? n.toLocaleString('en-US') : n.toFixed(1));
const ratio = (r: number | null) => (r === null || Number.isNaN(r) ? '—' : r === Infinity ? 'new' : r === 0 ? 'gone' : `${r.toFixed(r >= 10 ? 1 : 2)}×`);
const flagClass = (f: OpDiff['flag']) => (f ? `twb-${f}` : undefined);
const STATUS_TEXT: Record<DiffStatus, string> = { both: '', added: 'added', removed: 'removed' };

function fmtUnit(unit: HeadlineUnit): (v: number) => string {
  return unit === 'bytes' ? formatBytes : unit === 'share' ? formatPercent : unit === 'count' ? calls : formatUs;
}

function badge(status: DiffStatus): Child {
  return status === 'both' ? null : h('span', { class: `twb-trace-badge twb-trace-${status}` }, STATUS_TEXT[status]);
}

function headlineTable(a: TraceRun, b: TraceRun, o: DiffOptions): HTMLElement {
  return h(
    'table',
    { class: 'twb-table twb-compact twb-trace-compare-headline' },
    h('thead', {}, h('tr', {}, h('th', {}, 'figure'), h('th', { class: 'twb-num' }, 'A'), h('th', { class: 'twb-num' }, 'B'), h('th', { class: 'twb-num' }, 'Δ'), h('th', { class: 'twb-num' }, 'B ÷ A'), h('th', {}, ''))),
    h(
      'tbody',
      {},
      ...diffHeadline(a, b, o).map((r) => {
        const fmt = fmtUnit(r.unit);
        const dfmt = r.unit === 'share' ? (v: number) => `${(v * 100).toFixed(1)} pt` : fmt;
        return h(
          'tr',
          { class: flagClass(r.flag), attrs: { 'data-row': r.label } },
          h('td', {}, r.label),
          h('td', { class: 'twb-num' }, r.base === null ? '—' : fmt(r.base)),
          h('td', { class: 'twb-num' }, r.other === null ? '—' : fmt(r.other)),
          h('td', { class: 'twb-num twb-delta' }, r.delta === null ? '—' : signed(r.delta, dfmt)),
          h('td', { class: 'twb-num twb-delta' }, ratio(r.ratio)),
          h('td', { class: 'twb-flag' }, r.flag === 'regression' ? 'worse' : r.flag === 'improvement' ? 'better' : ''),
        );
      }),
    ),
  );
}

function more(total: number, shown: number, noun: string, onClick: () => void): Child {
  return total > shown ? h('vscode-button', { class: 'twb-more', attrs: { secondary: true, 'data-action': 'show-all' }, on: { click: onClick } }, `Show all ${total.toLocaleString('en-US')} ${noun} (${(total - shown).toLocaleString('en-US')} hidden)`) : null;
}

function opTable(rows: readonly OpDiff[], limit: number, onAll: () => void): HTMLElement {
  const shown = rows.slice(0, limit);
  const num = (v: Child) => h('td', { class: 'twb-num' }, v);
  return h(
    'div',
    { class: 'twb-table-wrap' },
    h(
      'table',
      { class: 'twb-table twb-compact twb-trace-compare-ops' },
      h('thead', {}, h('tr', {}, h('th', {}, 'operator'), h('th', { class: 'twb-num' }, 'calls A'), h('th', { class: 'twb-num' }, 'calls B'), h('th', { class: 'twb-num' }, 'self A'), h('th', { class: 'twb-num' }, 'self B'), h('th', { class: 'twb-num' }, 'Δ self'), h('th', { class: 'twb-num' }, 'B ÷ A'), h('th', { class: 'twb-num' }, 'total A'), h('th', { class: 'twb-num' }, 'total B'), h('th', { class: 'twb-num' }, 'Δ total'))),
      h(
        'tbody',
        {},
        ...shown.map((r) =>
          h(
            'tr',
            { class: flagClass(r.flag), attrs: { 'data-op': r.opType, 'data-status': r.status, 'data-flag': r.flag ?? 'none' } },
            h('td', { class: 'twb-mono twb-trace-diff-name', attrs: { title: r.opType } }, r.opType, badge(r.status)),
            num(r.status === 'added' ? '—' : calls(r.baseCalls)),
            num(r.status === 'removed' ? '—' : calls(r.otherCalls)),
            num(r.status === 'added' ? '—' : formatUs(r.baseSelfUs)),
            num(r.status === 'removed' ? '—' : formatUs(r.otherSelfUs)),
            h('td', { class: 'twb-num twb-delta' }, signed(r.deltaSelfUs, formatUs)),
            h('td', { class: 'twb-num twb-delta' }, ratio(r.selfRatio)),
            num(r.status === 'added' ? '—' : formatUs(r.baseTotalUs)),
            num(r.status === 'removed' ? '—' : formatUs(r.otherTotalUs)),
            h('td', { class: 'twb-num' }, signed(r.deltaTotalUs, formatUs)),
          ),
        ),
      ),
    ),
    more(rows.length, shown.length, 'operators', onAll),
  );
}

function kernelTable(rows: readonly KernelDiff[], limit: number, onAll: () => void): HTMLElement {
  const shown = rows.slice(0, limit);
  const num = (v: Child) => h('td', { class: 'twb-num' }, v);
  return h(
    'div',
    { class: 'twb-table-wrap' },
    h(
      'table',
      { class: 'twb-table twb-compact twb-trace-compare-kernels' },
      h('thead', {}, h('tr', {}, h('th', {}, 'kernel'), h('th', { class: 'twb-num' }, 'calls A'), h('th', { class: 'twb-num' }, 'calls B'), h('th', { class: 'twb-num' }, 'time A'), h('th', { class: 'twb-num' }, 'time B'), h('th', { class: 'twb-num' }, 'Δ'), h('th', { class: 'twb-num' }, 'B ÷ A'))),
      h(
        'tbody',
        {},
        ...shown.map((r) =>
          h(
            'tr',
            { class: flagClass(r.flag), attrs: { 'data-kernel': r.name, 'data-status': r.status, 'data-flag': r.flag ?? 'none' } },
            h('td', { class: 'twb-mono twb-trace-diff-name', attrs: { title: r.name } }, r.name, badge(r.status)),
            num(r.status === 'added' ? '—' : calls(r.baseCalls)),
            num(r.status === 'removed' ? '—' : calls(r.otherCalls)),
            num(r.status === 'added' ? '—' : formatUs(r.baseUs)),
            num(r.status === 'removed' ? '—' : formatUs(r.otherUs)),
            h('td', { class: 'twb-num twb-delta' }, signed(r.deltaUs, formatUs)),
            h('td', { class: 'twb-num twb-delta' }, ratio(r.ratio)),
          ),
        ),
      ),
    ),
    more(rows.length, shown.length, 'kernels', onAll),
  );
}

const tally = (rows: ReadonlyArray<{ status: DiffStatus }>) => ({ added: rows.filter((r) => r.status === 'added').length, removed: rows.filter((r) => r.status === 'removed').length });

export function renderTraceCompare(root: HTMLElement, base: TraceRun, other: TraceRun): Fittable[] {
  const q = { perStep: false, text: '', opLimit: TABLE_LIMIT, kLimit: TABLE_LIMIT };
  const steps = canCompareSteps(base, other);
  const body = h('div', { class: 'twb-trace-compare-body' });

  const render = () => {
    const o: DiffOptions = { perStep: q.perStep };
    const unit = q.perStep ? 'per step' : 'summed over each trace';
    const ops = diffOps(base, other, o);
    const kernels = diffKernels(base, other, o);
    const opShown = filterByName(ops, q.text, (r) => r.opType);
    const kShown = filterByName(kernels, q.text, (r) => r.name);
    const ot = tally(ops);
    const kt = tally(kernels);
    body.replaceChildren(
      h('section', { class: 'twb-card' }, h('h2', {}, 'Headline'), headlineTable(base, other, o)),
      h(
        'section',
        { class: 'twb-card' },
        h('h2', {}, `Host operators, ${unit} (B − A)`),
        h('p', { class: 'twb-dim' }, `${ops.length} operator names: ${ot.added} only in B (added), ${ot.removed} only in A (removed). Sorted by the change in self time; highlighted when self time changed by more than ${REGRESSION_FRACTION * 100}% and ${REGRESSION_MIN_US} µs.`),
        opTable(opShown, q.opLimit, () => {
          q.opLimit = Infinity;
          render();
        }),
      ),
      h(
        'section',
        { class: 'twb-card' },
        h('h2', {}, `GPU kernels, ${unit} (B − A)`),
        kernels.length
          ? h('div', {}, h('p', { class: 'twb-dim' }, `${kernels.length} kernel names: ${kt.added} added, ${kt.removed} removed. Sorted by the change in GPU time.`), kernelTable(kShown, q.kLimit, () => {
              q.kLimit = Infinity;
              render();
            }))
          : h('p', { class: 'twb-dim' }, 'Neither trace has GPU kernels.'),
      ),
    );
  };

  const filter = h('vscode-textfield', { class: 'twb-filter twb-trace-filter', attrs: { placeholder: 'Filter by name', 'aria-label': 'Filter operators and kernels by name' } }) as VscodeTextfield;
  filter.addEventListener('input', () => {
    q.text = filter.value;
    q.opLimit = q.kLimit = TABLE_LIMIT;
    render();
  });
  const modes: Array<[boolean, string]> = [
    [false, 'Whole trace'],
    [true, 'Per step'],
  ];
  const modeHost = h('div', { class: 'twb-segmented', attrs: { role: 'group', 'aria-label': 'Compare' } });
  const renderModes = () =>
    modeHost.replaceChildren(
      ...modes.map(([perStep, label]) => {
        const b = h('vscode-button', { attrs: { 'data-mode': perStep ? 'step' : 'trace', 'aria-pressed': String(q.perStep === perStep) } }, label);
        b.secondary = q.perStep !== perStep;
        b.addEventListener('click', () => {
          if (q.perStep === perStep) return;
          q.perStep = perStep;
          renderModes();
          render();
        });
        return b;
      }),
    );
  renderModes();

  root.replaceChildren(
    h(
      'div',
      { class: 'twb-trace-compare', attrs: { 'data-base': base.id, 'data-other': other.id } },
      h('dl', { class: 'twb-facts twb-trace-compare-sides' }, h('dt', {}, 'A (base)'), h('dd', { class: 'twb-mono', attrs: { title: base.source.file } }, traceTitle(base)), h('dt', {}, 'B (compared)'), h('dd', { class: 'twb-mono', attrs: { title: other.source.file } }, traceTitle(other))),
      base.id === other.id ? h('p', { class: 'twb-notice' }, 'A and B are the same trace: choose two different traces.') : null,
      h('div', { class: 'twb-toolbar' }, steps ? modeHost : h('span', { class: 'twb-dim' }, 'Whole-trace sums (per-step comparison needs ProfilerStep#N in both traces).'), filter),
      body,
    ),
  );
  render();
  return [];
}
