/**
 * Pipeline: one pipeline plan — its schedule as a Gantt chart of stages × time with the bubbles
 * visible, bubble against the closed form, per-stage occupancy and memory — with controls for the
 * schedule, P, M, V and the hop time that re-simulate at once from the plan's unit costs, a Measure
 * button that asks the host to run the shape as a real pipeline, and the measured pipeline beside
 * its simulation when the plan has one.
 */
import type { PipelinePlan } from '../../../engine/src/schema/parallel';
import { card, emptyState, errorBox, h } from '../dom';
import { localTime } from '../model/run-label';
import { draftOf, figuresFor, measurable, measureParams, parseShape, PipelineFigures, PipelineShape, savedFigures, scheduleLabel, shapeOf, ShapeDraft } from '../model/pipeline-shape';
import { AppState, canRun, noticeOf, selectedPipeline } from '../state';
import { chartSlot, ChartSlot } from './chart-slot';
import { docPicker } from './doc-picker';
import { shapeControls } from './pipeline-controls';
import { ganttFigure, ganttLegend, kindsOf } from './pipeline-gantt';
import { measuredSection } from './pipeline-measured';
import { costSourceCard, headline, stageTable, warningsCard } from './pipeline-sections';
import { jobPanel, UNTRUSTED_TEXT } from './progress';
import type { View, ViewContext } from './view';

const shortModel = (m: string) => m.replace(/^builtin:/, '');

function emptyPipeline(s: AppState): HTMLElement {
  if (s.session?.mode === 'report') return emptyState('This report holds no pipeline plans.');
  return emptyState('No pipeline plans yet.', h('p', {}, 'On the command line: ', h('code', {}, 'twb pipeline builtin:tiny-gpt --stages 2 --microbatches 8 --json plan.json'), ', then open the plan from the Runs view.'));
}

/** Why Measure is off for this plan and state, or null when it is on. */
function measureBlocked(s: AppState, plan: PipelinePlan, shape: PipelineShape | undefined): string | null {
  if (s.session?.mode === 'report') return 'Measuring needs VS Code: this offline report can only simulate.';
  if (!canRun(s)) return UNTRUSTED_TEXT;
  const m = measurable(plan);
  if (!m.ok) return m.reason;
  if (!shape) return 'Fix the shape above to measure it.';
  if (s.job) return 'A run is in progress.';
  return null;
}

