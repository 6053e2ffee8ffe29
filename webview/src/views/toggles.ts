/**
 * Toggles: the run configuration form, Re-run with progress and Cancel, the last failure, and the
 * list of runs (choosing one switches every view to it).
 */
import type { VscodeSingleSelect } from '@vscode-elements/elements/dist/vscode-single-select/index.js';
import type { VscodeTextfield } from '@vscode-elements/elements/dist/vscode-textfield/index.js';
import type { RunForm } from '../../../engine/src/protocol/webview';
import { formatUs } from '../../../engine/src/util/format';
import { draftOf, FormDraft, NUMERIC_FIELDS, OPT_LEVELS, parseDraft, STRUCTURAL_FIELDS } from '../model/form';
import { runTime, runTitle } from '../model/run-label';
import { h } from '../dom';
import { AppState, canRun, selectedRun } from '../state';
import { jobPanel, UNTRUSTED_TEXT } from './progress';
import type { View, ViewContext } from './view';

type FieldKey = keyof RunForm;

export function createTogglesView(ctx: ViewContext): View {
  let root: HTMLElement | undefined;
  let draft: FormDraft | undefined;
  let jobHost: HTMLElement | undefined;
  let runsHost: HTMLElement | undefined;
  let rerun: HTMLElement & { disabled: boolean } | undefined;
  const errorEls = new Map<FieldKey, HTMLElement>();
  const inputs = new Map<FieldKey, VscodeTextfield | VscodeSingleSelect>();

  const field = (key: FieldKey, label: string, control: VscodeTextfield | VscodeSingleSelect, help: string) => {
    control.id = `field-${key}`;
    control.addEventListener('input', () => draft && (draft[key] = control.value));
    control.addEventListener('change', () => draft && (draft[key] = control.value));
    inputs.set(key, control);
    const err = h('div', { class: 'twb-field-error', attrs: { id: `field-${key}-error`, role: 'alert' } });
    errorEls.set(key, err);
    return h('div', { class: 'twb-field' }, h('vscode-label', { attrs: { for: control.id } }, label), control, h('div', { class: 'twb-field-help' }, help), err);
  };

  const textfield = (key: FieldKey, numeric: boolean) => {
    const t = h('vscode-textfield', { attrs: numeric ? { inputmode: 'numeric' } : {} });
    t.value = (draft as FormDraft)[key];
    return t;
  };

  const select = (key: FieldKey, options: Array<{ value: string; label: string; disabled?: boolean; description?: string }>) => {
    const sel = h('vscode-single-select');
    for (const o of options) sel.append(h('vscode-option', { attrs: { value: o.value, disabled: o.disabled, description: o.description, selected: o.value === (draft as FormDraft)[key] } }, o.label));
    return sel;
  };

  const showErrors = (errors: Partial<Record<FieldKey, string>>) => {
    for (const [key, el] of errorEls) {
      el.textContent = errors[key] ?? '';
      const input = inputs.get(key);
      if (input) input.invalid = !!errors[key];
    }
  };

  const submit = () => {
    if (!draft || !rerun || rerun.disabled) return;
    const parsed = parseDraft(draft);
    if ('errors' in parsed) return showErrors(parsed.errors);
    showErrors({});
    ctx.actions.startRun(parsed.form);
  };

  const updateJob = (s: AppState) => {
    if (rerun) rerun.disabled = !canRun(s) || !!s.job;
    jobHost?.replaceChildren(...[jobPanel(s, ctx.actions)].filter((x): x is HTMLElement => !!x));
  };

  const updateRuns = (s: AppState) => {
    const current = selectedRun(s);
    runsHost?.replaceChildren(
      s.runs.length
        ? h(
            'table',
            { class: 'twb-table twb-compact twb-run-list' },
            h('thead', {}, h('tr', {}, h('th', {}, '#'), h('th', {}, 'run'), h('th', { class: 'twb-num' }, 'p50'), h('th', { class: 'twb-num' }, 'p90'), h('th', {}, 'when'), h('th', {}, ''))),
            h(
              'tbody',
              {},
              ...s.runs.map((r, i) => {
                const show = h('vscode-button', { attrs: { secondary: true, 'data-run': r.id } }, r === current ? 'Shown' : 'Show');
                show.disabled = r === current;
                show.addEventListener('click', () => ctx.store.update({ selectedId: r.id }));
                return h('tr', { class: r === current ? 'twb-current' : '' }, h('td', {}, String(i + 1)), h('td', {}, runTitle(r)), h('td', { class: 'twb-num' }, formatUs(r.latencyMs.p50 * 1000)), h('td', { class: 'twb-num' }, formatUs(r.latencyMs.p90 * 1000)), h('td', {}, runTime(r)), h('td', {}, show));
              }),
            ),
          )
        : h('p', { class: 'twb-dim' }, 'No runs yet.'),
    );
  };

  const build = (s: AppState) => {
    if (!root) return;
    draft = draftOf(s.form);
    errorEls.clear();
    inputs.clear();
    const providers = s.session?.providers.length ? s.session.providers : [{ name: s.form.executionProvider, available: true }];
    const epOptions = providers.map((p) => ({ value: p.name, label: p.available ? p.name : `${p.name} (unavailable)`, disabled: !p.available, description: p.reason }));
    rerun = h('vscode-button', { attrs: { id: 'twb-rerun' } }, 'Re-run');
    rerun.addEventListener('click', submit);
    const allowed = canRun(s);
    const form = h(
      'form',
      { class: 'twb-form', attrs: { novalidate: true }, on: { submit: (e) => (e.preventDefault(), submit()) } },
      field('model', 'Model', textfield('model', false), 'path to an .onnx file, or builtin:NAME'),
      field('executionProvider', 'Execution provider', select('executionProvider', epOptions), providers.filter((p) => !p.available).map((p) => `${p.name}: ${p.reason ?? 'unavailable'}`).join(' · ') || 'every listed provider can run here'),
      field('optLevel', 'Optimization level', select('optLevel', OPT_LEVELS.map((o) => ({ value: o, label: o }))), '"disabled" maps profiled nodes 1:1 to the stored graph'),
      ...NUMERIC_FIELDS.map((f) => field(f.key, f.label, textfield(f.key, true), f.help)),
      ...STRUCTURAL_FIELDS.map((f) => field(f.key, f.label, textfield(f.key, false), `${f.syntax}; ${f.help}`)),
    );
    jobHost = h('div', { class: 'twb-job-host' });
    runsHost = h('div');
    root.replaceChildren(
      h('div', { class: 'twb-toggles' }, h('section', { class: 'twb-card' }, h('h2', {}, 'Run configuration'), form, h('div', { class: 'twb-actions' }, rerun, allowed ? null : h('span', { class: 'twb-untrusted' }, UNTRUSTED_TEXT)), jobHost), h('section', { class: 'twb-card' }, h('h2', {}, 'Runs'), runsHost)),
    );
    updateJob(s);
    updateRuns(s);
  };

  return {
    mount(r, s) {
      root = r;
      build(s);
    },
    update(s, prev) {
      if (s.session !== prev.session || s.form !== prev.form) return build(s);
      if (s.job !== prev.job || s.notice !== prev.notice) updateJob(s);
      if (s.runs !== prev.runs || s.selectedId !== prev.selectedId) updateRuns(s);
    },
    unmount() {
      root = jobHost = runsHost = rerun = draft = undefined;
    },
  };
}
