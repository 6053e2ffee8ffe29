/**
 * What the trace rules read off an imported trace (schema/trace.ts): the step time, whether it
 * records training, the precision of each GPU matrix kernel (from its name: cuBLAS, cuDNN, CUTLASS
 * and rocBLAS names say their data type), kernel-launch overhead, memory against the device's
 * capacity, linear algebra on the host, and the user's source line behind an op. Pure.
 */
import type { TraceKernel, TraceOpType, TraceRun } from '../schema/trace';

/** The time the estimates scale: the mean `ProfilerStep#N` when the trace has steps, else its span. */
export function stepTime(run: TraceRun): { us: number; what: string } {
  if (run.steps.length === 0) return { us: run.spanUs, what: 'the trace span (the trace has no ProfilerStep#N)' };
  const us = run.steps.reduce((s, x) => s + x.durUs, 0) / run.steps.length;
  return { us, what: `the mean of ${run.steps.length} ProfilerStep#N` };
}

/**
 * The step time once `savedUs` of GPU time is gone from a GPU span of `spanUs`: scaled by the share
 * saved when the trace has steps (they cover the GPU work), else the time off the trace span.
 */
export function stepAfter(run: TraceRun, savedUs: number, spanUs: number): { us: number; speedup: number } {
  const step = stepTime(run);
  const saved = Math.max(0, Math.min(savedUs, spanUs));
  const us = run.steps.length > 0 ? step.us * (1 - saved / Math.max(spanUs, 1e-9)) : Math.max(step.us - saved, 1e-9);
  return { us, speedup: step.us / Math.max(us, 1e-9) };
}

