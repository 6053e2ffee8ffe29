/**
 * Ops: where kernel time goes, per node, op type or layer. A grouping switch, a text filter, a layer
 * dropdown, an icicle (layer → op type → node) and the sortable table.
 */
import type { VscodeSingleSelect } from '@vscode-elements/elements/dist/vscode-single-select/index.js';
import type { VscodeTextfield } from '@vscode-elements/elements/dist/vscode-textfield/index.js';
import type { InferenceRun } from '../../../engine/src/schema/run';
import { profiledRunCount } from '../charts/compare';
import { layerLabel } from '../charts/icicle';
import { Grouping, LayerFilter, opsRows, runLayers, SortKey, sortRows } from '../charts/ops-rows';
import { emptyState, h, hideTooltip, s as svgEl } from '../dom';
import { AppState, selectedRun } from '../state';
import { drawIcicle } from './ops-icicle';
import { hasColumn, opsTable } from './ops-table';
import type { View } from './view';

const PAGE = 200;
const GROUPINGS: Array<[Grouping, string]> = [
  ['node', 'Node'],
  ['opType', 'Op type'],
  ['layer', 'Layer'],
];
const NOUN: Record<Grouping, string> = { node: 'nodes', opType: 'op types', layer: 'layers' };

const layerValue = (l: LayerFilter) => (l === 'all' ? 'all' : l === null ? 'none' : String(l));
const layerFromValue = (v: string): LayerFilter => (v === 'all' ? 'all' : v === 'none' ? null : Number(v));

export function createOpsView(): View {
  const q = { grouping: 'node' as Grouping, text: '', layer: 'all' as LayerFilter, sortKey: 'totalUs' as SortKey, descending: true, limit: PAGE };
  let root: HTMLElement | undefined;
  let run: InferenceRun | undefined;
  let tableHost: HTMLElement | undefined;
  let countText: HTMLElement | undefined;
  let switchHost: HTMLElement | undefined;
  let icicle: SVGSVGElement | undefined;
  let resize: ResizeObserver | undefined;

  const renderTable = () => {
    if (!run || !tableHost || !countText) return;
    const rows = sortRows(opsRows(run, q), q.sortKey, q.descending);
    const total = q.grouping === 'node' ? run.ops.length : opsRows(run, { ...q, text: '', layer: 'all' }).length;
    countText.textContent = `Showing ${Math.min(q.limit, rows.length)} of ${rows.length} ${NOUN[q.grouping]}${rows.length < total ? ` (${total} before filtering)` : ''}`;
    tableHost.replaceChildren(
      opsTable(rows, {
        grouping: q.grouping,
        sortKey: q.sortKey,
        descending: q.descending,
        limit: q.limit,
        page: PAGE,
        profiledRuns: profiledRunCount(run),
        onSort: (key) => {
          q.descending = key === q.sortKey ? !q.descending : !['label', 'opType', 'layer'].includes(key);
          q.sortKey = key;
          renderTable();
        },
        onMore: () => {
          q.limit += PAGE;
          renderTable();
        },
      }),
    );
  };

  const renderSwitch = () => {
    switchHost?.replaceChildren(
      ...GROUPINGS.map(([g, label]) => {
        const b = h('vscode-button', { attrs: { 'data-grouping': g, 'aria-pressed': String(q.grouping === g) } }, label);
        b.secondary = q.grouping !== g;
        b.addEventListener('click', () => {
          if (q.grouping === g) return;
          q.grouping = g;
          q.limit = PAGE;
          if (!hasColumn(g, q.sortKey)) q.sortKey = 'totalUs';
          if (g === 'layer' && q.sortKey === 'totalUs') {
            q.sortKey = 'layer';
            q.descending = false;
          }
          renderSwitch();
          renderTable();
        });
        return b;
      }),
    );
  };

  let drawnWidth = 0;
  const drawChart = (force = true) => {
    const width = root?.clientWidth ?? 0;
    if (!run || !icicle || width <= 0 || (!force && width === drawnWidth)) return;
    drawnWidth = width;
    drawIcicle(icicle, run, Math.max(200, width - 34), profiledRunCount(run));
  };

  const build = (s: AppState) => {
    if (!root) return;
    run = selectedRun(s);
    if (!run) {
      root.replaceChildren(emptyState('No run yet: profile the model to see per-op times.'));
      return;
    }
    const layers = runLayers(run);
    if (q.layer !== 'all' && !layers.includes(q.layer)) q.layer = 'all';
    const filter = h('vscode-textfield', { class: 'twb-filter', attrs: { placeholder: 'Filter by node or op type', 'aria-label': 'Filter by node or op type' } }) as VscodeTextfield;
    filter.value = q.text;
    filter.addEventListener('input', () => {
      q.text = filter.value;
      q.limit = PAGE;
      renderTable();
    });
    const layerSelect = h('vscode-single-select', { class: 'twb-layer-select', attrs: { 'aria-label': 'Layer' } }) as VscodeSingleSelect;
    for (const l of ['all' as LayerFilter, ...layers]) layerSelect.append(h('vscode-option', { attrs: { value: layerValue(l), selected: layerValue(l) === layerValue(q.layer) } }, l === 'all' ? 'All layers' : layerLabel(l)));
    layerSelect.addEventListener('change', () => {
      q.layer = layerFromValue(layerSelect.value);
      q.limit = PAGE;
      renderTable();
    });
    switchHost = h('div', { class: 'twb-segmented', attrs: { role: 'group', 'aria-label': 'Group by' } });
    countText = h('span', { class: 'twb-dim twb-count', attrs: { 'aria-live': 'polite' } });
    tableHost = h('div');
    icicle = svgEl('svg', { class: 'twb-icicle', attrs: { role: 'img', 'aria-label': 'Kernel time by layer, op type and node' } });
    root.replaceChildren(
      h('div', { class: 'twb-toolbar' }, h('span', { class: 'twb-dim' }, 'Group by'), switchHost, filter, layerSelect, countText),
      h('section', { class: 'twb-card' }, h('h2', {}, 'Kernel time: all → layer → op type → node'), icicle),
      tableHost,
    );
    renderSwitch();
    renderTable();
    drawChart();
  };

  return {
    mount(r, s) {
      root = r;
      build(s);
      resize = new ResizeObserver(() => drawChart(false));
      resize.observe(r);
    },
    update(s, prev) {
      if (selectedRun(s) !== selectedRun(prev)) build(s);
    },
    unmount() {
      resize?.disconnect();
      hideTooltip();
      root = run = tableHost = countText = switchHost = icicle = undefined;
    },
  };
}
