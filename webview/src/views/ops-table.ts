/**
 * The Ops table: sortable columns (click a header), a share bar in each row, and at most `limit`
 * rows with a "show more" button so that models with thousands of nodes stay quick.
 */
import { formatCount, formatPercent, formatUs } from '../../../engine/src/util/format';
import { Grouping, OpsRow, SortKey } from '../charts/ops-rows';
import { layerLabel } from '../charts/icicle';
import { Child, h } from '../dom';

interface Column {
  key: SortKey;
  label: string;
  numeric: boolean;
  cell: (r: OpsRow, perRun: number) => Child;
}

const layerText = (l: number | null | undefined) => (l === undefined ? 'several' : layerLabel(l).replace('layer ', ''));
const shareCell = (r: OpsRow): Child => h('span', { class: 'twb-share' }, h('span', { class: 'twb-share-bar' }, h('span', { class: 'twb-share-fill', css: { width: `${Math.min(100, r.share * 100).toFixed(2)}%` } })), h('span', { class: 'twb-share-text' }, formatPercent(r.share)));
const gflops = (r: OpsRow) => (r.gflops > 0 ? r.gflops.toFixed(1) : '—');

const COLUMNS: Record<Grouping, Column[]> = {
  node: [
    { key: 'label', label: 'Node', numeric: false, cell: (r) => h('span', { class: 'twb-mono', attrs: { title: r.label } }, r.label) },
    { key: 'opType', label: 'Op type', numeric: false, cell: (r) => r.opType },
    { key: 'layer', label: 'Layer', numeric: true, cell: (r) => layerText(r.layer) },
    { key: 'calls', label: 'Calls', numeric: true, cell: (r) => String(r.calls) },
    { key: 'meanUs', label: 'Mean', numeric: true, cell: (r) => formatUs(r.meanUs) },
    { key: 'totalUs', label: 'Per inference', numeric: true, cell: (r, n) => formatUs(r.totalUs / n) },
    { key: 'share', label: 'Share', numeric: true, cell: shareCell },
    { key: 'gflops', label: 'GFLOP/s', numeric: true, cell: gflops },
  ],
  opType: [
    { key: 'label', label: 'Op type', numeric: false, cell: (r) => r.label },
    { key: 'nodes', label: 'Nodes', numeric: true, cell: (r) => String(r.nodes) },
    { key: 'calls', label: 'Calls', numeric: true, cell: (r) => String(r.calls) },
    { key: 'meanUs', label: 'Mean per call', numeric: true, cell: (r) => formatUs(r.meanUs) },
    { key: 'totalUs', label: 'Per inference', numeric: true, cell: (r, n) => formatUs(r.totalUs / n) },
    { key: 'share', label: 'Share', numeric: true, cell: shareCell },
    { key: 'gflops', label: 'GFLOP/s', numeric: true, cell: gflops },
  ],
  layer: [
    { key: 'layer', label: 'Layer', numeric: true, cell: (r) => r.label },
    { key: 'opType', label: 'Op types', numeric: false, cell: (r) => r.opType },
    { key: 'nodes', label: 'Nodes', numeric: true, cell: (r) => String(r.nodes) },
    { key: 'calls', label: 'Calls', numeric: true, cell: (r) => formatCount(r.calls) },
    { key: 'totalUs', label: 'Per inference', numeric: true, cell: (r, n) => formatUs(r.totalUs / n) },
    { key: 'share', label: 'Share', numeric: true, cell: shareCell },
    { key: 'gflops', label: 'GFLOP/s', numeric: true, cell: gflops },
  ],
};

export interface TableOptions {
  grouping: Grouping;
  sortKey: SortKey;
  descending: boolean;
  /** Rows shown before "show more". */
  limit: number;
  /** Rows each "show more" adds. */
  page: number;
  /** Profiled runs, to show times per inference. */
  profiledRuns: number;
  onSort: (key: SortKey) => void;
  onMore: () => void;
}

/** Whether a column exists for a grouping (sort keys carry over between groupings where they can). */
export function hasColumn(grouping: Grouping, key: SortKey): boolean {
  return COLUMNS[grouping].some((c) => c.key === key);
}

/** The table for already sorted `rows`; only the first `limit` get DOM rows. */
export function opsTable(rows: readonly OpsRow[], o: TableOptions): HTMLElement {
  const cols = COLUMNS[o.grouping];
  const head = h(
    'tr',
    {},
    ...cols.map((c) => {
      const active = c.key === o.sortKey;
      const arrow = active ? (o.descending ? ' ▼' : ' ▲') : '';
      return h(
        'th',
        { class: c.numeric ? 'twb-num' : '', attrs: { 'aria-sort': active ? (o.descending ? 'descending' : 'ascending') : 'none', 'data-key': c.key } },
        h('button', { class: 'twb-sort', attrs: { type: 'button' }, on: { click: () => o.onSort(c.key) } }, c.label + arrow),
      );
    }),
  );
  const shown = rows.slice(0, o.limit);
  const body = h('tbody', {}, ...shown.map((r) => h('tr', { attrs: { 'data-key': r.key } }, ...cols.map((c) => h('td', { class: c.numeric ? 'twb-num' : '' }, c.cell(r, o.profiledRuns))))));
  const more = rows.length > shown.length ? h('vscode-button', { class: 'twb-more', attrs: { secondary: true }, on: { click: o.onMore } }, `Show ${Math.min(o.page, rows.length - shown.length)} more (${rows.length - shown.length} hidden)`) : null;
  return h('div', { class: 'twb-table-wrap' }, h('table', { class: 'twb-table twb-ops-table' }, h('thead', {}, head), body), more);
}
