/**
 * Memory plan: bytes per GPU under data parallelism and ZeRO stages 0–3 — the headline, the
 * breakdown per stage as stacked bars, bytes per GPU against N on log axes with the requested N
 * marked, and an optional GPU-memory line showing which stages fit. N and the stage recompute at
 * once with the engine's pure `planMemory`.
 */
import type { VscodeSingleSelect } from '@vscode-elements/elements/dist/vscode-single-select/index.js';
import type { VscodeTextfield } from '@vscode-elements/elements/dist/vscode-textfield/index.js';
import type { MemoryPlan } from '../../../engine/src/schema/parallel';
import { formatBytes, formatCount } from '../../../engine/src/util/format';
import { stagesThatFit } from '../charts/memory-lines';
import { card, emptyState, errorBox, h } from '../dom';
import { MemoryChoice, MemoryDraft, memoryDraftOf, parseMemoryDraft, replan } from '../model/memory-plan-form';
import { localTime } from '../model/run-label';
import { AppState, selectedMemoryPlan } from '../state';
import { chartSlot, ChartSlot } from './chart-slot';
import { docPicker } from './doc-picker';
import { memoryLinesFigure, partsLegend, stackedBarsFigure, zeroLegend } from './memory-plan-charts';
import { stat } from './pipeline-sections';
import type { View, ViewContext } from './view';

function emptyMemoryPlan(s: AppState): HTMLElement {
  if (s.session?.mode === 'report') return emptyState('This report holds no memory plans.');
  return emptyState('No memory plans yet.', h('p', {}, 'On the command line: ', h('code', {}, 'twb memory-plan --params 7e9 --gpus 8 --zero 2 --json plan.json'), ', then open the plan from the Runs view.'));
}

function headline(p: MemoryPlan): HTMLElement {
  const b = p.breakdown;
  const total = stat('bytes per GPU', formatBytes(p.bytesPerGpu), `ZeRO ${p.input.zeroStage} on ${p.input.gpus} GPU${p.input.gpus === 1 ? '' : 's'}`, 'twb-memory-plan-total');
  total.dataset.value = String(p.bytesPerGpu);
  return h(
    'div',
    { class: 'twb-stats twb-memory-plan-stats' },
    stat('parameters', formatCount(p.input.params), h('span', { class: 'twb-mono' }, p.model)),
    stat('GPUs (N)', String(p.input.gpus), 'data parallel'),
    stat('ZeRO stage', String(p.input.zeroStage), ['nothing partitioned', 'optimizer states partitioned', 'optimizer states and gradients partitioned', 'everything partitioned'][p.input.zeroStage]),
    total,
    stat('model states', formatBytes(b.params + b.grads + b.optimizer), `params ${formatBytes(b.params)} · grads ${formatBytes(b.grads)} · optimizer ${formatBytes(b.optimizer)}`),
    stat('activations', b.activations > 0 ? formatBytes(b.activations) : 'not counted', p.input.checkpointing ? 'one micro-batch, with checkpointing' : 'one micro-batch'),
  );
}

