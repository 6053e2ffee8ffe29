/** The run-in-progress panel (progress, message, Cancel) and the last request's outcome. */
import type { VscodeButton } from '@vscode-elements/elements/dist/vscode-button/index.js';
import type { Actions } from '../actions';
import { errorBox, h } from '../dom';
import type { AppState, Job } from '../state';

/** What the panel says the job is doing; jobs the host started without a kind are just running. */
const DOING: Record<NonNullable<Job['kind']>, string> = { profile: 'Profiling', compress: 'Compressing', pipeline: 'Measuring the pipeline', apply: 'Applying', suggest: 'Suggesting' };

/** Progress of the current run, or the notice of the last one; null when there is nothing to say. */
export function jobPanel(s: AppState, actions: Actions): HTMLElement | null {
  const job = s.job;
  if (job) {
    const doing = job.kind ? DOING[job.kind] : 'Running';
    const bar = h('vscode-progress-bar', { attrs: { 'aria-label': `${doing} progress` } });
    if (job.total > 0) {
      bar.max = job.total;
      bar.value = Math.min(job.done, job.total);
    } else bar.indeterminate = true;
    const step = job.total > 0 ? ` (${job.done}/${job.total})` : '';
    let cancel: VscodeButton | null = null;
    if (job.requestId !== 0) {
      cancel = h('vscode-button', { class: 'twb-cancel', attrs: { secondary: true }, on: { click: () => actions.cancelRun() } }, job.cancelling ? 'Cancelling…' : 'Cancel');
      cancel.disabled = job.cancelling;
    }
    return h(
      'div',
      { class: 'twb-job', attrs: { role: 'status', 'aria-live': 'polite' } },
      h('div', { class: 'twb-job-row' }, h('vscode-progress-ring', { attrs: { 'aria-label': doing } }), h('span', { class: 'twb-job-message' }, `${job.message}${step}`), cancel),
      bar,
    );
  }
  if (s.notice?.kind === 'error') return errorBox(s.notice, 'The run failed');
  if (s.notice) return h('p', { class: 'twb-notice', attrs: { role: 'status' } }, s.notice.message);
  return null;
}

/** The sentence shown where run controls are disabled. */
export const UNTRUSTED_TEXT = 'Running models is disabled in untrusted workspaces.';
