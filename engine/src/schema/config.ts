import * as os from 'node:os';
import { RunConfig } from './run';
import { TwbError, choices } from '../util/errors';
import { builtinSpec, variantOf } from '../profile/model-source';

/** Execution providers the workbench knows how to ask for. */
export const EXECUTION_PROVIDERS = ['cpu', 'webgpu', 'cuda'] as const;
export type ExecutionProvider = (typeof EXECUTION_PROVIDERS)[number];

/** ONNX Runtime's graph optimization levels, in its own spelling. */
export const OPT_LEVELS = ['disabled', 'basic', 'extended', 'all'] as const;
export type OptLevel = (typeof OPT_LEVELS)[number];

/** What to profile and how; every field but `model` has a default. */
export interface ProfileRequest extends RunConfig {
  /** A path to an .onnx file or `builtin:NAME`. */
  model: string;
}

export function defaultConfig(): RunConfig {
  return {
    executionProvider: 'cpu',
    threads: os.availableParallelism(),
    optLevel: 'all',
    batch: 1,
    seq: 128,
    past: 0,
    dims: {},
    warmup: 5,
    runs: 30,
    profiledRuns: 10,
    seed: 0,
  };
}

/** Fills defaults and checks every field; throws a usage error naming the first bad one. */
export function resolveRequest(partial: Partial<ProfileRequest> & { model: string }): ProfileRequest {
  const req = { ...defaultConfig(), ...stripUndefined(partial) } as ProfileRequest;
  if (!(EXECUTION_PROVIDERS as readonly string[]).includes(req.executionProvider)) {
    throw new TwbError('usage', `unknown execution provider "${req.executionProvider}"; ${choices(EXECUTION_PROVIDERS)}`);
  }
  if (!(OPT_LEVELS as readonly string[]).includes(req.optLevel)) {
    throw new TwbError('usage', `unknown optimization level "${req.optLevel}"; ${choices(OPT_LEVELS)}`);
  }
  const limits: Array<[keyof RunConfig, number, number]> = [
    ['threads', 0, 1024],
    ['batch', 1, 1 << 20],
    ['seq', 1, 1 << 20],
    ['past', 0, 1 << 20],
    ['warmup', 0, 100000],
    ['runs', 1, 1000000],
    ['profiledRuns', 1, 100000],
    ['seed', 0, 2 ** 32 - 1],
  ];
  for (const [key, lo, hi] of limits) {
    const v = req[key] as number;
    if (!Number.isInteger(v) || v < lo || v > hi) throw new TwbError('usage', `${key} must be an integer in [${lo}, ${hi}], got ${v}`);
  }
  for (const [name, v] of Object.entries(req.dims)) {
    if (!Number.isInteger(v) || v < 0) throw new TwbError('usage', `dimension ${name} must be a non-negative integer, got ${v}`);
  }
  // A structural variant is recorded in the CLI's canonical spelling, both options together, so
  // that Re-run rebuilds the same model.
  if (req.attention !== undefined || req.shareLayers !== undefined) Object.assign(req, variantOf(builtinSpec(req.model, req)));
  return req;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
