/**
 * Compare: two runs side by side. Headline deltas (latency, kernel time, peak memory) and per-op-type
 * kernel time deltas sorted by absolute change, regressions and improvements highlighted.
 */
import type { VscodeSingleSelect } from '@vscode-elements/elements/dist/vscode-single-select/index.js';
import type { InferenceRun } from '../../../engine/src/schema/run';
import { formatBytes, formatUs } from '../../../engine/src/util/format';
import { compareHeadline, compareOpTypes, DeltaFlag, REGRESSION_FRACTION, REGRESSION_MIN_US } from '../charts/compare';
import { card, emptyState, h } from '../dom';
import { runPickerLabel } from '../model/run-label';
import type { AppState } from '../state';
import { simpleView, View, ViewContext } from './view';

const signed = (v: number, fmt: (x: number) => string) => (v > 0 ? `+${fmt(v)}` : v < 0 ? `−${fmt(-v)}` : fmt(0));
const pct = (f: number) => (Number.isNaN(f) ? '—' : !Number.isFinite(f) ? (f > 0 ? 'new' : 'gone') : signed(f * 100, (x) => `${x.toFixed(1)}%`));
const flagClass = (f: DeltaFlag) => (f ? `twb-${f}` : '');
const flagText = (f: DeltaFlag) => (f === 'regression' ? 'slower' : f === 'improvement' ? 'faster' : '');

function picker(label: string, runs: readonly InferenceRun[], value: string, onChange: (id: string) => void, id: string): HTMLElement {
  const sel = h('vscode-single-select', { attrs: { id, 'aria-label': label } }) as VscodeSingleSelect;
  runs.forEach((r, i) => sel.append(h('vscode-option', { attrs: { value: r.id, selected: r.id === value } }, runPickerLabel(r, i))));
  sel.addEventListener('change', () => onChange(sel.value));
  return h('div', { class: 'twb-field' }, h('vscode-label', { attrs: { for: id } }, label), sel);
}

function headline(a: InferenceRun, b: InferenceRun): HTMLElement {
  const rows = compareHeadline(a, b);
  return h(
    'table',
    { class: 'twb-table twb-compare-headline' },
    h('thead', {}, h('tr', {}, h('th', {}, 'figure'), h('th', { class: 'twb-num' }, 'A'), h('th', { class: 'twb-num' }, 'B'), h('th', { class: 'twb-num' }, 'Δ'), h('th', { class: 'twb-num' }, 'Δ%'), h('th', {}, ''))),
    h(
      'tbody',
      {},
      ...rows.map((r) => {
        const fmt = r.unit === 'bytes' ? formatBytes : formatUs;
        return h('tr', { class: flagClass(r.flag) }, h('td', {}, r.label), h('td', { class: 'twb-num' }, fmt(r.base)), h('td', { class: 'twb-num' }, fmt(r.other)), h('td', { class: 'twb-num twb-delta' }, signed(r.delta, fmt)), h('td', { class: 'twb-num twb-delta' }, pct(r.deltaFraction)), h('td', { class: 'twb-flag' }, r.flag === 'regression' ? 'worse' : r.flag === 'improvement' ? 'better' : ''));
      }),
    ),
  );
}

function opTypeTable(a: InferenceRun, b: InferenceRun): HTMLElement {
  const rows = compareOpTypes(a, b);
  return h(
    'table',
    { class: 'twb-table twb-compare-ops' },
    h('thead', {}, h('tr', {}, h('th', {}, 'op type'), h('th', { class: 'twb-num' }, 'A per inference'), h('th', { class: 'twb-num' }, 'B per inference'), h('th', { class: 'twb-num' }, 'Δ'), h('th', { class: 'twb-num' }, 'Δ%'), h('th', {}, ''))),
    h(
      'tbody',
      {},
      ...rows.map((r) =>
        h(
          'tr',
          { class: flagClass(r.flag), attrs: { 'data-flag': r.flag ?? 'none' } },
          h('td', {}, r.opType, r.domain ? h('span', { class: 'twb-dim' }, ` ${r.domain}`) : null),
          h('td', { class: 'twb-num' }, r.only === 'other' ? '—' : formatUs(r.baseUs)),
          h('td', { class: 'twb-num' }, r.only === 'base' ? '—' : formatUs(r.otherUs)),
          h('td', { class: 'twb-num twb-delta' }, signed(r.deltaUs, formatUs)),
          h('td', { class: 'twb-num twb-delta' }, pct(r.deltaFraction)),
          h('td', { class: 'twb-flag' }, flagText(r.flag)),
        ),
      ),
    ),
  );
}

export function createCompareView(ctx: ViewContext): View {
  return simpleView(
    (root, s: AppState) => {
      if (s.runs.length < 2 || !s.compare) {
        root.append(emptyState(s.session?.mode === 'report' ? 'Compare needs two runs; this report holds one.' : 'Compare needs two runs: change a setting in Toggles and Re-run, then compare the runs here.'));
        return;
      }
      const a = s.runs.find((r) => r.id === s.compare?.baseId) ?? s.runs[s.runs.length - 2];
      const b = s.runs.find((r) => r.id === s.compare?.otherId) ?? s.runs[s.runs.length - 1];
      const set = (baseId: string, otherId: string) => ctx.store.update({ compare: { baseId, otherId, explicit: true } });
      root.append(
        h('div', { class: 'twb-toolbar twb-compare-pickers' }, picker('A (base)', s.runs, a.id, (id) => set(id, b.id), 'compare-base'), picker('B (compared)', s.runs, b.id, (id) => set(a.id, id), 'compare-other')),
        a === b ? h('p', { class: 'twb-notice' }, 'A and B are the same run: choose two different runs.') : '',
        card('Headline', headline(a, b)),
        card(
          'Kernel time by op type (B − A)',
          h('p', { class: 'twb-dim' }, `Per inference. Highlighted: slower (regression) or faster (improvement) by more than ${REGRESSION_FRACTION * 100}% and ${REGRESSION_MIN_US} µs.`),
          opTypeTable(a, b),
        ),
      );
    },
    ['runs', 'compare', 'session'],
  );
}
