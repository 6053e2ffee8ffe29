/**
 * The Quantization view's tables: before vs after (every figure says how it was measured), the
 * per-layer error rows with their keep-in-fp32 checkboxes, and the nodes the pass left alone.
 */
import type { VscodeCheckbox } from '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import type { CompressionReport } from '../../../engine/src/schema/compression';
import { formatBytes, formatPercent } from '../../../engine/src/util/format';
import { layerBars, LayerBars, SqnrBar } from '../charts/error-bars';
import { Child, h } from '../dom';
import { outputSqnrLabel } from '../model/compress-form';

const ms = (v: number) => `${v.toFixed(2)} ms`;

/** Before/after rows: what each figure is, both values, the change, and how it was measured. */
export function summaryTable(r: CompressionReport): HTMLElement {
  const c = r.config;
  const on = `${r.env.executionProvider} ×${c.threads}`;
  const inputs = `${r.analysis.examples} example${r.analysis.examples === 1 ? '' : 's'} (${r.analysis.inputs} inputs)`;
  const ratio = r.sizeBytes.after > 0 ? r.sizeBytes.before / r.sizeBytes.after : 0;
  const dLatency = r.latencyMs.after - r.latencyMs.before;
  const rows: Array<[key: string, label: string, before: Child, after: Child, change: Child, how: string]> = [
    ['size', 'size', formatBytes(r.sizeBytes.before), formatBytes(r.sizeBytes.after), ratio >= 1 ? `${ratio.toFixed(2)}× smaller` : `${(1 / Math.max(ratio, 1e-9)).toFixed(2)}× larger`, 'measured: model file plus external data, bytes'],
    ['latency', 'latency p50', ms(r.latencyMs.before), ms(r.latencyMs.after), `${dLatency > 0 ? '+' : dLatency < 0 ? '−' : ''}${ms(Math.abs(dLatency))}`, `measured: median of ${r.latencySamples.before.length || c.runs} runs of each model, interleaved, ${on}, batch ${c.batch} × seq ${c.seq}`],
    ['speedup', 'speedup', '', `${r.speedup.toFixed(2)}×`, r.speedup >= 1 ? 'faster' : 'slower', 'measured: p50 before ÷ p50 after, same run'],
    ['sqnr', `output SQNR (${r.output.name})`, 'reference', outputSqnrLabel(r), '', `measured on ${inputs}; higher is better`],
    ['cosine', 'output cosine', 'reference', r.output.cosine.toFixed(5), '', `measured on ${inputs}; 1 = same direction`],
    ['top1', 'top-1 agreement', 'reference', formatPercent(r.output.top1Agreement), '', `measured on ${inputs}: argmax over the last axis`],
  ];
  if (r.eval) {
    const d = (r.eval.accuracyAfter - r.eval.accuracyBefore) * 100;
    rows.push(['accuracy', 'accuracy', formatPercent(r.eval.accuracyBefore), formatPercent(r.eval.accuracyAfter), `${d > 0 ? '+' : d < 0 ? '−' : ''}${Math.abs(d).toFixed(2)} points`, `measured on ${r.eval.labels} labels of ${r.eval.examples} examples in ${r.eval.file}`]);
  }
  return h(
    'table',
    { class: 'twb-table twb-quant-summary' },
    h('thead', {}, h('tr', {}, h('th', {}, 'figure'), h('th', { class: 'twb-num' }, 'before'), h('th', { class: 'twb-num' }, 'after'), h('th', { class: 'twb-num' }, 'change'), h('th', {}, 'how'))),
    h('tbody', {}, ...rows.map(([key, label, before, after, change, how]) => h('tr', { attrs: { 'data-figure': key } }, h('td', {}, label), h('td', { class: 'twb-num' }, before), h('td', { class: 'twb-num twb-quant-after' }, after), h('td', { class: 'twb-num' }, change), h('td', { class: 'twb-dim twb-quant-how' }, how)))),
  );
}

function dbCell(b: SqnrBar, kind: string): HTMLElement {
  return h(
    'span',
    { class: `twb-db twb-db-${kind}${b.flag ? ` twb-db-${b.flag}` : ''}` },
    h('span', { class: 'twb-db-track' }, h('span', { class: 'twb-db-fill', css: { width: `${(b.length * 100).toFixed(2)}%` } })),
    h('span', { class: 'twb-db-text' }, b.label),
  );
}

