/** What the controls of the views do: start, cancel and export, through the host client. */
import type { CompressForm, RunForm } from '../../engine/src/protocol/webview';
import type { HostClient, Reply } from './client';
import { canRun, Notice, noticeOf, Store } from './state';

export interface Actions {
  /** Sends `run/start` with `form` (ignored while a run is in progress or where runs are not allowed). */
  startRun(form: RunForm): void;
  /** Sends `compress/start` with `form` (ignored while a run is in progress or where runs are not allowed). */
  startCompress(form: CompressForm): void;
  /** Sends `cancel` for the run in progress started from this page. */
  cancelRun(): void;
  /** Asks the host to write the HTML report of a run; resolves with what to tell the user. */
  exportReport(runId: string): Promise<Notice>;
  /** Asks the host to export a tuning report (it asks for the format and the file); resolves with what to tell the user. */
  exportTuning(reportId: string): Promise<Notice>;
}

/** What to say after an export request: where the file went, or that the user dismissed it. */
async function exportNotice(reply: Promise<Reply<{ path: string | null }>>, what: string): Promise<Notice> {
  const r = await reply;
  if ('err' in r) return noticeOf(r.err);
  return { kind: 'info', message: r.ok.path ? `${what} written to ${r.ok.path}` : 'Export dismissed.' };
}

export function createActions(store: Store, client: HostClient): Actions {
  /** Ends the job of request `id` once its response arrives; a failure becomes the notice. */
  const settle = (id: number, reply: Promise<Reply<unknown>>) =>
    void reply.then((r) =>
      store.update((cur) => ({
        job: cur.job?.requestId === id ? undefined : cur.job,
        notice: 'err' in r ? noticeOf(r.err) : undefined,
      })),
    );
  return {
    startRun(form) {
      const s = store.state;
      if (!canRun(s) || s.job) return;
      const { id, reply } = client.request('run/start', { form });
      store.update({ form, notice: undefined, job: { requestId: id, phase: 'starting', done: 0, total: 0, message: 'Starting…', cancelling: false, kind: 'profile' } });
      settle(id, reply);
    },
    startCompress(form) {
      const s = store.state;
      if (!canRun(s) || s.job) return;
      const { id, reply } = client.request('compress/start', { form });
      store.update({ notice: undefined, job: { requestId: id, phase: 'starting', done: 0, total: 0, message: 'Starting…', cancelling: false, kind: 'compress' } });
      settle(id, reply);
    },
    cancelRun() {
      const job = store.state.job;
      if (!job || job.requestId === 0 || job.cancelling) return;
      client.cancel(job.requestId);
      store.update({ job: { ...job, cancelling: true, message: 'Cancelling after the current inference…' } });
    },
    exportReport(runId) {
      return exportNotice(client.request('report/export', { runId }).reply, 'Report');
    },
    exportTuning(reportId) {
      return exportNotice(client.request('tuning/export', { reportId }).reply, 'Tuned config');
    },
  };
}
