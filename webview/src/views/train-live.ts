/**
 * The panel of a training job under way: what trains, its progress line and bar, and its loss and
 * accuracy curves growing into a frame sized for all its steps. Built once per job and updated in
 * place on each `training/progress`, so the progress widgets do not restart on every step.
 */
import type { VscodeProgressBar } from '@vscode-elements/elements/dist/vscode-progress-bar/index.js';
import { card, errorBox, h } from '../dom';
import type { LiveTraining } from '../state';
import type { ChartSlot } from './chart-slot';
import { accuracySlot, lossSlot, lossText } from './train-curve';

export interface LivePanel {
  el: HTMLElement;
  /** Shows `live`, or nothing when no job is under way. */
  update(live: LiveTraining | undefined): void;
  fit(): void;
}

interface Parts {
  jobId: string;
  job: HTMLElement;
  ended: HTMLElement;
  title: HTMLElement;
  message: HTMLElement;
  bar: VscodeProgressBar;
  lossHost: HTMLElement;
  accuracyHost: HTMLElement;
}

function skeleton(live: LiveTraining): { root: HTMLElement; parts: Parts } {
  const parts: Parts = {
    jobId: live.jobId,
    job: h('div', { class: 'twb-job', attrs: { role: 'status', 'aria-live': 'polite' } }),
    ended: h('div'),
    title: h('p', { class: 'twb-live-title' }),
    message: h('span', { class: 'twb-job-message twb-live-progress' }),
    bar: h('vscode-progress-bar', { attrs: { 'aria-label': 'training progress' } }),
    lossHost: h('div'),
    accuracyHost: h('div'),
  };
  const root = card(
    'Training now',
    parts.title,
    parts.job,
    parts.ended,
    h('div', { class: 'twb-grid' }, h('figure', { class: 'twb-figure' }, h('figcaption', {}, 'Loss'), parts.lossHost), h('figure', { class: 'twb-figure' }, h('figcaption', {}, 'Held-out accuracy'), parts.accuracyHost)),
    h('p', { class: 'twb-dim' }, 'Cancel it from its notification in VS Code; the finished run replaces this panel.'),
  );
  parts.job.append(h('div', { class: 'twb-job-row' }, h('vscode-progress-ring', { attrs: { 'aria-label': 'training' } }), parts.message), parts.bar);
  return { root, parts };
}

export function livePanel(): LivePanel {
  const el = h('div', { class: 'twb-live-host' });
  let parts: Parts | undefined;
  let slots: ChartSlot[] = [];
  const fit = () => slots.forEach((sl) => sl.fit());
  return {
    el,
    fit,
    update(live) {
      if (!live) {
        parts = undefined;
        slots = [];
        return void el.replaceChildren();
      }
      if (parts?.jobId !== live.jobId) {
        const built = skeleton(live);
        parts = built.parts;
        el.replaceChildren(built.root);
      }
      if (live.ended) {
        parts.job.remove();
        parts.ended.replaceChildren(live.ended.kind === 'error' ? errorBox(live.ended, 'Training failed') : h('p', { class: 'twb-notice', attrs: { role: 'status' } }, live.ended.message));
      }
      const last = live.loss[live.loss.length - 1];
      parts.title.textContent = `${live.model} · ${live.variant}`;
      parts.message.textContent = `${live.message} (step ${live.step}/${live.steps})${last ? ` · loss ${lossText(last.value)}` : ''}`;
      parts.bar.max = Math.max(1, live.steps);
      parts.bar.value = Math.min(live.step, live.steps);
      const loss = lossSlot(live.loss, live.steps);
      const accuracy = accuracySlot(live.accuracy, live.steps);
      slots = [loss, accuracy];
      parts.lossHost.replaceChildren(loss.el);
      parts.accuracyHost.replaceChildren(live.accuracy.length ? accuracy.el : h('p', { class: 'twb-dim' }, 'No evaluation yet.'));
      fit();
    },
  };
}
