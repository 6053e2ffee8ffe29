/**
 * Suggestions: one suggestions report — the run it was made for, the run's baseline, how the kernels
 * the estimates rest on were timed — then one card per suggestion in rank order (see
 * suggestion-card.ts), the rules that stayed quiet and why, and how the cards are ranked. Apply asks
 * the host to make the change and measure it (`advice/apply`); the result comes back as
 * `apply/added` and shows on its card beside the estimate. Where the panel's run has no report
 * yet, "Suggest for this run" asks the host for one (`advice/suggest`).
 */
import type { SuggestionsReport } from '../../../engine/src/schema/advice';
import { card, emptyState, h } from '../dom';
import { localTime, runPickerLabel } from '../model/run-label';
import { applyBlocked, resultFor } from '../model/suggestion-card';
import { baselineFacts, calibrationSummary, configText, NOT_TIMED, reportForRun, shortModel, sourceText, suggestionsPickerLabel } from '../model/suggestion-report';
import { AppState, canRun, noticeOf, selectedRun, selectedSuggestions, shownTrace } from '../state';
import { docPicker } from './doc-picker';
import { jobPanel, UNTRUSTED_TEXT } from './progress';
import { CardHandles, suggestionCard } from './suggestion-card';
import type { View, ViewContext } from './view';

function headline(r: SuggestionsReport, s: AppState): HTMLElement {
  const run = s.runs.find((x) => x.id === r.source.id);
  const cal = calibrationSummary(r.calibration);
  return h(
    'section',
    { class: 'twb-card twb-advice-headline' },
    h('h2', {}, 'The run'),
    h('p', { class: 'twb-advice-source' }, `${sourceText(r)} · ${configText(r, run)}`),
    h('div', { class: 'twb-stats' }, ...baselineFacts(r).map((f) => h('div', { class: `twb-stat twb-advice-baseline-${f.key}` }, h('div', { class: 'twb-stat-label' }, f.label), h('div', { class: 'twb-stat-value' }, f.value)))),
    cal
      ? h(
          'div',
          { class: 'twb-calibration' },
          h('p', { class: 'twb-calibration-when' }, cal.when),
          cal.kernels.length
            ? h(
                'table',
                { class: 'twb-table twb-calibration-table' },
                h('thead', {}, h('tr', {}, h('th', {}, 'product'), h('th', { class: 'twb-num' }, 'share'), h('th', { class: 'twb-num' }, 'int8 dynamic'), h('th', { class: 'twb-num' }, 'int8 static'), h('th', { class: 'twb-num' }, 'int4'))),
                h('tbody', {}, ...cal.kernels.map((k) => h('tr', {}, h('td', { class: 'twb-mono' }, k.shape), h('td', { class: 'twb-num' }, `${(k.share * 100).toFixed(1)}%`), h('td', { class: 'twb-num' }, k.int8), h('td', { class: 'twb-num' }, k.int8Static), h('td', { class: 'twb-num' }, k.int4)))),
              )
            : h('p', { class: 'twb-dim' }, 'No products with constant weights to time.'),
          h('p', { class: 'twb-dim' }, 'Ratios are fp32 time ÷ quantized time (above 1 is faster), medians of interleaved runs.', ...cal.scaling.map((x) => ` ${x}.`)),
        )
      : h('p', { class: 'twb-calibration-none twb-dim' }, NOT_TIMED),
    r.warnings.length ? h('ul', { class: 'twb-warnings' }, ...r.warnings.map((w) => h('li', {}, w))) : null,
  );
}

function quietCard(r: SuggestionsReport): HTMLElement {
  return card(
    'Rules that stayed quiet',
    r.quiet.length
      ? h('table', { class: 'twb-table twb-quiet' }, h('tbody', {}, ...r.quiet.map((q) => h('tr', { attrs: { 'data-rule': q.rule } }, h('td', { class: 'twb-mono' }, q.rule), h('td', {}, q.why)))))
      : h('p', { class: 'twb-dim' }, 'Every rule that applies to this kind of run made a suggestion.'),
    h('p', { class: 'twb-advice-ranking twb-dim' }, `Ranked by ${r.ranking}.`),
  );
}

