import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { probeModelBytes } from '../model/probe';
import { decodeModel } from '../onnx/codec';
import { summarizeModel } from '../onnx/summary';
import { OptLevel, ProfileRequest, resolveRequest } from '../schema/config';
import { InferenceRun, RUN_SCHEMA_VERSION } from '../schema/run';
import { buildFeeds, FeedTensor } from '../runtime/feeds';
import { openSession, requireProvider, Session, SessionSpec } from '../runtime/ort';
import { runEnv } from '../runtime/env';
import { resultId } from '../util/result-id';
import { TwbError } from '../util/errors';
import { mean, percentile, timingSummary } from '../util/stats';
import { aggregateProfile } from './aggregate';
import { GraphIndex } from './graph-index';
import { loadModelSource, ModelSource } from './model-source';
import { parseOrtProfile } from './ort-profile';

export type ProfilePhase = 'load' | 'warmup' | 'latency' | 'profile' | 'analyze';

export interface ProfileProgress {
  phase: ProfilePhase;
  /** Steps done in this phase and how many there are. */
  done: number;
  total: number;
  message: string;
}

/** Everything the profiler takes from outside, so tests and the extension can supply their own. */
export interface ProfileDeps {
  /** Monotonic time, milliseconds (performance.now). */
  clock: () => number;
  /** Wall-clock time for the run's timestamp. */
  now: () => Date;
  onProgress?: (p: ProfileProgress) => void;
  signal?: AbortSignal;
  /** Where temporary profile files go; the OS temp folder by default. Cleaned up afterwards. */
  tmpRoot?: string;
  /** Also copy ONNX Runtime's own profile file (the chrome trace `twb import` reads) to this path. */
  keepOrtProfile?: string;
}

export function defaultDeps(overrides: Partial<ProfileDeps> = {}): ProfileDeps {
  return { clock: () => performance.now(), now: () => new Date(), ...overrides };
}

/**
 * Profiles inference of one model with ONNX Runtime. Latency comes from unprofiled runs on one
 * session; per-op times, shapes and memory come from a second, profiled session whose warm-up runs
 * are dropped from the statistics.
 */
