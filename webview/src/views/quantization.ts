/**
 * Quantization: one compression report (quantization or pruning) at a time — before vs after,
 * per-layer error beside each layer's share of the time, a selected layer's histograms, the nodes
 * left alone, notes and warnings — and the loop that makes it useful: tick layers to keep in fp32,
 * Re-run with the report's configuration, and the new report arrives here selected.
 */
import type { VscodeSingleSelect } from '@vscode-elements/elements/dist/vscode-single-select/index.js';
import type { CompressionReport } from '../../../engine/src/schema/compression';
import { LayerOrder, orderLayers } from '../charts/error-bars';
import { card, emptyState, h } from '../dom';
import { compressFormOf, keptList, modeLabel, reportPickerLabel, shortModelName } from '../model/compress-form';
import { localTime } from '../model/run-label';
import { AppState, canRun, selectedReport } from '../state';
import { jobPanel, UNTRUSTED_TEXT } from './progress';
import { layerHistograms } from './quant-histograms';
import { layerTable, skippedTable, summaryTable } from './quant-tables';
import type { View, ViewContext } from './view';

/** Layer rows drawn before "show all": enough for any BERT-size model at once. */
const ROW_LIMIT = 300;

export function createQuantizationView(ctx: ViewContext): View {
  let root: HTMLElement | undefined;
  let report: CompressionReport | undefined;
  let order: LayerOrder = 'graph';
  let limit = ROW_LIMIT;
  let selected: string | undefined;
  let keep = new Set<string>();
  let layersHost: HTMLElement | undefined;
  let histHost: HTMLElement | undefined;
  let keptHost: HTMLElement | undefined;
  let jobHost: HTMLElement | undefined;
  let rerun: (HTMLElement & { disabled: boolean }) | undefined;
  let resize: ResizeObserver | undefined;
  let drawnWidth = 0;

  const rerunLabel = () => `Re-run keeping ${keep.size} layer${keep.size === 1 ? '' : 's'} in fp32`;

  const drawLayers = () => {
    if (!report || !layersHost) return;
    const r = report;
    layersHost.replaceChildren(
      r.layers.length === 0
        ? h('p', { class: 'twb-dim' }, 'The pass rewrote no node, so there is no per-layer error to show.')
        : layerTable(r, {
            order: orderLayers(r.layers, order),
            limit,
            keep,
            selected,
            onSelect: (node) => {
              selected = node;
              for (const tr of layersHost?.querySelectorAll('tr.twb-layer-row') ?? []) {
                const on = tr.getAttribute('data-node') === node;
                tr.classList.toggle('twb-current', on);
                tr.setAttribute('aria-selected', on ? 'true' : 'false');
              }
              drawnWidth = 0;
              drawHistograms();
            },
            onKeep: (node, on) => {
              if (on) keep.add(node);
              else keep.delete(node);
              updateKeep();
            },
            onShowAll: () => {
              limit = Infinity;
              drawLayers();
            },
          }),
    );
  };

  const drawHistograms = () => {
    if (!report || !histHost) return;
    const layer = report.layers.find((l) => l.node === selected);
    if (!layer) return void histHost.replaceChildren(h('p', { class: 'twb-dim' }, 'Select a layer in the table to see its weight and activation histograms, before and after.'));
    const width = Math.max(0, histHost.clientWidth);
    if (width > 0 && width === drawnWidth) return;
    drawnWidth = width;
    const db = (v: number | null | undefined) => (v === undefined ? '—' : v === null ? 'exact' : `${v.toFixed(1)} dB`);
    const facts = [layer.opType, layer.detail, `weight SQNR ${db(layer.weightSqnrDb)}`, `local ${db(layer.sqnrDb)}`, `cumulative ${db(layer.cumulativeSqnrDb)}`].filter(Boolean).join(' · ');
    histHost.replaceChildren(h('h3', { class: 'twb-hist-title twb-mono' }, layer.node), h('p', { class: 'twb-dim' }, facts), layerHistograms(layer, width || 640, report.kind === 'pruning' ? 'sqrt' : 'linear', report.config.mode));
  };

  /** The report's own exclusions that are not layer rows: they can be unticked here. */
  const drawKept = () => {
    if (!report || !keptHost) return;
    const others = report.config.exclude.filter((n) => !report?.layers.some((l) => l.node === n));
    if (others.length === 0) return void keptHost.replaceChildren();
    keptHost.replaceChildren(
      card(
        `Kept in fp32 by this report (${others.length})`,
        h('p', { class: 'twb-dim' }, 'These nodes were excluded from the pass; untick one to let the next run rewrite it.'),
        h(
          'ul',
          { class: 'twb-kept-list' },
          ...others.map((n) => {
            const box = h('vscode-checkbox', { class: 'twb-keep', attrs: { 'data-node': n, label: n } });
            box.checked = keep.has(n);
            box.addEventListener('change', () => {
              if (box.checked) keep.add(n);
              else keep.delete(n);
              updateKeep();
            });
            return h('li', {}, box);
          }),
        ),
      ),
    );
  };

  const updateKeep = () => {
    if (rerun) rerun.textContent = rerunLabel();
  };

  const updateJob = (s: AppState) => {
    if (rerun) rerun.disabled = !canRun(s) || !!s.job;
    jobHost?.replaceChildren(...[jobPanel(s, ctx.actions)].filter((x): x is HTMLElement => !!x));
  };

  const picker = (s: AppState, current: CompressionReport): HTMLElement | null => {
    if (s.compressions.length < 2) return null;
    const sel = h('vscode-single-select', { class: 'twb-report-picker', attrs: { id: 'twb-report-picker', 'aria-label': 'Report shown' } }) as VscodeSingleSelect;
    s.compressions.forEach((r, i) => sel.append(h('vscode-option', { attrs: { value: r.id, selected: r.id === current.id } }, reportPickerLabel(r, i))));
    sel.addEventListener('change', () => sel.value && sel.value !== ctx.store.state.selectedReportId && ctx.store.update({ selectedReportId: sel.value }));
    return h('div', { class: 'twb-field twb-report-picker-box' }, h('vscode-label', { attrs: { for: 'twb-report-picker' } }, `Report (${s.compressions.length})`), sel);
  };

  const build = (s: AppState) => {
    if (!root) return;
    const r = selectedReport(s);
    if (r !== report) {
      report = r;
      keep = new Set(r?.config.exclude ?? []);
      selected = undefined;
      limit = ROW_LIMIT;
    }
    drawnWidth = 0;
    if (!r) {
      root.replaceChildren(
        emptyState(
          s.session?.mode === 'report' ? 'This report holds no quantization or pruning results.' : 'No quantization or pruning reports yet.',
          s.session?.mode === 'report' ? null : h('p', {}, 'Run "Transformer Workbench: Quantize Model…" or "Prune Model…" from the command palette or an .onnx file\'s context menu, or open a report kept in .twb/runs from the Runs view.'),
        ),
      );
      return;
    }
    const pruning = r.kind === 'pruning';
    const c = r.config;
    layersHost = h('div', { class: 'twb-quant-layer-host' });
    histHost = h('div', { class: 'twb-hist-host', attrs: { id: 'twb-quant-hist' } });
    keptHost = h('div');
    jobHost = h('div', { class: 'twb-job-host' });
    rerun = h('vscode-button', { attrs: { id: 'twb-quant-rerun' } }, rerunLabel());
    rerun.addEventListener('click', () => {
      if (!report || !rerun || rerun.disabled) return;
      ctx.actions.startCompress(compressFormOf(report, keptList(report, keep)));
    });
    const sortButton = (o: LayerOrder, label: string) => {
      const b = h('vscode-button', { attrs: { id: `twb-layer-sort-${o}`, secondary: order !== o, 'aria-pressed': order === o ? 'true' : 'false' } }, label);
      b.addEventListener('click', () => {
        if (order === o) return;
        order = o;
        build(ctx.store.state);
      });
      return b;
    };
    const blocked = !canRun(s) ? (s.session?.mode === 'report' ? 'Re-running is not available in an offline report.' : UNTRUSTED_TEXT) : null;
    root.replaceChildren(
      h(
        'div',
        { class: 'twb-quant', attrs: { 'data-report': r.id } },
        h(
          'header',
          { class: 'twb-view-header twb-quant-header' },
          h('div', {}, h('h1', {}, `${pruning ? 'Pruning' : 'Quantization'}: ${modeLabel(r)} · ${shortModelName(r)}`), h('p', { class: 'twb-dim' }, `${r.model.source} · ${c.executionProvider} ×${c.threads} · ONNX Runtime ${r.env.ortVersion} · ${localTime(r.createdAt)}${c.exclude.length ? ` · ${c.exclude.length} node${c.exclude.length === 1 ? '' : 's'} kept in fp32` : ''}`), h('p', { class: 'twb-dim' }, 'Written to ', h('span', { class: 'twb-mono' }, r.outFile))),
          picker(s, r),
        ),
        card('Before and after (all figures measured in this run)', summaryTable(r)),
        card(
          `Per-layer error (${r.layers.length} ${pruning ? 'pruned' : 'rewritten'} node${r.layers.length === 1 ? '' : 's'})`,
          h('p', { class: 'twb-dim' }, 'Local SQNR: the node alone, fed the original model\'s inputs to it. Cumulative: the same tensor in the whole transformed model, with the error of every node before it. Higher is better; below 20 dB is flagged. Time share: of the original model\'s kernel time.'),
          h('div', { class: 'twb-toolbar' }, h('span', { class: 'twb-segmented', attrs: { role: 'group', 'aria-label': 'Layer order' } }, sortButton('graph', 'Graph order'), sortButton('error', 'Worst error first')), rerun, blocked ? h('span', { class: 'twb-untrusted' }, blocked) : null),
          jobHost,
          layersHost,
        ),
        keptHost,
        card('Histograms of the selected layer', histHost),
        card(`Not ${pruning ? 'pruned' : 'rewritten'} (${r.skipped.length})`, skippedTable(r)),
        r.notes.length ? card('Notes', h('ul', { class: 'twb-notes' }, ...r.notes.map((n) => h('li', {}, n)))) : null,
        card('Warnings', r.warnings.length ? h('ul', { class: 'twb-warnings' }, ...r.warnings.map((w) => h('li', {}, w))) : h('p', { class: 'twb-dim' }, 'No warnings.')),
      ),
    );
    drawLayers();
    drawHistograms();
    drawKept();
    updateJob(s);
  };

  return {
    mount(r, s) {
      root = r;
      build(s);
      resize = new ResizeObserver(() => drawHistograms());
      resize.observe(r);
    },
    update(s, prev) {
      if (s.session !== prev.session || s.compressions !== prev.compressions || selectedReport(s) !== selectedReport(prev)) return build(s);
      if (s.job !== prev.job || s.notice !== prev.notice) updateJob(s);
    },
    unmount() {
      resize?.disconnect();
      resize = undefined;
      root = layersHost = histHost = keptHost = jobHost = rerun = undefined;
    },
  };
}
