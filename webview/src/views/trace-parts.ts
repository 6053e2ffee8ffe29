/**
 * Pieces the trace views share: stat tiles, share bars, source-frame links and a sortable table that
 * renders its first rows and offers the rest with "Show all".
 */
import type { TraceFrame } from '../../../engine/src/schema/trace';
import { formatPercent } from '../../../engine/src/util/format';
import { Child, h } from '../dom';
import { frameLabel, frameTitle } from '../model/trace-labels';
import type { TraceBar } from '../model/trace-summary';
import type { TraceViewContext } from './trace-context';

/** Rows a table renders before "Show all". */
export const TABLE_LIMIT = 200;

/** A figure tile: label, value and a note saying what the figure is. */
export function stat(label: string, value: string, note?: string, key?: string): HTMLElement {
  return h('div', { class: 'twb-stat', attrs: { 'data-stat': key } }, h('div', { class: 'twb-stat-label' }, label), h('div', { class: 'twb-stat-value' }, value), note ? h('div', { class: 'twb-stat-note' }, note) : null);
}

/** Horizontal bars (CSS widths), each with its label, share and formatted value. */
export function barList(bars: readonly TraceBar[], format: (us: number) => string, cls: string, extra?: (b: TraceBar) => Child): HTMLElement {
  return h(
    'div',
    { class: `twb-bars ${cls}`, attrs: { role: 'list' } },
    ...bars.map((b) =>
      h(
        'div',
        { class: 'twb-bar-row', attrs: { role: 'listitem', 'data-name': b.label } },
        h('span', { class: 'twb-bar-label twb-mono', attrs: { title: b.label } }, b.label),
        h('span', { class: 'twb-bar-track' }, h('span', { class: 'twb-bar-fill', css: { width: `${(b.length * 100).toFixed(2)}%` } })),
        h('span', { class: 'twb-bar-value' }, `${formatPercent(b.share)} · ${format(b.valueUs)}`, extra ? extra(b) : null),
      ),
    ),
  );
}

/** A frame as a link-style button that opens it in the editor, or plain text where the host cannot. */
export function frameLink(frame: TraceFrame, ctx: TraceViewContext, suffix = ''): HTMLElement {
  const text = `${frameLabel(frame)}${suffix}`;
  const open = ctx.openSource;
  if (!open) return h('span', { class: 'twb-mono twb-trace-frame', attrs: { title: frameTitle(frame) } }, text);
  return h('button', { class: 'twb-trace-link twb-mono twb-trace-frame', attrs: { type: 'button', title: `Open ${frameTitle(frame)}`, 'data-file': frame.file, 'data-line': frame.line }, on: { click: () => open.call(ctx, frame) } }, text);
}

/** A share of a whole as a small bar and a percentage. */
export function shareCell(share: number): HTMLElement {
  return h('span', { class: 'twb-share' }, h('span', { class: 'twb-share-bar' }, h('span', { class: 'twb-share-fill', css: { width: `${Math.min(100, Math.max(0, share * 100)).toFixed(2)}%` } })), h('span', { class: 'twb-share-text' }, formatPercent(share)));
}

export interface Column<R> {
  key: string;
  label: string;
  numeric?: boolean;
  /** Header tooltip: what the column measures. */
  title?: string;
  cell: (r: R) => Child;
}

export interface SortableTable<R> {
  columns: ReadonlyArray<Column<R>>;
  /** Already filtered and sorted. */
  rows: readonly R[];
  sortKey: string;
  descending: boolean;
  /** Rows rendered; the rest wait for "Show all". */
  limit: number;
  onSort: (key: string) => void;
  onShowAll: () => void;
  /** Attributes and class of a row (data-*, selection). */
  row?: (r: R) => { class?: string; attrs?: Record<string, string | number | boolean | undefined> };
  className: string;
  /** What a row is, for the "Show all 1,234 …" button. */
  noun: string;
}

/** A table with sortable headers (buttons, so keyboard users can sort) and "Show all" past `limit` rows. */
export function sortableTable<R>(t: SortableTable<R>): HTMLElement {
  const head = h(
    'tr',
    {},
    ...t.columns.map((c) => {
      const active = c.key === t.sortKey;
      return h(
        'th',
        { class: c.numeric ? 'twb-num' : '', attrs: { 'aria-sort': active ? (t.descending ? 'descending' : 'ascending') : 'none', 'data-key': c.key, title: c.title } },
        h('button', { class: 'twb-sort', attrs: { type: 'button' }, on: { click: () => t.onSort(c.key) } }, c.label + (active ? (t.descending ? ' ▼' : ' ▲') : '')),
      );
    }),
  );
  const shown = t.rows.slice(0, t.limit);
  const body = h(
    'tbody',
    {},
    ...shown.map((r) => {
      const p = t.row?.(r);
      return h('tr', { class: p?.class, attrs: p?.attrs }, ...t.columns.map((c) => h('td', { class: c.numeric ? 'twb-num' : '' }, c.cell(r))));
    }),
  );
  const hidden = t.rows.length - shown.length;
  const more = hidden > 0 ? h('vscode-button', { class: 'twb-more', attrs: { secondary: true, 'data-action': 'show-all' }, on: { click: t.onShowAll } }, `Show all ${t.rows.length.toLocaleString('en-US')} ${t.noun} (${hidden.toLocaleString('en-US')} hidden)`) : null;
  return h('div', { class: 'twb-table-wrap' }, h('table', { class: `twb-table twb-compact ${t.className}` }, h('thead', {}, head), body), more);
}
