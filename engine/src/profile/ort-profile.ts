import { TwbError } from '../util/errors';

/** One kernel execution from ONNX Runtime's profile (`cat: "Node"`, `*_kernel_time`). */
export interface OrtKernelEvent {
  /** Node name as ORT ran it (fused nodes get new names), without the `_kernel_time` suffix. */
  node: string;
  opType: string;
  provider: string;
  /** Start, microseconds since the session started. */
  tsUs: number;
  durUs: number;
  /** Shapes of the inputs ORT reported; prepacked constant inputs are left out by ORT. */
  inputShapes: number[][];
  outputShapes: number[][];
  /** Bytes of constant (initializer) inputs. */
  paramBytes: number;
  /** Memory fields, absent for providers that do not report them. */
  mem?: { inUse: number; peak: number; arenaHeld: number };
}

/** One `model_run` span: a whole `session.run` as ORT timed it. */
export interface OrtRunSpan {
  tsUs: number;
  durUs: number;
}

export interface OrtProfile {
  runs: OrtRunSpan[];
  kernels: OrtKernelEvent[];
}

/** Name suffix of ORT's per-kernel events (`cat: "Node"`); the other Node events are fences. */
export const KERNEL_SUFFIX = '_kernel_time';

/**
 * Parses the chrome-trace JSON that ORT writes when profiling is on. Fails with a clear message on
 * text that is not such a file (including a truncated one).
 */
export function parseOrtProfile(text: string): OrtProfile {
  let events: unknown;
  try {
    events = JSON.parse(text);
  } catch (e) {
    throw new TwbError('io', `ONNX Runtime profile is not valid JSON (${(e as Error).message}); the file may be truncated`);
  }
  if (!Array.isArray(events)) throw new TwbError('io', 'ONNX Runtime profile should be a JSON array of trace events');
  const runs: OrtRunSpan[] = [];
  const kernels: OrtKernelEvent[] = [];
  for (const ev of events) {
    if (!ev || typeof ev !== 'object') continue;
    const e = ev as Record<string, unknown>;
    const name = typeof e.name === 'string' ? e.name : '';
    const ts = Number(e.ts);
    const dur = Number(e.dur);
    if (!Number.isFinite(ts) || !Number.isFinite(dur)) continue;
    if (e.cat === 'Session' && name === 'model_run') runs.push({ tsUs: ts, durUs: dur });
    else if (e.cat === 'Node' && name.endsWith(KERNEL_SUFFIX)) kernels.push(kernelEvent(name, ts, dur, (e.args ?? {}) as Record<string, unknown>));
  }
  runs.sort((a, b) => a.tsUs - b.tsUs);
  kernels.sort((a, b) => a.tsUs - b.tsUs);
  return { runs, kernels };
}

function kernelEvent(name: string, ts: number, dur: number, args: Record<string, unknown>): OrtKernelEvent {
  const inUse = num(args.mem_bytes_in_use);
  const ev: OrtKernelEvent = {
    node: name.slice(0, -KERNEL_SUFFIX.length),
    opType: ortOpType(args),
    provider: shortProvider(typeof args.provider === 'string' ? args.provider : ''),
    tsUs: ts,
    durUs: dur,
    inputShapes: shapes(args.input_type_shape),
    outputShapes: shapes(args.output_type_shape),
    paramBytes: num(args.parameter_size) ?? 0,
  };
  if (inUse !== undefined) ev.mem = { inUse, peak: num(args.mem_in_use_peak) ?? inUse, arenaHeld: num(args.mem_arena_held) ?? 0 };
  return ev;
}

/** The op type of a kernel event: its `args.op_name` (`unknown` when ORT left it out). */
export function ortOpType(args: Record<string, unknown> | undefined): string {
  return typeof args?.op_name === 'string' ? args.op_name : 'unknown';
}

/** `CPUExecutionProvider` → `cpu`, `WebGpuExecutionProvider` → `webgpu`. */
function shortProvider(p: string): string {
  return p.replace(/ExecutionProvider$/, '').toLowerCase() || 'unknown';
}

/** ORT writes shapes as `[{"float": [1, 8, 256]}, ...]`. */
function shapes(v: unknown): number[][] {
  if (!Array.isArray(v)) return [];
  return v.map((entry) => {
    const dims = entry && typeof entry === 'object' ? Object.values(entry as object)[0] : undefined;
    return Array.isArray(dims) ? dims.map(Number) : [];
  });
}

function num(v: unknown): number | undefined {
  const n = typeof v === 'string' ? Number(v) : typeof v === 'number' ? v : NaN;
  return Number.isFinite(n) ? n : undefined;
}

/**
 * Index of the run each kernel belongs to (-1 when it falls outside every `model_run` span, as
 * kernels of session initialisation do).
 */
export function assignRuns(profile: OrtProfile): number[] {
  return profile.kernels.map((k) => runIndexOf(profile.runs, k.tsUs));
}

/** Index of the run span (sorted by start) that contains time `tsUs`, −1 when none does. */
export function runIndexOf(runs: readonly OrtRunSpan[], tsUs: number): number {
  let lo = 0;
  let hi = runs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = runs[mid];
    if (tsUs < r.tsUs) hi = mid - 1;
    else if (tsUs > r.tsUs + r.durUs) lo = mid + 1;
    else return mid;
  }
  return -1;
}
