/**
 * Ops of an imported trace: the host operator table (PyTorch's key_averages() by name: calls, self
 * and total time), sortable and filtered by name; the selected op's source frames (opening the file
 * where the host can) and the kernels it launched; and the GPU kernel table with each kernel's top
 * launcher. Tables render their first rows and offer the rest.
 */
import type { VscodeTextfield } from '@vscode-elements/elements/dist/vscode-textfield/index.js';
import type { TraceRun } from '../../../engine/src/schema/trace';
import { formatPercent, formatUs } from '../../../engine/src/util/format';
import { card, facts, h } from '../dom';
import { filterByName, firstClickDescending, kernelRows, kernelsLaunchedBy, KernelSortKey, opRows, opSources, OpSortKey, sortRows, TraceKernelRow, TraceOpRow } from '../model/trace-tables';
import type { TraceViewContext } from './trace-context';
import { Column, frameLink, shareCell, sortableTable, TABLE_LIMIT } from './trace-parts';
import type { Fittable } from './view';

const count = (n: number) => n.toLocaleString('en-US');

export function renderTraceOps(root: HTMLElement, t: TraceRun, ctx: TraceViewContext): Fittable[] {
  const ops = opRows(t);
  const kernels = kernelRows(t);
  const known = new Set(ops.map((o) => o.opType));
  const q = { text: '', opSort: 'selfUs' as OpSortKey, opDesc: true, opLimit: TABLE_LIMIT, kSort: 'totalUs' as KernelSortKey, kDesc: true, kLimit: TABLE_LIMIT, selected: ops[0]?.opType };

  const opHost = h('div');
  const kernelHost = h('div');
  const detailHost = h('div', { class: 'twb-trace-op-detail', attrs: { 'aria-live': 'polite' } });
  const countText = h('span', { class: 'twb-dim twb-count', attrs: { 'aria-live': 'polite' } });

  const select = (opType: string) => {
    q.selected = opType;
    renderOps();
    renderDetail();
  };

  const opColumns: Array<Column<TraceOpRow>> = [
    { key: 'opType', label: 'Operator', cell: (r) => h('button', { class: 'twb-trace-select twb-mono', attrs: { type: 'button', title: r.opType, 'aria-pressed': String(r.opType === q.selected) }, on: { click: () => select(r.opType) } }, r.opType) },
    { key: 'calls', label: 'Calls', numeric: true, cell: (r) => count(r.calls) },
    { key: 'selfUs', label: 'Self', numeric: true, title: 'Duration minus that of the ops it called, summed over calls', cell: (r) => formatUs(r.selfUs) },
    { key: 'totalUs', label: 'Total', numeric: true, title: 'Durations summed over calls (nested calls count each time)', cell: (r) => formatUs(r.totalUs) },
    { key: 'selfShare', label: 'Self share', numeric: true, title: 'Of all host self time', cell: (r) => shareCell(r.selfShare) },
    { key: 'meanUs', label: 'Mean', numeric: true, title: 'Total ÷ calls', cell: (r) => formatUs(r.meanUs) },
    { key: 'gpuUs', label: 'GPU time', numeric: true, title: 'GPU time of the kernels it launched', cell: (r) => (r.gpuUs > 0 ? formatUs(r.gpuUs) : '—') },
  ];

  const kernelColumns: Array<Column<TraceKernelRow>> = [
    { key: 'name', label: 'Kernel', cell: (r) => h('span', { class: 'twb-mono twb-trace-kernel-name', attrs: { title: r.name } }, r.name) },
    { key: 'category', label: 'Category', cell: (r) => h('span', { class: `twb-trace-cat twb-trace-cat-${r.category}` }, r.category) },
    { key: 'calls', label: 'Calls', numeric: true, cell: (r) => count(r.calls) },
    { key: 'totalUs', label: 'Total', numeric: true, cell: (r) => formatUs(r.totalUs) },
    { key: 'meanUs', label: 'Mean', numeric: true, cell: (r) => formatUs(r.meanUs) },
    { key: 'maxUs', label: 'Max', numeric: true, cell: (r) => formatUs(r.maxUs) },
    {
      key: 'topLauncher',
      label: 'Top launcher',
      title: 'The host op that launched most of its GPU time',
      cell: (r) => (!r.topLauncher ? h('span', { class: 'twb-dim' }, 'not traced') : known.has(r.topLauncher) ? h('button', { class: 'twb-trace-link twb-mono', attrs: { type: 'button', 'data-op': r.topLauncher }, on: { click: () => select(r.topLauncher) } }, r.topLauncher) : h('span', { class: 'twb-mono' }, r.topLauncher)),
    },
  ];

  const renderOps = () => {
    const rows = sortRows(filterByName(ops, q.text, (r) => r.opType), q.opSort, q.opDesc, (r) => r.opType);
    opHost.replaceChildren(
      sortableTable({
        columns: opColumns,
        rows,
        sortKey: q.opSort,
        descending: q.opDesc,
        limit: q.opLimit,
        className: 'twb-trace-ops-table',
        noun: 'operators',
        row: (r) => ({ class: r.opType === q.selected ? 'twb-trace-selected' : undefined, attrs: { 'data-op': r.opType, 'aria-selected': String(r.opType === q.selected) } }),
        onSort: (key) => {
          q.opDesc = key === q.opSort ? !q.opDesc : firstClickDescending(key);
          q.opSort = key as OpSortKey;
          renderOps();
        },
        onShowAll: () => {
          q.opLimit = Infinity;
          renderOps();
        },
      }),
    );
    return rows.length;
  };

  const renderKernels = () => {
    const rows = sortRows(filterByName(kernels, q.text, (r) => r.name), q.kSort, q.kDesc, (r) => r.name);
    kernelHost.replaceChildren(
      kernels.length === 0
        ? h('p', { class: 'twb-dim' }, 'No GPU kernels in this trace.')
        : sortableTable({
            columns: kernelColumns,
            rows,
            sortKey: q.kSort,
            descending: q.kDesc,
            limit: q.kLimit,
            className: 'twb-trace-kernels-table',
            noun: 'kernels',
            row: (r) => ({ attrs: { 'data-kernel': r.name } }),
            onSort: (key) => {
              q.kDesc = key === q.kSort ? !q.kDesc : firstClickDescending(key);
              q.kSort = key as KernelSortKey;
              renderKernels();
            },
            onShowAll: () => {
              q.kLimit = Infinity;
              renderKernels();
            },
          }),
    );
    return rows.length;
  };

  const renderDetail = () => {
    const op = t.opTypes.find((o) => o.opType === q.selected);
    if (!op) return void detailHost.replaceChildren(h('p', { class: 'twb-dim' }, 'Select an operator to see where it was called from and the kernels it launched.'));
    const sources = opSources(t, op.opType);
    const launched = kernelsLaunchedBy(t, op.opType);
    detailHost.replaceChildren(
      h('h3', { class: 'twb-mono twb-trace-detail-name', attrs: { 'data-op': op.opType } }, op.opType),
      facts([
        ['calls', count(op.calls)],
        ['self', `${formatUs(op.selfUs)} (${formatPercent(op.selfShare)} of host self time)`],
        ['total', formatUs(op.totalUs)],
        ['mean', formatUs(op.calls > 0 ? op.totalUs / op.calls : 0)],
      ]),
      h('h4', {}, 'Called from'),
      sources.length
        ? h('ul', { class: 'twb-trace-sources' }, ...sources.map((s) => h('li', { attrs: { 'data-frame': s.index } }, frameLink(s.frame, ctx), h('span', { class: 'twb-dim' }, ` ${s.frame.fn ? `in ${s.frame.fn} · ` : ''}${count(s.calls)} call${s.calls === 1 ? '' : 's'}`))))
        : h('p', { class: 'twb-dim' }, t.frames.length ? 'No user frame recorded for this operator (only frames outside torch and site-packages are kept).' : 'No source frames: record the trace with with_stack=True to see where each op was called.'),
      ...(ctx.openSource || !sources.length ? [] : [h('p', { class: 'twb-dim' }, 'Open the trace in VS Code to jump to these lines.')]),
      h('h4', {}, 'Kernels launched'),
      launched.length
        ? h(
            'table',
            { class: 'twb-table twb-compact twb-trace-launched' },
            h('thead', {}, h('tr', {}, h('th', {}, 'kernel'), h('th', {}, 'category'), h('th', { class: 'twb-num' }, 'calls'), h('th', { class: 'twb-num' }, 'GPU time'))),
            h('tbody', {}, ...launched.map((k) => h('tr', { attrs: { 'data-kernel': k.name } }, h('td', { class: 'twb-mono twb-trace-kernel-name', attrs: { title: k.name } }, k.name), h('td', {}, k.category), h('td', { class: 'twb-num' }, count(k.calls)), h('td', { class: 'twb-num' }, formatUs(k.totalUs))))),
          )
        : h('p', { class: 'twb-dim' }, t.kernels.length ? 'No kernel launch was traced to this operator.' : 'The trace has no GPU kernels.'),
    );
  };

  const renderAll = () => {
    const nOps = renderOps();
    const nKernels = renderKernels();
    countText.textContent = q.text.trim() ? `${count(nOps)} of ${count(ops.length)} operators, ${count(nKernels)} of ${count(kernels.length)} kernels match` : `${count(ops.length)} operators, ${count(kernels.length)} kernels`;
  };

  const filter = h('vscode-textfield', { class: 'twb-filter twb-trace-filter', attrs: { placeholder: 'Filter operators and kernels by name', 'aria-label': 'Filter operators and kernels by name' } }) as VscodeTextfield;
  filter.addEventListener('input', () => {
    q.text = filter.value;
    q.opLimit = q.kLimit = TABLE_LIMIT;
    renderAll();
  });

  root.replaceChildren(
    h(
      'div',
      { class: 'twb-trace-ops', attrs: { 'data-trace': t.id } },
      h('div', { class: 'twb-toolbar' }, filter, countText),
      h('div', { class: 'twb-trace-ops-layout' }, h('section', { class: 'twb-card twb-trace-ops-card' }, h('h2', {}, 'Host operators (summed over the trace)'), opHost), h('section', { class: 'twb-card twb-trace-detail-card' }, h('h2', {}, 'Selected operator'), detailHost)),
      card('GPU kernels', kernelHost),
    ),
  );
  renderAll();
  renderDetail();
  return [];
}
