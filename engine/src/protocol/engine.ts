/**
 * Methods and events of the engine process (extension ⇄ engine over IPC, in `Envelope`s).
 * Pure types and validators; `server/server.ts` implements them, `extension/src/engine-client.ts` calls them.
 */
import { ProfileRequest } from '../schema/config';
import { CompressionReport } from '../schema/compression';
import { InferenceRun } from '../schema/run';
import { runConfigFields, validateRun } from '../schema/validate-run';
import { object, optional, str, Validator } from '../schema/validate';
import { TwbError } from '../util/errors';
import { ModelSummaryView, ProviderInfo } from './webview';
import { compressRunRequest, CompressRunRequest } from './compress';

export interface EngineRequests {
  /** Liveness and versions; starts nothing heavy. */
  'engine/hello': { params: Record<string, never>; result: { version: string; pid: number; node: string } };
  /** Which execution providers can run here (probes each once). */
  'providers/list': { params: Record<string, never>; result: ProviderInfo[] };
  /** Reads a model file (or builds a built-in) and describes it without running it. */
  'model/summary': { params: { model: string }; result: ModelSummaryView };
  /** Profiles inference; emits `profile/progress` events tagged with this request's id. */
  'profile/run': { params: { request: Partial<ProfileRequest> & { model: string } }; result: InferenceRun };
  /** Quantizes or prunes a model, writes it to `request.out` and measures both; emits `compress/progress` events tagged with this request's id. */
  'compress/run': { params: { request: CompressRunRequest }; result: CompressionReport };
  /** Renders a self-contained HTML report of a run. */
  'report/render': { params: { run: InferenceRun }; result: { html: string } };
}

/** Progress of a long request, tagged with its id. */
export interface ProgressEvent {
  requestId: number;
  phase: string;
  done: number;
  total: number;
  message: string;
}

export interface EngineEvents {
  'profile/progress': ProgressEvent;
  /** Progress of a `compress/run` request (phases: load, transform, write, latency, analyze, profile). */
  'compress/progress': ProgressEvent;
  'log/write': { level: 'info' | 'warn' | 'error'; message: string };
}

export type EngineMethod = keyof EngineRequests;

const empty: Validator<Record<string, never>> = (v, at) => {
  if (v !== undefined && (typeof v !== 'object' || v === null || Array.isArray(v))) throw new TwbError('usage', `${at}: expected no parameters`);
  return {};
};

/** Every RunConfig field optional (the engine fills defaults), the model required. */
const profileRequest = object({
  ...Object.fromEntries(Object.entries(runConfigFields).map(([k, check]) => [k, optional(check as Validator<unknown>)])),
  model: str,
}) as unknown as Validator<Partial<ProfileRequest> & { model: string }>;

export const engineParamValidators: { [M in EngineMethod]: Validator<EngineRequests[M]['params']> } = {
  'engine/hello': empty,
  'providers/list': empty,
  'model/summary': object({ model: str }),
  'profile/run': object({ request: profileRequest }),
  'compress/run': object({ request: compressRunRequest }),
  'report/render': object({ run: (v) => validateRun(v) }),
};
