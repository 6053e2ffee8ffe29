/**
 * The only importer of TensorFlow.js (DESIGN.md): picks a backend, says why, and hands the rest of
 * the engine the `tf` namespace. Other modules import the types below with `import type` only, so
 * nothing loads tfjs until a training job asks for it.
 *
 * Backends, in the order `auto` tries them:
 *   tensorflow  `@tensorflow/tfjs-node-gpu` or `@tensorflow/tfjs-node` (optional: they download
 *               libtensorflow at install, which fails offline, so they are usually absent)
 *   webgpu      `@tensorflow/tfjs-backend-webgpu` on Dawn's Node bindings (the `webgpu` package);
 *               used only when Dawn finds a GPU adapter
 *   wasm        `@tensorflow/tfjs-backend-wasm` (SIMD; no threads in Node) — the default here
 *   cpu         the pure-JS reference backend
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as TfCore from '@tensorflow/tfjs-core';
import { TwbError, choices } from '../util/errors';
import { missingVulkanLoader } from './vulkan';
import type { BackendAttempt, TrainEnv } from '../schema/training';

export type Tf = typeof TfCore;
export type Tensor = TfCore.Tensor;
export type Tensor1D = TfCore.Tensor1D;
export type Tensor2D = TfCore.Tensor2D;
export type Tensor3D = TfCore.Tensor3D;
export type Tensor4D = TfCore.Tensor4D;
export type Variable = TfCore.Variable;
export type Scalar = TfCore.Scalar;
export type NamedTensorMap = TfCore.NamedTensorMap;
export type ProfileInfo = Awaited<ReturnType<Tf['profile']>>;
export type KernelInfo = ProfileInfo['kernels'][number];

export const TF_BACKENDS = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof TF_BACKENDS)[number];

export interface TfRuntime {
  tf: Tf;
  /** The backend that is active. */
  backend: string;
  /** Every backend considered, with why it was (not) used. */
  attempts: BackendAttempt[];
  /** True when the backend can run float16 kernels (none of the Node backends can today). */
  supportsFp16: boolean;
  env: TrainEnv;
}

export function parseBackend(value: string): BackendChoice {
  if ((TF_BACKENDS as readonly string[]).includes(value)) return value as BackendChoice;
  throw new TwbError('usage', `--backend "${value}" is unknown; ${choices([...TF_BACKENDS])}`);
}

let core: Tf | undefined;
function loadCore(): Tf {
  if (!core) {
    core = require('@tensorflow/tfjs-core') as Tf;
    // tfjs-core alone registers no gradients; the `@tensorflow/tfjs` umbrella would, with much else.
    require('@tensorflow/tfjs-core/dist/register_all_gradients');
    require('@tensorflow/tfjs-backend-cpu');
    // tfjs warns on stdout about faster backends; the run records which backend ran and why.
    core.env().set('IS_TEST', false);
    core.env().set('PROD', true);
  }
  return core;
}

type Attempt = (tf: Tf) => Promise<string>;