export function createPipelineView(ctx: ViewContext): View {
  let root: HTMLElement | undefined;
  let plan: PipelinePlan | undefined;
  let draft: ShapeDraft | undefined;
  /** The shape of the draft when it parses and simulates, else undefined. */
  let shape: PipelineShape | undefined;
  let figures: PipelineFigures | undefined;
  let hosts: { results: HTMLElement; error: HTMLElement; status: HTMLElement; job: HTMLElement; measureNote: HTMLElement } | undefined;
  let measure: (HTMLElement & { disabled: boolean }) | undefined;
  let slots: ChartSlot[] = [];
  let measuredSlots: ChartSlot[] = [];
  let resize: ResizeObserver | undefined;

  const fit = () => [...slots, ...measuredSlots].forEach((sl) => sl.fit());

  const drawResults = (p: PipelinePlan, f: PipelineFigures) => {
    if (!hosts) return;
    const gantt = chartSlot((w) => ganttFigure(f.timeline, f.shape.stages, f.makespanUs, w, { cls: 'twb-gantt-main', chunks: f.shape.chunks, label: `${scheduleLabel(f.shape)} pipeline, ${f.shape.stages} stages × ${f.shape.microbatches} micro-batches` }));
    slots = [gantt];
    hosts.status.replaceChildren(f.resimulated ? h('span', { class: 'twb-badge twb-badge-estimate twb-pipeline-unsaved' }, 'simulated (not saved)') : h('span', { class: 'twb-badge twb-badge-measured twb-pipeline-saved' }, 'as saved'));
    hosts.results.replaceChildren(
      headline(p, f),
      card(`Schedule: ${f.timeline.length} blocks on ${f.shape.stages} stages`, ganttLegend(kindsOf(f.timeline), f.shape.chunks), gantt.el),
      card('Stages', stageTable(p, f)),
      warningsCard(f.warnings),
    );
    fit();
  };

  const updateMeasure = (s: AppState) => {
    if (!plan || !hosts || !measure) return;
    const blocked = measureBlocked(s, plan, shape);
    measure.disabled = blocked !== null;
    hosts.measureNote.textContent = blocked ?? 'Runs each stage as its own ONNX Runtime session, forward only, and adds the measured plan.';
    hosts.job.replaceChildren(...[s.job?.kind === 'pipeline' || s.notice ? jobPanel(s, ctx.actions) : null].filter((x): x is HTMLElement => !!x));
  };

  const onDraft = (next: ShapeDraft) => {
    if (!plan || !hosts) return;
    draft = next;
    const parsed = parseShape(next);
    const result = 'error' in parsed ? parsed : figuresFor(plan, parsed);
    if ('error' in result) {
      shape = undefined;
      // The last good chart stays: the user is likely mid-edit.
      hosts.error.replaceChildren(errorBox({ message: result.error, hint: 'The charts below still show the last shape that could run.' }, 'This shape cannot run'));
    } else {
      shape = result.shape;
      figures = result;
      hosts.error.replaceChildren();
      drawResults(plan, result);
    }
    updateMeasure(ctx.store.state);
  };

  const startMeasure = () => {
    const s = ctx.store.state;
    if (!plan || !shape || measureBlocked(s, plan, shape) !== null) return;
    const { id, reply } = ctx.client.request('pipeline/measure', measureParams(plan, shape));
    ctx.store.update({ notice: undefined, job: { requestId: id, phase: 'starting', done: 0, total: 0, message: 'Starting the measured pipeline…', cancelling: false, kind: 'pipeline' } });
    void reply.then((r) =>
      ctx.store.update((cur) => ({
        job: cur.job?.requestId === id ? undefined : cur.job,
        notice: 'err' in r ? noticeOf(r.err) : undefined,
        ...('ok' in r && cur.pipelines.some((p) => p.id === r.ok.planId) ? { selectedPipelineId: r.ok.planId } : {}),
      })),
    );
  };

  const build = (s: AppState) => {
    if (!root) return;
    slots = [];
    measuredSlots = [];
    plan = selectedPipeline(s);
    if (!plan) {
      hosts = measure = undefined;
      return void root.replaceChildren(emptyPipeline(s));
    }
    const p = plan;
    draft = draftOf(shapeOf(p));
    shape = shapeOf(p);
    figures = savedFigures(p);
    const controls = shapeControls(draft, onDraft, () => {
      const d = draftOf(shapeOf(p));
      controls.set(d);
      onDraft(d);
    });
    measure = h('vscode-button', { attrs: { id: 'twb-pipeline-measure' } }, 'Measure');
    measure.addEventListener('click', startMeasure);
    hosts = { results: h('div', { class: 'twb-pipeline-results' }), error: h('div', { class: 'twb-pipeline-error-host' }), status: h('span', { class: 'twb-pipeline-status' }), job: h('div', { class: 'twb-job-host' }), measureNote: h('span', { class: 'twb-dim twb-pipeline-measure-note' }) };
    const picker = docPicker({ id: 'twb-pipeline-picker', label: 'Pipeline plan', items: s.pipelines.map((q, i) => ({ value: q.id, label: `${i + 1}. ${shortModel(q.model)} · ${scheduleLabel(q)} · P ${q.stages} · M ${q.microbatches}${q.measured ? ' · measured' : ''}` })), current: p.id, onPick: (id) => ctx.store.update({ selectedPipelineId: id }) });
    const measured = p.measured ? measuredSection(p, p.measured) : undefined;
    measuredSlots = measured?.slots ?? [];
    root.replaceChildren(
      h(
        'div',
        { class: 'twb-pipeline', attrs: { 'data-plan': p.id } },
        h(
          'header',
          { class: 'twb-view-header twb-quant-header' },
          h('div', {}, h('h1', {}, `Pipeline: ${shortModel(p.model)} · ${scheduleLabel(p)} · P = ${p.stages} · M = ${p.microbatches}`, p.measured ? h('span', { class: 'twb-badge twb-badge-measured' }, 'measured') : null), h('p', { class: 'twb-dim' }, `${p.layers.length} units · micro-batch ${p.batch} × seq ${p.seq} · hop ${p.commUs} µs · ${localTime(p.createdAt)}`)),
          picker,
        ),
        h('section', { class: 'twb-card twb-pipeline-controls-card' }, h('h2', {}, 'Shape ', hosts.status), controls.el, hosts.error, h('div', { class: 'twb-actions' }, measure, hosts.measureNote), hosts.job),
        hosts.results,
        measured?.el,
        costSourceCard(p),
      ),
    );
    drawResults(p, figures);
    updateMeasure(s);
  };

  return {
    mount(r, s) {
      root = r;
      build(s);
      resize = new ResizeObserver(fit);
      resize.observe(r);
    },
    update(s, prev) {
      if (s.session !== prev.session || s.pipelines !== prev.pipelines || selectedPipeline(s) !== selectedPipeline(prev)) return build(s);
      if (s.job !== prev.job || s.notice !== prev.notice) updateMeasure(s);
    },
    unmount() {
      resize?.disconnect();
      resize = undefined;
      root = plan = draft = shape = figures = hosts = measure = undefined;
      slots = [];
      measuredSlots = [];
    },
  };
}
