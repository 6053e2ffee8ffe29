import { compressModel, defaultCompressDeps } from '../compress/lab';
import { renderRunReport } from '../export/html-report';
import { exportTuning } from '../export/tuning-export';
import { probeModelBytes } from '../model/probe';
import { describeModel } from '../profile/describe';
import { loadModelSource } from '../profile/model-source';
import { defaultDeps, profileInference } from '../profile/profiler';
import { providerStatuses } from '../runtime/ort';
import { planPipelineRequest } from '../pipeline/planner';
import { suggestFor } from '../advisor/suggest';
import { applySuggestion } from '../advisor/apply';
import { appendEstimate } from '../advisor/estimate-log';
import { TwbError } from '../util/errors';
import * as os from 'node:os';
import { sweepVariants } from '../train/sweep';
import { trainModel } from '../train/trainer';
import { defaultTuneDeps, tuneModel } from '../tune/tuner';
import { importTrace } from '../trace/import';
import { version } from '../../../package.json';
import { Handlers } from './server';

/** The engine's request handlers: thin wrappers over the library, as the CLI uses it. */
export function engineHandlers(): Handlers {
  return {
    'engine/hello': async () => ({ version, pid: process.pid, node: process.version }),
    'providers/list': async () =>
      (await providerStatuses(probeModelBytes())).map((s) => ({ name: s.name, available: s.available, ...(s.reason ? { reason: s.reason } : {}) })),
    'model/summary': async ({ model }) => describeModel(await loadModelSource(model)),
    'profile/run': async ({ request }, ctx) =>
      profileInference(
        request,
        defaultDeps({
          signal: ctx.signal,
          onProgress: (p) => ctx.emit('profile/progress', { requestId: ctx.requestId, ...p }),
        }),
      ),
    'compress/run': async ({ request }, ctx) =>
      compressModel(
        request,
        defaultCompressDeps({
          signal: ctx.signal,
          onProgress: (p) => ctx.emit('compress/progress', { requestId: ctx.requestId, ...p }),
        }),
      ),
    'train/run': async ({ request }, ctx) =>
      trainModel(request, { signal: ctx.signal, onProgress: (p) => ctx.emit('train/progress', { requestId: ctx.requestId, ...p }) }),
    'sweep/run': async ({ request }, ctx) =>
      sweepVariants(request, { signal: ctx.signal, onProgress: (p) => ctx.emit('sweep/progress', { requestId: ctx.requestId, ...p }) }),
    'pipeline/plan': async ({ request }, ctx) =>
      planPipelineRequest(request, { now: () => new Date(), cpuCount: os.cpus().length, signal: ctx.signal, onProgress: (p) => ctx.emit('pipeline/progress', { requestId: ctx.requestId, ...p }) }),
    'advice/suggest': async ({ run, calibrate }, ctx) =>
      (await suggestFor(run.kind === 'trace' ? { kind: 'trace', run } : { kind: 'inference', run }, { calibrate, signal: ctx.signal, onProgress: (message) => ctx.emit('advice/progress', { requestId: ctx.requestId, message }) })).report,
    'advice/apply': async ({ run, report, suggestionId, cwd }, ctx) => {
      const suggestion = report.suggestions.find((s) => s.id === suggestionId);
      if (!suggestion) throw new TwbError('usage', `no suggestion "${suggestionId}" in report ${report.id}`);
      if (report.source.id !== run.id) throw new TwbError('usage', `report ${report.id} was made for run ${report.source.id}, not ${run.id}`);
      const result = await applySuggestion(run, suggestion, { cwd }, { now: () => new Date(), signal: ctx.signal, onProgress: (message) => ctx.emit('advice/progress', { requestId: ctx.requestId, message }) });
      await appendEstimate(cwd, result);
      return result;
    },
    'tune/run': async ({ request }, ctx) =>
      tuneModel(request, defaultTuneDeps({ signal: ctx.signal, onProgress: (p) => ctx.emit('tune/progress', { requestId: ctx.requestId, ...p }) })),
    'tune/export': async ({ report, format, out, base }) => ({ message: await exportTuning(report, format, out, base) }),
    'trace/import': async ({ file }, ctx) => importTrace(file, { signal: ctx.signal, onProgress: (p) => ctx.emit('trace/progress', { requestId: ctx.requestId, ...p }) }),
    'report/render': async ({ run }) => ({ html: renderRunReport(run) }),
  };
}
