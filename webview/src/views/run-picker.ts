/**
 * The run picker in the tab bar: every run with its headline p50, and every imported trace; choosing
 * one switches every view that shows runs or traces.
 */
import type { VscodeSingleSelect } from '@vscode-elements/elements/dist/vscode-single-select/index.js';
import type { ViewId } from '../../../engine/src/protocol/webview';
import { h } from '../dom';
import { runPickerLabel } from '../model/run-label';
import { AppState, selectedRun, shownTrace, Store } from '../state';

/** Option values of traces carry this prefix, so a trace id cannot be mistaken for a run id. */
const TRACE = 'trace:';

const OWN_PICKER: ReadonlySet<ViewId> = new Set(['quantization', 'suggestions', 'tuning', 'training', 'variants', 'pipeline', 'memory-plan']);

export function createRunPicker(store: Store): { el: HTMLElement; update(s: AppState, prev?: AppState): void } {
  const select = h('vscode-single-select', { class: 'twb-run-picker', attrs: { id: 'twb-run-picker', 'aria-label': 'Run shown in every view' } }) as VscodeSingleSelect;
  const el = h('div', { class: 'twb-run-picker-box', attrs: { slot: 'addons' } }, h('span', { class: 'twb-dim' }, 'Run'), select);
  select.addEventListener('change', () => {
    const v = select.value;
    if (!v) return;
    if (v.startsWith(TRACE)) store.update({ selectedTraceId: v.slice(TRACE.length), subject: 'trace' });
    else store.update({ selectedId: v, subject: 'run' });
  });
  return {
    el,
    update(s, prev) {
      // Views of other documents pick among them themselves; the run picker would only mislead there.
      el.hidden = s.runs.length + s.traces.length === 0 || OWN_PICKER.has(s.view);
      const trace = shownTrace(s);
      const current = trace ? `${TRACE}${trace.id}` : (selectedRun(s)?.id ?? '');
      if (!prev || s.runs !== prev.runs || s.traces !== prev.traces) {
        select.replaceChildren(
          ...s.runs.map((r, i) => h('vscode-option', { attrs: { value: r.id, selected: r.id === current } }, runPickerLabel(r, i))),
          ...s.traces.map((t) => h('vscode-option', { attrs: { value: `${TRACE}${t.id}`, selected: `${TRACE}${t.id}` === current } }, `trace · ${t.source.name}`)),
        );
      }
      if (select.value !== current) select.value = current;
    },
  };
}
