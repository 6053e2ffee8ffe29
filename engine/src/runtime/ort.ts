/**
 * The one module that imports onnxruntime-node (DESIGN.md convention 1). Everything else talks to
 * ONNX Runtime through the small surface below, which turns native errors into `TwbError`s that
 * name the op, input or execution provider at fault.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as OrtTypes from 'onnxruntime-node';
import { missingVulkanLoader } from './vulkan';
import { TwbError, choices } from '../util/errors';
import { classifyOrtError } from './ort-errors';
import { FeedTensor } from './feeds';
import { EXECUTION_PROVIDERS, ExecutionProvider, OptLevel } from '../schema/config';


let ortModule: typeof OrtTypes | undefined;

/** Loads ORT on first use, after switching its telemetry off (it reads the variable at load). */
export function ort(): typeof OrtTypes {
  if (!ortModule) {
    process.env.ORT_DISABLE_TELEMETRY = '1';
    ortModule = require('onnxruntime-node') as typeof OrtTypes;
    // Failures reach the user as one classified message; ORT's own log lines would only repeat them.
    ortModule.env.logLevel = 'fatal';
  }
  return ortModule;
}

export function ortVersion(): string {
  return ort().env.versions.node ?? ort().env.versions.common ?? 'unknown';
}

export interface SessionSpec {
  executionProvider: ExecutionProvider;
  /** Intra-op threads; 0 lets ORT choose (one per physical core). */
  threads: number;
  optLevel: OptLevel;
  /** When set, ORT profiles every run into a file starting with this prefix. */
  profilePrefix?: string;
  /** When set, ORT saves the graph it actually runs (after fusion) to this path. */
  optimizedModelPath?: string;
}

/** An output tensor copied out of ORT. `float16` data stays as bit patterns (`Uint16Array`). */
export interface FetchedTensor {
  type: string;
  dims: number[];
  data: FeedTensor['data'] | Int16Array | Uint32Array | BigUint64Array;
}

/** A live ORT session with the few operations the profiler needs. */
export interface Session {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, FeedTensor>): Promise<void>;
  /**
   * Runs and returns outputs with their data copied out of ORT: the named ones, or every graph
   * output when `names` is omitted. Tensors the caller exposed as extra graph outputs come back too.
   */
  fetch(feeds: Record<string, FeedTensor>, names?: readonly string[]): Promise<Record<string, FetchedTensor>>;
  /** Flushes the profile file (profiled sessions only). */
  endProfiling(): void;
  release(): Promise<void>;
}

function sessionOptions(spec: SessionSpec): OrtTypes.InferenceSession.SessionOptions {
  return {
    executionProviders: [spec.executionProvider],
    graphOptimizationLevel: spec.optLevel,
    ...(spec.threads > 0 ? { intraOpNumThreads: spec.threads } : {}),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    logSeverityLevel: 4,
    // The memory pattern pre-allocates one block for all activations after the first run, which
    // flattens ORT's in-use counter; profiled sessions turn it off so memory over time is real.
    ...(spec.profilePrefix ? { enableProfiling: true, profileFilePrefix: spec.profilePrefix, enableMemPattern: false } : {}),
    ...(spec.optimizedModelPath ? { optimizedModelFilePath: spec.optimizedModelPath } : {}),
  };
}

/** Opens a session on a model file (external data resolves beside it) or in-memory bytes. */
export async function openSession(model: string | Uint8Array, spec: SessionSpec, modelLabel: string): Promise<Session> {
  const o = ort();
  let session: OrtTypes.InferenceSession;
  try {
    session =
      typeof model === 'string'
        ? await o.InferenceSession.create(model, sessionOptions(spec))
        : await o.InferenceSession.create(model, sessionOptions(spec));
  } catch (e) {
    throw classifyOrtError(e, { stage: 'load', model: modelLabel, ep: spec.executionProvider });
  }
  const runSession = async (feeds: Record<string, FeedTensor>, names?: readonly string[]) => {
    const tensors: Record<string, OrtTypes.Tensor> = {};
    for (const [name, f] of Object.entries(feeds)) tensors[name] = new o.Tensor(f.type, f.data as never, f.dims);
    try {
      return names ? await session.run(tensors, names) : await session.run(tensors);
    } catch (e) {
      throw classifyOrtError(e, { stage: 'run', model: modelLabel, ep: spec.executionProvider });
    }
  };
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    async run(feeds) {
      const out = await runSession(feeds);
      for (const t of Object.values(out)) t.dispose?.();
    },
    async fetch(feeds, names) {
      const out = await runSession(feeds, names);
      const result: Record<string, FetchedTensor> = {};
      for (const [name, t] of Object.entries(out)) {
        const data = t.data as FetchedTensor['data'];
        // Copy: ORT may reuse the buffer once the tensor is disposed.
        result[name] = { type: t.type, dims: [...t.dims], data: data.slice() as FetchedTensor['data'] };
        t.dispose?.();
      }
      return result;
    },
    endProfiling() {
      session.endProfiling();
    },
    async release() {
      await session.release();
    },
  };
}