/** Why "Suggest for this run" is off, or null when it is on. */
function suggestBlocked(s: AppState): string | null {
  if (!canRun(s)) return UNTRUSTED_TEXT;
  if (s.job) return 'A run is in progress.';
  return null;
}

export function createSuggestionsView(ctx: ViewContext): View {
  let root: HTMLElement | undefined;
  let report: SuggestionsReport | undefined;
  let cards: Array<{ id: string; handles: CardHandles }> = [];
  let suggest: { button: HTMLElement & { disabled: boolean }; note: HTMLElement; job: HTMLElement } | undefined;
  /** Where the last request from this view was started: its progress and failure show there. */
  let last: { kind: 'apply'; reportId: string; suggestionId: string } | { kind: 'suggest' } | undefined;

  const startApply = (r: SuggestionsReport, suggestionId: string) => {
    const s = ctx.store.state;
    const sg = r.suggestions.find((x) => x.id === suggestionId);
    if (!sg || !s.session || applyBlocked({ mode: s.session.mode, trusted: s.session.trusted, busy: !!s.job }, r, sg) !== null) return;
    const target = { reportId: r.id, suggestionId };
    last = { kind: 'apply', ...target };
    const { id, reply } = ctx.client.request('advice/apply', target);
    ctx.store.update({ notice: undefined, job: { requestId: id, phase: 'starting', done: 0, total: 0, message: `Applying ${suggestionId}…`, cancelling: false, kind: 'apply', apply: target } });
    void reply.then((res) => ctx.store.update((cur) => ({ job: cur.job?.requestId === id ? undefined : cur.job, notice: 'err' in res ? noticeOf(res.err) : undefined })));
  };

  const startSuggest = (runId: string) => {
    const s = ctx.store.state;
    if (suggestBlocked(s) !== null) return;
    last = { kind: 'suggest' };
    const { id, reply } = ctx.client.request('advice/suggest', { runId });
    ctx.store.update({ notice: undefined, job: { requestId: id, phase: 'starting', done: 0, total: 0, message: 'Timing kernels and making suggestions…', cancelling: false, kind: 'suggest' } });
    void reply.then((res) =>
      ctx.store.update((cur) => ({
        job: cur.job?.requestId === id ? undefined : cur.job,
        notice: 'err' in res ? noticeOf(res.err) : undefined,
        ...('ok' in res && cur.suggestionReports.some((x) => x.id === res.ok.reportId) ? { selectedSuggestionsId: res.ok.reportId } : {}),
      })),
    );
  };

  /** Apply buttons, notes and progress, updated in place (open <details> stay open). */
  const updateJobs = (s: AppState) => {
    const job = s.job;
    const panel = () => jobPanel(s, ctx.actions);
    for (const c of cards) {
      const sg = report?.suggestions.find((x) => x.id === c.id);
      if (!report || !sg || !s.session) continue;
      const blocked = applyBlocked({ mode: s.session.mode, trusted: s.session.trusted, busy: !!job }, report, sg);
      c.handles.apply.disabled = blocked !== null;
      c.handles.note.textContent = blocked ?? 'Makes the change on this machine and measures it beside the estimate (twb apply).';
      const mine = (j: typeof job) => j?.kind === 'apply' && j.apply?.reportId === report?.id && j.apply?.suggestionId === c.id;
      const here = mine(job) || (!job && s.notice && last?.kind === 'apply' && last.reportId === report.id && last.suggestionId === c.id);
      c.handles.job.replaceChildren(...[here ? panel() : null].filter((x): x is HTMLElement => !!x));
    }
    if (suggest) {
      const blocked = suggestBlocked(s);
      suggest.button.disabled = blocked !== null;
      suggest.note.textContent =
        blocked ??
        (shownTrace(s)
          ? "Reads the trace's GPU idle time, communication, kernel precision, launches and memory, then ranks changes to your program with their bounds (twb suggest)."
          : 'Times the kernels this run uses on this machine (a few seconds), then ranks what could make it faster or smaller (twb suggest).');
      const here = job?.kind === 'suggest' || (!job && s.notice && last?.kind === 'suggest');
      suggest.job.replaceChildren(...[here ? panel() : null].filter((x): x is HTMLElement => !!x));
    }
  };

  /** The offer to make suggestions for the panel's selected run (or the trace shown), when it has none. */
  const suggestOffer = (s: AppState): HTMLElement | null => {
    suggest = undefined;
    const trace = shownTrace(s);
    const run = trace ? undefined : selectedRun(s);
    const id = trace?.id ?? run?.id;
    if (s.session?.mode === 'report' || !id || reportForRun(s.suggestionReports, id)) return null;
    const button = h('vscode-button', { attrs: { id: 'twb-suggest' } }, trace ? 'Suggest for this trace' : 'Suggest for this run') as HTMLElement & { disabled: boolean };
    button.addEventListener('click', () => startSuggest(id));
    suggest = { button, note: h('span', { class: 'twb-dim twb-suggest-note' }), job: h('div', { class: 'twb-job-host' }) };
    const label = trace ? `trace · ${trace.source.name}` : runPickerLabel(run!, s.runs.indexOf(run!));
    return h('section', { class: 'twb-card twb-suggest-offer', attrs: { 'data-run': id } }, h('h2', {}, `No suggestions for the selected ${trace ? 'trace' : 'run'}`), h('p', {}, label), h('div', { class: 'twb-actions' }, button, suggest.note), suggest.job);
  };

  const build = (s: AppState) => {
    if (!root) return;
    cards = [];
    report = selectedSuggestions(s);
    const offer = suggestOffer(s);
    if (!report) {
      const empty =
        s.session?.mode === 'report'
          ? emptyState('This report holds no suggestions.')
          : emptyState(offer ? 'No suggestions yet.' : 'No suggestions yet. Profile a run first (Toggles), then ask for suggestions here.', h('p', {}, 'On the command line: ', h('code', {}, 'twb suggest run.json --json suggestions.json'), ', then open the result from the Runs view.'));
      root.replaceChildren(h('div', { class: 'twb-advice' }, offer, empty));
      return updateJobs(s);
    }
    const r = report;
    cards = r.suggestions.map((sg, i) => ({ id: sg.id, handles: suggestionCard({ report: r, suggestion: sg, rank: i + 1, result: resultFor(s.applied, r, sg.id), onApply: () => startApply(r, sg.id) }) }));
    const picker = docPicker({ id: 'twb-suggestions-picker', label: 'Suggestions', items: s.suggestionReports.map((x, i) => ({ value: x.id, label: suggestionsPickerLabel(x, i) })), current: r.id, onPick: (id) => ctx.store.update({ selectedSuggestionsId: id }) });
    root.replaceChildren(
      h(
        'div',
        { class: 'twb-advice', attrs: { 'data-report': r.id } },
        h(
          'header',
          { class: 'twb-view-header twb-quant-header' },
          h('div', {}, h('h1', {}, `Suggestions: ${shortModel(r.source.model)} · ${r.suggestions.length} suggestion${r.suggestions.length === 1 ? '' : 's'}`), h('p', { class: 'twb-dim' }, `made ${localTime(r.createdAt)} · every figure on a card is an estimate until the suggestion is applied and measured`)),
          picker,
        ),
        offer,
        headline(r, s),
        r.suggestions.length ? h('div', { class: 'twb-suggestion-list' }, ...cards.map((c) => c.handles.el)) : emptyState('No suggestions: every rule stayed quiet (below).'),
        quietCard(r),
      ),
    );
    updateJobs(s);
  };

  return {
    mount(r, s) {
      root = r;
      build(s);
    },
    update(s, prev) {
      if (s.session !== prev.session || s.suggestionReports !== prev.suggestionReports || selectedSuggestions(s) !== selectedSuggestions(prev) || s.applied !== prev.applied || s.runs !== prev.runs || selectedRun(s) !== selectedRun(prev) || shownTrace(s) !== shownTrace(prev)) return build(s);
      if (s.job !== prev.job || s.notice !== prev.notice) updateJobs(s);
    },
    unmount() {
      root = report = suggest = last = undefined;
      cards = [];
    },
  };
}