export async function profileInference(request: Partial<ProfileRequest> & { model: string }, deps: ProfileDeps): Promise<InferenceRun> {
  const req = resolveRequest(request);
  const progress = (phase: ProfilePhase, done: number, total: number, message: string) => deps.onProgress?.({ phase, done, total, message });
  const checkCancel = () => {
    if (deps.signal?.aborted) throw new TwbError('cancelled', 'profiling was cancelled');
  };

  progress('load', 0, 1, `loading ${req.model}`);
  const src = await loadModelSource(req.model, req.seed, req);
  const ep = req.executionProvider === 'cpu' ? 'cpu' : await requireProvider(req.executionProvider, probeModelBytes());
  const { feeds, info, resolution } = buildFeeds(src.model, { batch: req.batch, seq: req.seq, past: req.past, named: req.dims }, req.seed);
  const warnings: string[] = [...(src.warnings ?? [])];
  if (resolution.defaulted.length > 0) {
    warnings.push(`symbolic dimensions set to 1 by default: ${resolution.defaulted.join(', ')} (set them with --dim NAME=N)`);
  }
  checkCancel();

  const tmp = await fs.mkdtemp(path.join(deps.tmpRoot ?? os.tmpdir(), 'twb-profile-'));
  try {
    const base: SessionSpec = { executionProvider: ep, threads: req.threads, optLevel: req.optLevel as OptLevel };
    const latencies = await timedRuns(src, base, feeds, req.warmup, req.runs, deps, 'latency', progress, checkCancel);

    const optimizedPath = path.join(tmp, 'optimized.onnx');
    const profiledSpec: SessionSpec = { ...base, profilePrefix: path.join(tmp, 'ort-profile'), optimizedModelPath: optimizedPath };
    const profiled = await timedRuns(src, profiledSpec, feeds, req.warmup, req.profiledRuns, deps, 'profile', progress, checkCancel);

    progress('analyze', 0, 1, 'reading the ONNX Runtime profile');
    const profileFile = (await fs.readdir(tmp)).find((f) => f.startsWith('ort-profile') && f.endsWith('.json'));
    if (!profileFile) throw new TwbError('internal', 'ONNX Runtime wrote no profile file');
    if (deps.keepOrtProfile) await fs.copyFile(path.join(tmp, profileFile), deps.keepOrtProfile);
    const ortProfile = parseOrtProfile(await fs.readFile(path.join(tmp, profileFile), 'utf8'));
    const graph = await readOptimizedGraph(optimizedPath, warnings);
    const summary = summarizeModel(src.model);
    const agg = aggregateProfile({
      profile: ortProfile,
      skipRuns: Math.max(0, ortProfile.runs.length - req.profiledRuns),
      graph: graph ?? new GraphIndex(src.model.graph),
      storedNodeNames: new Set(src.model.graph.node.map((n) => n.name)),
      weightsBytes: summary.weightsBytes,
    });
    if (agg.ops.length === 0) warnings.push('the profile holds no kernel events for the measured runs');
    if (agg.memory.unavailable) warnings.push(`memory: ${agg.memory.unavailable}`);
    const unattributed = agg.layers.find((l) => l.layer === null);
    if (agg.layers.length > 1 && unattributed && unattributed.share > 0.5) {
      warnings.push(`${Math.round(unattributed.share * 100)}% of kernel time could not be attributed to a layer from node names`);
    }
    progress('analyze', 1, 1, 'done');

    const latencyMs = timingSummary(latencies);
    const p50 = latencyMs.p50;
    const createdAt = deps.now();
    return {
      schemaVersion: RUN_SCHEMA_VERSION,
      kind: 'inference',
      id: resultId(createdAt, src.name, ep),
      createdAt: createdAt.toISOString(),
      model: {
        name: src.name,
        source: src.source,
        sizeBytes: src.sizeBytes,
        params: summary.params,
        opset: summary.opset,
        opsets: summary.opsets,
        irVersion: summary.irVersion,
        producer: summary.producer,
        nodeCount: summary.nodeCount,
        inputs: info,
      },
      config: { ...stripModel(req), executionProvider: ep },
      env: runEnv(ep, req.threads),
      latencyMs,
      profiledLatencyMs: { mean: mean(profiled), p50: percentile(profiled, 50) },
      compute: { flops: agg.flopsPerRun, gflops: p50 > 0 ? agg.flopsPerRun / (p50 * 1e6) : 0 },
      ops: agg.ops,
      opTypes: agg.opTypes,
      layers: agg.layers,
      memory: agg.memory,
      trace: agg.trace,
      warnings,
    };
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

/** Opens a session, runs `warmup` untimed and `runs` timed inferences, and releases it. */
async function timedRuns(
  src: ModelSource,
  spec: SessionSpec,
  feeds: Record<string, FeedTensor>,
  warmup: number,
  runs: number,
  deps: ProfileDeps,
  phase: 'latency' | 'profile',
  progress: (phase: ProfilePhase, done: number, total: number, message: string) => void,
  checkCancel: () => void,
): Promise<number[]> {
  const session: Session = await openSession(src.ortInput, spec, src.source);
  const times: number[] = [];
  try {
    for (let i = 0; i < warmup; i++) {
      checkCancel();
      progress('warmup', i, warmup, `${phase}: warm-up run ${i + 1}/${warmup}`);
      await session.run(feeds);
    }
    for (let i = 0; i < runs; i++) {
      checkCancel();
      progress(phase, i, runs, `${phase === 'latency' ? 'timed' : 'profiled'} run ${i + 1}/${runs}`);
      const t0 = deps.clock();
      await session.run(feeds);
      times.push(deps.clock() - t0);
    }
    progress(phase, runs, runs, `${phase} runs done`);
    if (spec.profilePrefix) session.endProfiling();
  } finally {
    await session.release();
  }
  return times;
}

/** The graph after ORT's fusions, when ORT could save it; else undefined with a warning. */
async function readOptimizedGraph(file: string, warnings: string[]): Promise<GraphIndex | undefined> {
  try {
    return new GraphIndex(decodeModel(await fs.readFile(file)).graph);
  } catch {
    warnings.push('ONNX Runtime did not save its optimized graph; layers of fused nodes come from node names only');
    return undefined;
  }
}

function stripModel(req: ProfileRequest): Omit<ProfileRequest, 'model'> {
  const { model: _model, ...rest } = req;
  void _model;
  return rest;
}
