/**
 * Training: one training run at a time — what ran where and why, how fast, how well it learned (loss
 * and accuracy curves against the bar), where a step's kernel time goes (phase, op type, layer),
 * memory over a step, mixed precision and the ONNX export check — and, while a job started from a
 * command is under way, its curves drawn live until the finished run replaces them.
 */
import type { TrainingRun } from '../../../engine/src/schema/training';
import { formatCount, formatPercent, formatUs } from '../../../engine/src/util/format';
import { card, emptyState, facts, h } from '../dom';
import { opTypeRows, OpSortKey, OpTypeRow } from '../model/train-breakdown';
import { accuracyVerdict, backendReason, flopLabel, ONNX_TOLERANCE, shortModel, taskLabel, trainingPickerLabel, variantLabel } from '../model/train-label';
import { variantNote } from '../model/learned-spans';
import { localTime } from '../model/run-label';
import { AppState, selectedTraining } from '../state';
import { chartSlot, ChartSlot } from './chart-slot';
import { docPicker } from './doc-picker';
import { learnedSpansGrid } from './learned-spans';
import { layerBars, opTypeTable, phaseCard, phaseLegend } from './train-breakdown';
import { accuracySlot, lossSlot } from './train-curve';
import { LivePanel, livePanel } from './train-live';
import { memoryLegend, memorySplitCard, mixedPrecisionCard, stepMemoryFigure } from './train-memory';
import type { View, ViewContext } from './view';

const ms = (v: number) => formatUs(v * 1000);

function stat(label: string, value: string, note?: string, cls = ''): HTMLElement {
  return h('div', { class: `twb-stat ${cls}`.trim() }, h('div', { class: 'twb-stat-label' }, label), h('div', { class: 'twb-stat-value' }, value), note ? h('div', { class: 'twb-stat-note' }, note) : null);
}

function headline(run: TrainingRun): HTMLElement {
  const v = accuracyVerdict(run);
  const verdict = v.pass === undefined ? (v.bar !== undefined ? `bar ${formatPercent(v.bar)}` : 'no bar for this task') : `${v.pass ? 'pass' : 'fail'}: bar ${formatPercent(v.bar as number)}`;
  const sp = run.spec;
  return h(
    'div',
    { class: 'twb-stats twb-train-stats' },
    stat('model', shortModel(run.model), `${sp.layers} layers · hidden ${sp.hidden} · ${sp.heads} heads · ${sp.kind}`),
    stat('variant', run.variant.attention, [`layer sharing: ${run.variant.shareLayers}`, variantNote(run.variant.attention, sp.maxSeq)].filter(Boolean).join(' · '), 'twb-stat-variant'),
    stat('backend', run.backend, backendReason(run), 'twb-stat-backend'),
    stat('parameters', formatCount(run.params), 'trainable (shared tensors once)'),
    stat('FLOPs per step', flopLabel(run.flopsPerStep), 'counted (forward × 3), not measured', 'twb-stat-flops'),
    stat('step time p50', ms(run.stepMs.p50), `p90 ${ms(run.stepMs.p90)} · ${run.stepMs.samples.length} steps`, 'twb-stat-p50'),
    stat('tokens / s', formatCount(Math.round(run.tokensPerSecond)), `batch ${run.config.batch} × seq ${run.config.seq} ÷ p50`),
    stat('final accuracy', v.final === undefined ? '—' : formatPercent(v.final), verdict, `twb-stat-accuracy${v.pass === true ? ' twb-pass' : v.pass === false ? ' twb-fail' : ''}`),
  );
}

function onnxCard(run: TrainingRun): HTMLElement | null {
  if (!run.onnx) return null;
  const ok = run.onnx.maxAbsDiff <= ONNX_TOLERANCE;
  return card(
    'ONNX export check',
    facts([
      ['written to', h('span', { class: 'twb-mono' }, run.onnx.path)],
      ['max |ORT − tfjs| on logits', h('span', { class: `twb-onnx-diff ${ok ? 'twb-pass' : 'twb-fail'}` }, `${run.onnx.maxAbsDiff.toExponential(2)} — ${ok ? 'pass' : 'fail'} (tolerance ${ONNX_TOLERANCE.toExponential(0)})`)],
    ]),
  );
}

function emptyTraining(s: AppState): HTMLElement {
  if (s.session?.mode === 'report') return emptyState('This report holds no training runs.');
  return emptyState(
    'No training runs yet.',
    h('p', {}, 'Run "Transformer Workbench: Train Built-in Model…" from the command palette, or on the command line ', h('code', {}, 'twb train builtin:tiny-bert --task count-compare --json run.json'), ', and open the run from the Runs view.'),
  );
}