export interface ProviderStatus {
  name: ExecutionProvider;
  /** Whether the provider's code ships in the installed onnxruntime-node. */
  bundled: boolean;
  available: boolean;
  /** Why it cannot be used, when it cannot. */
  reason?: string;
}

const probeCache = new Map<ExecutionProvider, Promise<ProviderStatus>>();

/**
 * Whether an execution provider can actually run here. ORT lists providers it was built with, but
 * WebGPU also needs a GPU adapter and CUDA needs add-on libraries, so the only honest test is to
 * open a session on a one-node model with that provider alone (ORT does not fall back by itself).
 */
export function probeProvider(name: ExecutionProvider, probeModel: Uint8Array): Promise<ProviderStatus> {
  let p = probeCache.get(name);
  if (!p) {
    p = (async (): Promise<ProviderStatus> => {
      const listed = ort().listSupportedBackends().find((b) => b.name === name);
      if (!listed) return { name, bundled: false, available: false, reason: 'not built into this onnxruntime-node' };
      const missing = missingPrerequisite(name);
      if (missing) return { name, bundled: listed.bundled, available: false, reason: missing };
      try {
        const s = await openSession(probeModel, { executionProvider: name, threads: 1, optLevel: 'basic' }, 'probe');
        await s.release();
        return { name, bundled: listed.bundled, available: true };
      } catch (e) {
        const reason = e instanceof Error ? e.message.split('\n')[0] : String(e);
        return { name, bundled: listed.bundled, available: false, reason };
      }
    })();
    probeCache.set(name, p);
  }
  return p;
}

/** The status of every provider the workbench knows, in EXECUTION_PROVIDERS order. */
export function providerStatuses(probeModel: Uint8Array): Promise<ProviderStatus[]> {
  return Promise.all(EXECUTION_PROVIDERS.map((ep) => probeProvider(ep, probeModel)));
}

/** Fails with the list of usable providers unless `name` is usable. */
export async function requireProvider(name: string, probeModel: Uint8Array): Promise<ExecutionProvider> {
  if (!(EXECUTION_PROVIDERS as readonly string[]).includes(name)) {
    throw new TwbError('usage', `unknown execution provider "${name}"; ${choices(EXECUTION_PROVIDERS)}`);
  }
  const ep = name as ExecutionProvider;
  const status = await probeProvider(ep, probeModel);
  if (status.available) return ep;
  const usable = (await providerStatuses(probeModel)).filter((s) => s.available).map((s) => s.name);
  throw new TwbError(
    'unavailable-ep',
    `execution provider "${ep}" is not available on this machine (${status.reason}); available here: ${usable.join(', ') || 'none'}`,
    providerHint(ep),
  );
}

/**
 * Checks what a provider needs before asking ORT for it: without these files ORT prints native
 * warnings to stderr and fails anyway, so a missing file is reported as the reason instead.
 */
function missingPrerequisite(name: ExecutionProvider): string | undefined {
  if (name === 'cuda') {
    const lib = 'libonnxruntime_providers_cuda.so';
    const bin = path.dirname(require.resolve('onnxruntime-node/package.json'));
    const found = findFile(bin, lib, 5);
    return found ? undefined : `the CUDA add-on (${lib}) is not installed with onnxruntime-node`;
  }
  if (name === 'webgpu') return missingVulkanLoader();
  return undefined;
}

function findFile(dir: string, name: string, depth: number): boolean {
  if (depth < 0) return false;
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return false;
  }
  return entries.some((e) => (e.isFile() && e.name === name) || (e.isDirectory() && findFile(path.join(dir, e.name), name, depth - 1)));
}

function providerHint(ep: ExecutionProvider): string {
  switch (ep) {
    case 'webgpu':
      return 'WebGPU needs a GPU with a Vulkan driver (Linux) or D3D12/Metal; run with --ep cpu, or see README "GPU execution providers".';
    case 'cuda':
      return 'CUDA needs an NVIDIA GPU, CUDA 12 + cuDNN 9, and the CUDA add-on of onnxruntime-node (reinstall with ONNXRUNTIME_NODE_INSTALL=cuda12); see README "GPU execution providers".';
    default:
      return '';
  }
}