function shareCell(row: LayerBars): HTMLElement {
  return h('span', { class: 'twb-share' }, h('span', { class: 'twb-share-bar' }, h('span', { class: 'twb-share-fill', css: { width: `${(row.share.length * 100).toFixed(2)}%` } })), h('span', { class: 'twb-share-text' }, row.share.label));
}

export interface LayerTableOptions {
  /** Row order: indices into report.layers. */
  order: number[];
  /** Rows shown (the rest behind "show all"). */
  limit: number;
  keep: ReadonlySet<string>;
  selected?: string;
  onSelect(node: string): void;
  onKeep(node: string, keep: boolean): void;
  onShowAll(): void;
}

/** One row per rewritten node: keep-in-fp32, name, local and cumulative SQNR bars, time share, what the pass did. */
export function layerTable(r: CompressionReport, o: LayerTableOptions): HTMLElement {
  const { maxDb, rows } = layerBars(r.layers);
  const shown = o.order.slice(0, o.limit);
  const body = h(
    'tbody',
    {},
    ...shown.map((i) => {
      const row = rows[i];
      const layer = r.layers[i];
      const box = h('vscode-checkbox', { class: 'twb-keep', attrs: { 'data-node': row.node, 'aria-label': `keep ${row.node} in fp32`, title: 'keep this node in fp32 on the next run' } }) as VscodeCheckbox;
      box.checked = o.keep.has(row.node);
      box.addEventListener('click', (e) => e.stopPropagation());
      box.addEventListener('change', () => o.onKeep(row.node, box.checked));
      const select = () => o.onSelect(row.node);
      const selected = row.node === o.selected;
      return h(
        'tr',
        {
          class: `twb-layer-row${selected ? ' twb-current' : ''}${row.local.flag === 'low' || row.cumulative.flag === 'low' ? ' twb-layer-low' : ''}`,
          attrs: { 'data-node': row.node, tabindex: 0, 'aria-selected': selected ? 'true' : 'false' },
          on: { click: select, keydown: (e) => ((e as KeyboardEvent).key === 'Enter' || (e as KeyboardEvent).key === ' ') && (e.preventDefault(), select()) },
        },
        h('td', {}, box),
        h('td', { class: 'twb-mono twb-layer-node', attrs: { title: row.node } }, row.node),
        h('td', {}, row.opType),
        h('td', {}, dbCell(row.local, 'local')),
        h('td', {}, dbCell(row.cumulative, 'cumulative')),
        h('td', {}, shareCell(row)),
        h('td', { class: 'twb-dim' }, layer.detail ?? ''),
      );
    }),
  );
  const more = o.order.length > shown.length ? h('vscode-button', { class: 'twb-more', attrs: { secondary: true }, on: { click: o.onShowAll } }, `Show all ${o.order.length} layers (${o.order.length - shown.length} hidden)`) : null;
  return h(
    'div',
    { class: 'twb-table-wrap' },
    h(
      'table',
      { class: 'twb-table twb-quant-layers', attrs: { role: 'grid' } },
      h('thead', {}, h('tr', {}, h('th', {}, 'keep fp32'), h('th', {}, 'node'), h('th', {}, 'op'), h('th', {}, `local SQNR (0–${maxDb} dB)`), h('th', {}, `cumulative SQNR (0–${maxDb} dB)`), h('th', {}, 'time share'), h('th', {}, 'what changed'))),
      body,
    ),
    more,
  );
}

/** Nodes that matched but were not rewritten, with the reason. */
export function skippedTable(r: CompressionReport): HTMLElement {
  if (r.skipped.length === 0) return h('p', { class: 'twb-dim' }, 'Every node the pass looks for was rewritten.');
  return h(
    'table',
    { class: 'twb-table twb-compact twb-quant-skipped' },
    h('thead', {}, h('tr', {}, h('th', {}, 'node'), h('th', {}, 'op'), h('th', {}, 'why not rewritten'))),
    h('tbody', {}, ...r.skipped.map((n) => h('tr', {}, h('td', { class: 'twb-mono' }, n.node), h('td', {}, n.opType), h('td', { class: 'twb-quant-reason' }, n.reason)))),
  );
}