/** Each returns a reason it can run, or throws one it cannot. */
const ATTEMPTS: Record<Exclude<BackendChoice, 'auto'>, Attempt> = {
  tensorflow: async (tf) => {
    for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
      try {
        require(pkg);
      } catch (e) {
        if (pkg === '@tensorflow/tfjs-node') throw new Error(`neither @tensorflow/tfjs-node-gpu nor @tensorflow/tfjs-node is installed (${firstLine(e)}); they download libtensorflow at install time`);
        continue;
      }
      if (!(await tf.setBackend('tensorflow'))) throw new Error(`${pkg} loaded but its backend did not initialize`);
      return `${pkg} (libtensorflow, native)`;
    }
    throw new Error('unreachable');
  },
  webgpu: async (tf) => {
    const missing = missingVulkanLoader();
    if (missing) throw new Error(missing);
    let dawn: { create: (opts: string[]) => { requestAdapter: () => Promise<unknown> }; globals: Record<string, unknown> };
    try {
      dawn = require('webgpu');
    } catch (e) {
      throw new Error(`the webgpu package (Dawn for Node) is not installed: ${firstLine(e)}`);
    }
    const gpu = dawn.create([]);
    const adapter = await gpu.requestAdapter();
    if (!adapter) throw new Error('Dawn found no GPU adapter (it needs a Vulkan driver: libvulkan.so.1 and a GPU)');
    Object.assign(globalThis, dawn.globals);
    // tfjs-backend-webgpu looks for navigator.gpu, as in a browser.
    const g = globalThis as { navigator?: { gpu?: unknown } };
    if (!g.navigator) Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true });
    g.navigator!.gpu = gpu;
    require('@tensorflow/tfjs-backend-webgpu');
    if (!(await tf.setBackend('webgpu'))) throw new Error('tfjs-backend-webgpu did not initialize on the Dawn adapter');
    return 'WebGPU through Dawn';
  },
  wasm: async (tf) => {
    const wasm = require('@tensorflow/tfjs-backend-wasm') as { setWasmPaths: (prefix: string) => void };
    wasm.setWasmPaths(wasmDir() + path.sep);
    // Emscripten's Node glue installs process-wide handlers that rethrow every uncaught error and
    // unhandled rejection (printing its whole minified source); the engine handles its own.
    const before = processHandlers();
    const ok = await tf.setBackend('wasm');
    removeAddedHandlers(before);
    if (!ok) throw new Error('the wasm binary did not load');
    return 'WebAssembly with SIMD (single-threaded: Node has no wasm threads here)';
  },
  cpu: async (tf) => {
    await tf.setBackend('cpu');
    return 'pure JavaScript reference backend';
  },
};

const PROCESS_EVENTS = ['uncaughtException', 'unhandledRejection'] as const;

type Listener = (...args: unknown[]) => void;
// Node's typings overload listeners() per event; the plain EventEmitter view covers both events.
const emitter = process as unknown as { listeners(e: string): Listener[]; removeListener(e: string, l: Listener): void };

function processHandlers(): Map<string, Set<Listener>> {
  return new Map(PROCESS_EVENTS.map((e) => [e, new Set(emitter.listeners(e))]));
}

function removeAddedHandlers(before: Map<string, Set<Listener>>): void {
  for (const e of PROCESS_EVENTS) {
    for (const l of emitter.listeners(e)) if (!before.get(e)!.has(l)) emitter.removeListener(e, l);
  }
}

/** The .wasm files: next to the bundle (dist/tfjs) or in node_modules when run from source. */
function wasmDir(): string {
  const bundled = path.join(__dirname, 'tfjs');
  if (fs.existsSync(path.join(bundled, 'tfjs-backend-wasm-simd.wasm'))) return bundled;
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm'));
}

const AUTO_ORDER: Array<Exclude<BackendChoice, 'auto'>> = ['tensorflow', 'webgpu', 'wasm', 'cpu'];

/**
 * Loads tfjs and activates a backend. `auto` takes the first that works; a named backend that
 * cannot run fails with the reason (never a silent fallback).
 */
export async function loadTf(choice: BackendChoice = 'auto'): Promise<TfRuntime> {
  const tf = loadCore();
  const order = choice === 'auto' ? AUTO_ORDER : [choice];
  const attempts: BackendAttempt[] = [];
  for (const name of order) {
    try {
      const why = await ATTEMPTS[name](tf);
      attempts.push({ name, ok: true, reason: why });
      await tf.ready();
      return { tf, backend: name, attempts, supportsFp16: false, env: trainEnv(tf, name) };
    } catch (e) {
      attempts.push({ name, ok: false, reason: firstLine(e) });
    }
  }
  const tried = attempts.map((a) => `${a.name}: ${a.reason}`).join('; ');
  throw new TwbError('unavailable-ep', `tfjs backend "${choice}" is not usable here (${tried})`);
}

export function trainEnv(tf: Tf, backend: string): TrainEnv {
  return {
    backend,
    tfjsVersion: tf.version_core,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cpuCount: os.availableParallelism(),
    platform: `${process.platform}-${process.arch}`,
    nodeVersion: process.version,
  };
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0];
}