/** `ProfilerStep#12` → `ProfilerStep*`, as `key_averages()` and the op table group them. */
export const opGroup = (name: string): string => (/^ProfilerStep#\d+$/.test(name) ? 'ProfilerStep*' : name);

const TRAINING_OP = /Backward\d*$|^autograd::engine::|^Optimizer\.(step|zero_grad)|^## backward ##$/;

/** The first op that shows the trace records training (a backward or optimizer op), if any. */
export function trainingOp(run: TraceRun): string | undefined {
  return run.opTypes.find((o) => TRAINING_OP.test(o.opType))?.opType;
}

const COMPILED_OP = /^CompiledFunction|^Torch-Compiled Region|^TorchDynamo/;

/** The first op that shows the program already runs under torch.compile, if any. */
export function compiledOp(run: TraceRun): string | undefined {
  return run.opTypes.find((o) => COMPILED_OP.test(o.opType))?.opType;
}

export type MatrixPrecision = 'fp32' | 'tf32' | 'half' | 'unknown';

/** Products and convolutions by name: cuBLAS/cuDNN/CUTLASS/xmma, rocBLAS (`Cijk_`), MIOpen (`igemm`, `conv`). */
const MATRIX = /gemm|gemv|conv|scudnn|wgrad|dgrad|fprop|winograd|xmma|tensorop|Cijk_/i;
/** Half-precision and integer data: fp16/bf16 in the name, `h`-prefixed cuBLAS kernels, the 884/16816/161616 tensor-core shapes, rocBLAS H/B types. */
const HALF = /f16|half|bf16|hgemm|h884|h1688|h16816|hmma|s884|s16816|s161616|int8|imma|i8i8|fp8|e4m3|e5m2|Cijk_\w*?_(HB|HH|HS|BB|BS|I8)/i;
/** TF32 tensor cores: fp32 data, 10-bit mantissa products (Ampere's 1688 shape without a half marker). */
const TF32 = /tf32|s1688|1688gemm/i;
/** fp32 SIMT kernels: cuBLAS `sgemm`/`cgemm`, cuDNN `scudnn`, templates on `<float`, rocBLAS single (`_S_`, `_SB_`). */
const FP32 = /sgemm|scudnn|cgemm|<float\b|f32f32_f32f32|Cijk_\w*?_SB?_/i;

/** The precision a matrix kernel computes in, or null when the name is not a product or convolution. */
export function matrixPrecision(name: string): MatrixPrecision | null {
  if (!MATRIX.test(name)) return null;
  if (HALF.test(name)) return 'half';
  if (TF32.test(name)) return 'tf32';
  if (FP32.test(name)) return 'fp32';
  return 'unknown';
}

export interface PrecisionFacts {
  /** Summed time of the compute kernels (not communication, memcpy or memset), microseconds. */
  computeUs: number;
  /** Matrix kernels by precision, largest first, with their summed time (microseconds). */
  byPrecision: Record<MatrixPrecision, { us: number; kernels: TraceKernel[] }>;
}

export function precisionFacts(run: TraceRun): PrecisionFacts {
  const by: PrecisionFacts['byPrecision'] = { fp32: { us: 0, kernels: [] }, tf32: { us: 0, kernels: [] }, half: { us: 0, kernels: [] }, unknown: { us: 0, kernels: [] } };
  let computeUs = 0;
  for (const k of run.kernels) {
    if (k.category !== 'compute') continue;
    computeUs += k.totalUs;
    const p = matrixPrecision(k.name);
    if (p === null) continue;
    by[p].us += k.totalUs;
    by[p].kernels.push(k);
  }
  return { computeUs, byPrecision: by };
}

/** Host calls that launch a kernel (CUDA runtime and driver, HIP). */
export const LAUNCH_OPS = new Set(['cudaLaunchKernel', 'cudaLaunchKernelExC', 'cudaLaunchCooperativeKernel', 'cuLaunchKernel', 'cuLaunchKernelEx', 'hipLaunchKernel', 'hipExtLaunchKernel', 'hipModuleLaunchKernel', 'hipExtModuleLaunchKernel']);

export interface LaunchFacts {
  /** Self time of the launch calls on the host, microseconds. */
  launchUs: number;
  launchCalls: number;
  /** The launch calls by name, largest first. */
  launchOps: TraceOpType[];
  /** Compute kernels (not memcpy/memset): calls and summed time, microseconds. */
  kernelCalls: number;
  kernelUs: number;
  /** kernelUs ÷ kernelCalls (0 without kernels), microseconds. */
  meanKernelUs: number;
}

export function launchFacts(run: TraceRun): LaunchFacts {
  const launchOps = run.opTypes.filter((o) => LAUNCH_OPS.has(o.opType));
  const compute = run.kernels.filter((k) => k.category === 'compute' || k.category === 'communication');
  const kernelCalls = compute.reduce((s, k) => s + k.calls, 0);
  const kernelUs = compute.reduce((s, k) => s + k.totalUs, 0);
  return {
    launchUs: launchOps.reduce((s, o) => s + o.selfUs, 0),
    launchCalls: launchOps.reduce((s, o) => s + o.calls, 0),
    launchOps,
    kernelCalls,
    kernelUs,
    meanKernelUs: kernelCalls > 0 ? kernelUs / kernelCalls : 0,
  };
}

export interface DeviceMemory {
  /** `cuda:0`. */
  device: string;
  /** Its name in the trace's device properties. */
  name: string;
  peakBytes: number;
  totalBytes: number;
  /** peakBytes ÷ totalBytes. */
  share: number;
}

/** Accelerators whose memory peak and capacity the trace both give, fullest first. */
export function memoryPressure(run: TraceRun): DeviceMemory[] {
  const out: DeviceMemory[] = [];
  for (const d of run.memory?.devices ?? []) {
    const m = /^(?:cuda|hip|gpu|xpu)?:?(\d+)$/i.exec(d.device);
    if (!m) continue;
    const props = run.meta.devices.find((p) => p.id === Number(m[1]));
    if (!props?.totalMemoryBytes) continue;
    out.push({ device: d.device, name: props.name, peakBytes: d.peakBytes, totalBytes: props.totalMemoryBytes, share: d.peakBytes / props.totalMemoryBytes });
  }
  return out.sort((a, b) => b.share - a.share);
}

/**
 * The lowest point of the memory timeline from the first step on (from the start without steps):
 * what stays allocated between steps (weights, gradients, optimizer state). The timeline keeps each
 * bucket's maximum, so this is at or above the true lowest point.
 */
export function memoryFloor(run: TraceRun): number | null {
  const m = run.memory;
  if (!m || m.timeline.length === 0) return null;
  const from = run.steps[0]?.startUs ?? -Infinity;
  const points = m.timeline.filter((p) => p.tUs >= from);
  return Math.min(...(points.length > 0 ? points : m.timeline).map((p) => p.bytes));
}

/** Products with a weight matrix: what `nn.Linear` runs and `quantize_dynamic` rewrites. */
export const LINEAR_OPS = new Set(['aten::addmm', 'aten::mm', 'aten::linear', 'aten::_addmm_activation', 'aten::mkldnn_linear']);
/** Products of two activations (attention scores and context): dynamic quantization leaves them in fp32. */
export const ACTIVATION_PRODUCT_OPS = new Set(['aten::bmm', 'aten::baddbmm', 'aten::matmul', 'aten::_scaled_dot_product_attention', 'aten::scaled_dot_product_attention', 'aten::_scaled_dot_product_flash_attention_for_cpu']);

export interface LinearFacts {
  linear: TraceOpType[];
  /** Share of host self time in `linear`, 0..1. */
  linearShare: number;
  activation: TraceOpType[];
  activationShare: number;
}

export function linearFacts(run: TraceRun): LinearFacts {
  const linear = run.opTypes.filter((o) => LINEAR_OPS.has(o.opType));
  const activation = run.opTypes.filter((o) => ACTIVATION_PRODUCT_OPS.has(o.opType));
  const share = (ops: TraceOpType[]) => Math.min(1, ops.reduce((s, o) => s + o.selfShare, 0));
  return { linear, linearShare: share(linear), activation, activationShare: share(activation) };
}

/**
 * The user's source line behind the first of `opTypes` that has one (traces recorded with
 * `with_stack=True`): `train.py:42 (<module>)`.
 */
export function sourceLine(run: TraceRun, opTypes: readonly string[]): string | undefined {
  for (const name of opTypes) {
    const top = run.opTypes.find((o) => o.opType === name)?.sources?.[0];
    const f = top ? run.frames[top.frame] : undefined;
    if (f) return `${f.file}:${f.line} (${f.fn})`;
  }
  return undefined;
}

/** The GPU the trace ran on (the first busy device, else the first listed) and its CUDA compute capability. */
export function gpuCapability(run: TraceRun): { name: string; capability: string | null; major: number | null } | null {
  const d = run.meta.devices.find((x) => x.id === (run.gpu?.devices[0]?.device ?? 0)) ?? run.meta.devices[0];
  if (!d) return null;
  const major = d.computeCapability ? Number(d.computeCapability.split('.')[0]) : NaN;
  return { name: d.name, capability: d.computeCapability ?? null, major: Number.isFinite(major) ? major : null };
}