export function createTrainingView(ctx: ViewContext): View {
  let root: HTMLElement | undefined;
  let live: LivePanel | undefined;
  let opsHost: HTMLElement | undefined;
  let slots: ChartSlot[] = [];
  let resize: ResizeObserver | undefined;
  let sortKey: OpSortKey = 'totalUs';
  let descending = true;

  const fit = () => {
    slots.forEach((sl) => sl.fit());
    live?.fit();
  };

  const drawOps = (run: TrainingRun, rows: OpTypeRow[]) => {
    opsHost?.replaceChildren(
      opTypeTable(run, rows, {
        sortKey,
        descending,
        onSort: (key) => {
          descending = key === sortKey ? !descending : key !== 'opType';
          sortKey = key;
          drawOps(run, rows);
        },
      }),
    );
  };

  const runSections = (s: AppState, run: TrainingRun): HTMLElement => {
    const c = run.config;
    const loss = lossSlot(run.loss, c.steps);
    const acc = accuracySlot(run.accuracy, c.steps, run.accuracyBar);
    const mem = chartSlot((w) => stepMemoryFigure(run, w));
    slots = [loss, acc, mem];
    opsHost = h('div', { class: 'twb-train-ops-host' });
    const rows = opTypeRows(run.ops);
    drawOps(run, rows);
    const picker = docPicker({ id: 'twb-training-picker', label: 'Training run', items: s.trainings.map((r, i) => ({ value: r.id, label: trainingPickerLabel(r, i) })), current: run.id, onPick: (id) => ctx.store.update({ selectedTrainingId: id }) });
    return h(
      'div',
      { class: 'twb-training-run', attrs: { 'data-run': run.id } },
      h(
        'header',
        { class: 'twb-view-header twb-quant-header' },
        h(
          'div',
          {},
          h('h1', {}, `Training: ${shortModel(run.model)} · ${variantLabel(run.variant)} · ${taskLabel(run)}`, run.cancelled ? h('span', { class: 'twb-badge twb-badge-cancelled' }, 'cancelled') : null),
          h('p', { class: 'twb-dim' }, `${c.steps} steps · batch ${c.batch} × seq ${c.seq} · lr ${c.lr} (warm-up ${c.warmupSteps}) · weight decay ${c.weightDecay} · clip ${c.clipNorm} · seed ${c.seed} · tfjs ${run.env.tfjsVersion} on ${run.env.cpuCount} cores · ${localTime(run.createdAt)}`),
          run.cancelled ? h('p', { class: 'twb-untrusted' }, 'Cancelled: the curves hold the steps done before it stopped.') : null,
        ),
        picker,
      ),
      headline(run),
      h('div', { class: 'twb-grid' }, card(`Loss (${run.loss.length} steps)`, loss.el), card(`Accuracy: ${run.accuracyMetric}`, acc.el)),
      run.spans ? card('Learned attention spans', learnedSpansGrid(run.spans, `at the end of ${run.loss.length} training steps`)) : null,
      h('div', { class: 'twb-grid' }, card('Phases of a step', phaseCard(run)), card('Kernel time by layer', phaseLegend(), layerBars(run))),
      card(`Kernel time by op type × phase (${rows.length} op types)`, opsHost),
      h('div', { class: 'twb-grid twb-grid-memory' }, card('Memory at the peak', memorySplitCard(run)), card('Memory over one step', memoryLegend(), mem.el)),
      card('Mixed precision', mixedPrecisionCard(run)),
      onnxCard(run),
      card('Warnings', run.warnings.length ? h('ul', { class: 'twb-warnings' }, ...run.warnings.map((w) => h('li', {}, w))) : h('p', { class: 'twb-dim' }, 'No warnings.')),
    );
  };

  const build = (s: AppState) => {
    if (!root) return;
    slots = [];
    opsHost = undefined;
    const run = selectedTraining(s);
    if (!run && !s.liveTraining) {
      live = undefined;
      return void root.replaceChildren(emptyTraining(s));
    }
    live = livePanel();
    root.replaceChildren(h('div', { class: 'twb-training' }, live.el, run ? runSections(s, run) : null));
    live.update(s.liveTraining);
    fit();
  };

  return {
    mount(r, s) {
      root = r;
      build(s);
      resize = new ResizeObserver(fit);
      resize.observe(r);
    },
    update(s, prev) {
      if (s.session !== prev.session || s.trainings !== prev.trainings || selectedTraining(s) !== selectedTraining(prev) || !s.liveTraining !== !prev.liveTraining) return build(s);
      if (s.liveTraining !== prev.liveTraining) live?.update(s.liveTraining);
    },
    unmount() {
      resize?.disconnect();
      resize = undefined;
      root = live = opsHost = undefined;
      slots = [];
    },
  };
}