export function createMemoryPlanView(ctx: ViewContext): View {
  let root: HTMLElement | undefined;
  let saved: MemoryPlan | undefined;
  let draft: MemoryDraft | undefined;
  let hosts: { results: HTMLElement; error: HTMLElement; status: HTMLElement } | undefined;
  let slots: ChartSlot[] = [];
  let resize: ResizeObserver | undefined;
  /** The GPU memory typed, kept across plans (it describes the user's hardware, not a plan). */
  let gpuGiB = '';

  const fit = () => slots.forEach((sl) => sl.fit());

  const drawResults = (p: MemoryPlan, choice: MemoryChoice) => {
    if (!hosts) return;
    const fits = choice.gpuBytes === undefined ? undefined : stagesThatFit(p.byStage, choice.gpuBytes);
    const lines = chartSlot((w) => memoryLinesFigure(p, w, choice.gpuBytes));
    slots = [lines];
    hosts.status.replaceChildren(p === saved ? h('span', { class: 'twb-badge twb-badge-measured' }, 'as saved') : h('span', { class: 'twb-badge twb-badge-estimate twb-memory-plan-unsaved' }, 'recomputed (not saved)'));
    hosts.results.replaceChildren(
      headline(p),
      h(
        'div',
        { class: 'twb-grid' },
        card(
          `By ZeRO stage at N = ${p.input.gpus}`,
          partsLegend(),
          stackedBarsFigure(p, fits),
          fits === undefined ? null : h('p', { class: 'twb-memory-fits' }, fits.length ? `Fits in ${formatBytes(choice.gpuBytes as number)}: ZeRO ${fits.join(', ')}.` : `No ZeRO stage fits in ${formatBytes(choice.gpuBytes as number)} at N = ${p.input.gpus}.`),
        ),
        card('Bytes per GPU against N', zeroLegend(), lines.el),
      ),
      card('Formulas', h('ul', { class: 'twb-memory-formulas' }, ...p.formulas.map((f) => h('li', {}, f)))),
      card('Warnings', p.warnings.length ? h('ul', { class: 'twb-warnings' }, ...p.warnings.map((w) => h('li', {}, w))) : h('p', { class: 'twb-dim' }, 'No warnings.')),
    );
    fit();
  };

  const onDraft = () => {
    if (!saved || !hosts || !draft) return;
    const choice = parseMemoryDraft(draft);
    if ('error' in choice) return void hosts.error.replaceChildren(errorBox({ message: choice.error }, 'Cannot plan this'));
    try {
      const p = replan(saved, choice);
      hosts.error.replaceChildren();
      drawResults(p, choice);
    } catch (e) {
      hosts.error.replaceChildren(errorBox({ message: e instanceof Error ? e.message : String(e) }, 'Cannot plan this'));
    }
  };

  const controls = (d: MemoryDraft): HTMLElement => {
    const gpus = h('vscode-textfield', { attrs: { id: 'twb-memory-gpus', type: 'number', min: 1, inputmode: 'numeric' } }) as VscodeTextfield;
    gpus.value = d.gpus;
    const zero = h('vscode-single-select', { attrs: { id: 'twb-memory-zero', 'aria-label': 'ZeRO stage' } }) as VscodeSingleSelect;
    for (const z of ['0', '1', '2', '3']) zero.append(h('vscode-option', { attrs: { value: z, selected: z === d.zeroStage } }, `ZeRO ${z}`));
    const gpu = h('vscode-textfield', { attrs: { id: 'twb-memory-gpu-gib', type: 'number', min: 0, step: 'any', placeholder: 'e.g. 80' } }) as VscodeTextfield;
    gpu.value = d.gpuGiB;
    const on = (el: HTMLElement & { value: string }, key: keyof MemoryDraft) => {
      const changed = () => {
        if (!draft || draft[key] === el.value) return;
        draft[key] = el.value;
        if (key === 'gpuGiB') gpuGiB = el.value;
        onDraft();
      };
      el.addEventListener('input', changed);
      el.addEventListener('change', changed);
    };
    on(gpus, 'gpus');
    on(zero, 'zeroStage');
    on(gpu, 'gpuGiB');
    const field = (el: HTMLElement, label: string, help: string) => h('div', { class: 'twb-field' }, h('vscode-label', { attrs: { for: el.id } }, label), el, h('div', { class: 'twb-field-help' }, help));
    return h('div', { class: 'twb-pipeline-controls' }, field(gpus, 'N: GPUs', 'data-parallel'), field(zero, 'ZeRO stage', '0: none partitioned … 3: all'), field(gpu, 'GPU memory (GiB)', 'optional: draws a line to see what fits'));
  };

  const build = (s: AppState) => {
    if (!root) return;
    slots = [];
    saved = selectedMemoryPlan(s);
    if (!saved) {
      hosts = undefined;
      return void root.replaceChildren(emptyMemoryPlan(s));
    }
    const p = saved;
    draft = memoryDraftOf(p, gpuGiB);
    hosts = { results: h('div', { class: 'twb-memory-plan-results' }), error: h('div', { class: 'twb-memory-plan-error-host' }), status: h('span') };
    const picker = docPicker({ id: 'twb-memory-plan-picker', label: 'Memory plan', items: s.memoryPlans.map((q, i) => ({ value: q.id, label: `${i + 1}. ${q.model} · N ${q.input.gpus} · ZeRO ${q.input.zeroStage}` })), current: p.id, onPick: (id) => ctx.store.update({ selectedMemoryPlanId: id }) });
    root.replaceChildren(
      h(
        'div',
        { class: 'twb-memory-plan', attrs: { 'data-plan': p.id } },
        h('header', { class: 'twb-view-header twb-quant-header' }, h('div', {}, h('h1', {}, `Memory plan: ${p.model} · ${formatCount(p.input.params)} parameters`), h('p', { class: 'twb-dim' }, `mixed-precision Adam · ${localTime(p.createdAt)}`)), picker),
        h('section', { class: 'twb-card' }, h('h2', {}, 'Data parallelism ', hosts.status), controls(draft), hosts.error),
        hosts.results,
      ),
    );
    onDraft();
  };

  return {
    mount(r, s) {
      root = r;
      build(s);
      resize = new ResizeObserver(fit);
      resize.observe(r);
    },
    update(s, prev) {
      if (s.session !== prev.session || s.memoryPlans !== prev.memoryPlans || selectedMemoryPlan(s) !== selectedMemoryPlan(prev)) build(s);
    },
    unmount() {
      resize?.disconnect();
      resize = undefined;
      root = saved = draft = hosts = undefined;
      slots = [];
    },
  };
}
