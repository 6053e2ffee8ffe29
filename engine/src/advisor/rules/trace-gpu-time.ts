/**
 * Rules for an imported trace about GPU time that is not kernel work: the GPU idling while the host
 * loads data, copies or waits; collective communication that computation does not hide; and
 * kernels so short that launching them costs more than running them. Every figure comes from the
 * trace; the speedups are upper bounds (the idle, exposed or launch time removed entirely) and the
 * basis says so. The change is code in the user's program, which the workbench shows, not applies.
 */
import { formatUs } from '../../util/format';
import { DATA_LOADER_OP as DATA_LOADER, idleFacts } from '../trace-idle';
import { compiledOp, launchFacts, sourceLine, stepAfter, stepTime, trainingOp } from '../trace-facts';
import { inputPipelineSnippet, overlapCommunicationSnippet, compileSnippet } from '../trace-snippets';
import { pct, Rule, suggest, times } from './types';

/** Below this busy share of its span, a GPU is waiting for the host. */
export const MIN_GPU_UTILIZATION = 0.8;
/** Above this share of communication hidden behind computation, there is little left to hide. */
export const MAX_COMM_OVERLAP = 0.5;
/** Exposed communication under this share of the GPU span is not worth a change. */
export const MIN_EXPOSED_SHARE = 0.02;
/** Kernels shorter than this on average (µs) can be launched slower than they run. */
export const MAX_MEAN_KERNEL_US = 10;
/** Launch calls' host time against GPU busy time at which launching is the bottleneck. */
export const MIN_LAUNCH_TO_BUSY = 0.5;
/** Fewer kernels than this are start-up (module loading inflates the first launches), not a pattern. */
export const MIN_KERNEL_LAUNCHES = 500;

/** A cause of idle time gets its part of the snippet from this share of the idle time. */
export const MIN_CAUSE_SHARE = 0.05;

/** A trace without steps needs this much GPU span (µs) before its idle time says anything. */
export const MIN_UNSTEPPED_GPU_SPAN_US = 10_000;
/** From this share of the idle time in CUDA start-up calls, the trace caught start-up, not steady state. */
export const MAX_START_UP_SHARE = 0.3;
/** From this share of the idle time with framework ops innermost, the host is the bottleneck. */
export const MIN_HOST_BOUND_SHARE = 0.3;

const START_UP = /^(cudaMalloc|cudaFree|cudaHostAlloc|cudaStreamCreate|cudaDeviceGetStreamPriorityRange|cudaGetDeviceProperties|cudaSetDevice|cuModuleLoad|cuCtxCreate|cudaDeviceReset|hipMalloc|hipFree|hipStreamCreate)/;
const DISPATCH = /^(aten|autograd|c10d|torch)::|Backward\d*$|^(cuda|cu|hip)[A-Z]/;
const COPY_OPS = ['aten::to', 'aten::_to_copy', 'aten::copy_'];
const SYNC_OPS = ['cudaDeviceSynchronize', 'cudaStreamSynchronize', 'cudaEventSynchronize', 'cudaMemcpy', 'hipDeviceSynchronize', 'hipStreamSynchronize'];
const READ_OPS = ['aten::item', 'aten::_local_scalar_dense'];

export const gpuIdleRule: Rule = {
  id: 'gpu-idle',
  family: 'trace',
  appliesTo: ['trace'],
  apply(ctx) {
    if (ctx.doc.kind !== 'trace') return { quiet: 'reads imported traces' };
    const run = ctx.doc.run;
    const gpu = run.gpu;
    if (!gpu || gpu.devices.length === 0) return { quiet: 'the trace has no GPU activity' };
    const worst = [...gpu.devices].sort((a, b) => a.utilization - b.utilization)[0];
    if (worst.utilization >= MIN_GPU_UTILIZATION) return { quiet: `GPU ${worst.device} is busy ${pct(worst.utilization)} of its span (the rule looks below ${pct(MIN_GPU_UTILIZATION)})` };
    if (run.steps.length === 0 && gpu.spanUs < MIN_UNSTEPPED_GPU_SPAN_US) return { quiet: `a GPU span of ${formatUs(gpu.spanUs)} without ProfilerStep#N is too short to judge: record a few steady-state steps (torch.profiler.schedule, prof.step())` };
    const idle = idleFacts(run);
    const idleUs = idle?.idleUs ?? worst.idleUs;
    const share = (us: number) => Math.min(1, us / Math.max(idleUs, 1e-9));
    const notable = (us: number) => share(us) >= MIN_CAUSE_SHARE;
    const selfOf = (test: (n: string) => boolean) => (idle?.self ?? []).filter((o) => test(o.name)).reduce((s, o) => s + o.us, 0);
    const startUpUs = selfOf((n) => START_UP.test(n));
    if (share(startUpUs) >= MAX_START_UP_SHARE) return { quiet: `the idle time is mostly CUDA start-up (cudaMalloc, cudaFree, stream and context creation: ${pct(share(startUpUs))} of it): record after warm-up (torch.profiler.schedule with wait and warmup steps)` };
    // Inclusive: an op counts while any of its callees runs. Nested copies (to → _to_copy → copy_) take the outermost.
    const open = (names: (n: string) => boolean) => [...(idle?.open.entries() ?? [])].filter(([n]) => names(n)).reduce((s, [, us]) => s + us, 0);
    const maxOpen = (names: string[]) => Math.max(0, ...names.map((n) => idle?.open.get(n) ?? 0));
    const loaderUs = open((n) => DATA_LOADER.test(n));
    const copyUs = maxOpen(COPY_OPS);
    const syncUs = open((n) => SYNC_OPS.includes(n)) + maxOpen(READ_OPS);
    // Framework ops inside the DataLoader are data loading, counted above.
    const inLoaderOf = (test: (n: string) => boolean) => [...(idle?.selfInDataLoader.entries() ?? [])].filter(([n]) => test(n)).reduce((s, [, us]) => s + us, 0);
    const dispatchUs = selfOf((n) => DISPATCH.test(n)) - inLoaderOf((n) => DISPATCH.test(n));
    const hostBound = share(dispatchUs) >= MIN_HOST_BOUND_SHARE && dispatchUs > loaderUs + copyUs;
    const pageable = run.kernels.filter((k) => k.category === 'memcpy' && /pageable/i.test(k.name));
    const pageableUs = pageable.reduce((s, k) => s + k.totalUs, 0);
    const causes = [
      loaderUs > 0 ? `data loading (enumerate(DataLoader)) ${formatUs(loaderUs)} (${pct(share(loaderUs))})` : '',
      copyUs > 0 ? `host-to-device copies (aten::to/copy_) ${formatUs(copyUs)} (${pct(share(copyUs))})` : '',
      syncUs > 0 ? `waits for the device (synchronize, .item()) ${formatUs(syncUs)} (${pct(share(syncUs))})` : '',
      dispatchUs > 0 ? `framework ops and CUDA runtime calls innermost outside data loading (aten::*, autograd, cuda*) ${formatUs(dispatchUs)} (${pct(share(dispatchUs))})` : '',
    ].filter(Boolean);
    const devices = gpu.devices.map((d) => `GPU ${d.device} idle ${formatUs(d.idleUs)} of its ${formatUs(d.spanUs)} span (busy ${pct(d.utilization)})`).join('; ');
    const summary =
      `${devices}` +
      (idle ? `; in ${idle.gaps} gaps, host ops ran during ${pct(share(idle.coveredUs))} of the idle time` : '') +
      (causes.length ? `; while the GPU idled: ${causes.join(', ')}` : '') +
      (pageableUs > 0 ? `; ${formatUs(pageableUs)} of copies from pageable (not pinned) host memory` : '') +
      '. Items: ops innermost on their thread during the idle time, share of the idle time (threads summed)';
    const items = (idle?.self ?? []).filter((o) => o.name !== 'ProfilerStep*').slice(0, 6).map((o) => ({ what: o.name, share: share(o.us) }));
    const loaderOp = run.opTypes.find((o) => DATA_LOADER.test(o.opType))?.opType;
    const where = sourceLine(run, [...(loaderOp ? [loaderOp] : []), ...COPY_OPS]) ?? (hostBound && !notable(loaderUs) ? 'the training step and the model construction' : 'the DataLoader construction and the line that moves each batch to the GPU');
    const busiest = Math.max(...gpu.devices.map((d) => d.busyUs));
    const all = stepAfter(run, gpu.spanUs - busiest, gpu.spanUs);
    const hidden = Math.min(idleUs, loaderUs + copyUs);
    const partial = hidden > 0 ? stepAfter(run, hidden, gpu.spanUs) : null;
    const step = stepTime(run);
    const warnings = ['the profiler slows the host (more so with record_shapes and with_stack): a trace shows more host-bound idle time than an unprofiled run'];
    if (idle && idle.dropped > 0) warnings.push(`the import kept a capped timeline (${idle.dropped} events left out): host ops during idle time are under-counted`);
    if (gpu.devices.length > 1) warnings.push('several GPUs in one trace: idle time on the timeline counts only when no GPU lane is busy');
    return suggest(this, ctx, {
      title: `Keep the GPU fed: it is idle ${pct(1 - worst.utilization)} of the time`,
      evidence: { summary, items },
      change: {
        kind: 'code',
        language: 'python',
        snippet: inputPipelineSnippet({ dataLoader: notable(loaderUs), pageableCopies: pageableUs > 0, copies: notable(copyUs), syncs: notable(syncUs), hostBound, compiled: compiledOp(run) !== undefined }),
        where,
      },
      estimate: {
        speedup: all.speedup,
        latencyMs: all.us / 1000,
        memoryBytes: null,
        sizeBytes: null,
        accuracyRisk: 'none',
        basis:
          `Upper bound: all idle time removed — the GPU span (${formatUs(gpu.spanUs)}) shrinks to the busiest device's busy time (${formatUs(busiest)}); the step time (${step.what}) ${run.steps.length > 0 ? 'shrinks in the same proportion' : 'loses the same time'}: ${times(all.speedup)}.` +
          (partial ? ` Hiding only the data loading and copies seen during idle time (${formatUs(hidden)}) would give ${times(partial.speedup)}.` : '') +
          ' The real gain is the idle time the change hides, which depends on how much host work can overlap kernels.',
      },
      warnings,
    });
  },
};

export const exposedCommunicationRule: Rule = {
  id: 'exposed-communication',
  family: 'trace',
  appliesTo: ['trace'],
  apply(ctx) {
    if (ctx.doc.kind !== 'trace') return { quiet: 'reads imported traces' };
    const run = ctx.doc.run;
    const c = run.communication;
    if (!run.gpu || !c) return { quiet: 'no collective-communication kernels (NCCL/RCCL) ran in the trace' };
    if (c.overlapShare >= MAX_COMM_OVERLAP) return { quiet: `${pct(c.overlapShare)} of the communication time overlaps computation (the rule looks below ${pct(MAX_COMM_OVERLAP)})` };
    const exposed = c.commUs - c.overlapUs;
    const span = run.gpu.devices.reduce((s, d) => s + d.spanUs, 0) || run.gpu.spanUs;
    if (exposed / span < MIN_EXPOSED_SHARE) return { quiet: `exposed communication is ${formatUs(exposed)}, ${pct(exposed / span)} of the GPU span (the rule looks from ${pct(MIN_EXPOSED_SHARE)})` };
    const after = stepAfter(run, exposed, span);
    const step = stepTime(run);
    const names = run.opTypes.map((o) => o.opType);
    const wrapper = names.some((n) => /FullyShardedDataParallel|FSDP/.test(n)) ? 'fsdp' : names.some((n) => /DistributedDataParallel|ddp\.reducer|distributed::reducer/.test(n)) ? 'ddp' : 'unknown';
    const d = run.distributed;
    const comm = run.kernels.filter((k) => k.category === 'communication');
    const items = comm.slice(0, 5).map((k) => ({ what: `${k.name.replace(/\(.*$/, '')} ×${k.calls}`, share: Math.min(1, k.totalUs / Math.max(c.commUs, 1e-9)) }));
    const warnings = ['a trace is one rank: ranks that wait for a slower one show that wait as communication; compare the traces of several ranks'];
    const worst = Math.min(...run.gpu.devices.map((x) => x.utilization));
    if (worst < MIN_GPU_UTILIZATION) warnings.push(`the GPU is busy only ${pct(worst)} of its span: there may be too little computation to hide the communication behind until the GPU idle time is fixed (gpu-idle)`);
    if (wrapper === 'unknown') warnings.push('no DistributedDataParallel or FSDP ops in the trace: the snippet assumes DDP');
    return suggest(this, ctx, {
      title: `Overlap communication with computation: ${pct(1 - c.overlapShare)} of it is exposed`,
      evidence: {
        summary: `${formatUs(c.commUs)} of communication kernels${d ? ` (${d.backend ?? 'backend not recorded'}, rank ${d.rank}${d.worldSize !== null ? ` of ${d.worldSize}` : ''})` : ''}, ${formatUs(c.overlapUs)} of it (${pct(c.overlapShare)}) overlapped with compute kernels: ${formatUs(exposed)} exposed, ${pct(exposed / span)} of the GPU span. Items: communication kernels, share of the communication time`,
        items,
      },
      change: {
        kind: 'code',
        language: 'python',
        snippet: overlapCommunicationSnippet(wrapper),
        where: sourceLine(run, ['DistributedDataParallel.forward']) ?? (wrapper === 'fsdp' ? 'the FullyShardedDataParallel(...) wrapping of the model' : 'the DistributedDataParallel(...) wrapping of the model'),
      },
      estimate: {
        speedup: after.speedup,
        latencyMs: after.us / 1000,
        memoryBytes: null,
        sizeBytes: null,
        accuracyRisk: 'none',
        basis: `Upper bound: the exposed communication (${formatUs(c.commUs)} − ${formatUs(c.overlapUs)} overlapped = ${formatUs(exposed)}) hidden entirely behind compute kernels: GPU span ${formatUs(span)} → ${formatUs(span - exposed)}; the step time (${step.what}) ${run.steps.length > 0 ? 'shrinks in the same proportion' : 'loses the same time'}: ${times(after.speedup)}. The collectives themselves take as long as before.`,
      },
      warnings,
    });
  },
};

export const launchBoundRule: Rule = {
  id: 'launch-bound',
  family: 'trace',
  appliesTo: ['trace'],
  apply(ctx) {
    if (ctx.doc.kind !== 'trace') return { quiet: 'reads imported traces' };
    const run = ctx.doc.run;
    if (!run.gpu) return { quiet: 'the trace has no GPU activity' };
    const l = launchFacts(run);
    if (l.kernelCalls < MIN_KERNEL_LAUNCHES) return { quiet: `only ${l.kernelCalls} kernels ran: too few to tell launch overhead from start-up (the rule looks from ${MIN_KERNEL_LAUNCHES})` };
    if (l.meanKernelUs >= MAX_MEAN_KERNEL_US) return { quiet: `kernels run ${formatUs(l.meanKernelUs)} on average (the rule looks below ${formatUs(MAX_MEAN_KERNEL_US)})` };
    const busy = run.gpu.devices.reduce((s, d) => s + d.busyUs, 0);
    const ratio = l.launchUs / Math.max(busy, 1e-9);
    if (ratio < MIN_LAUNCH_TO_BUSY) return { quiet: `launch calls take ${formatUs(l.launchUs)} on the host against ${formatUs(busy)} of GPU busy time, ${pct(ratio)} (the rule looks from ${pct(MIN_LAUNCH_TO_BUSY)})` };
    const span = run.spanUs;
    // Launches gone, the step still takes at least the GPU's own busy time.
    const after = stepAfter(run, Math.min(l.launchUs, span - busy), span);
    const step = stepTime(run);
    const byCalls = run.kernels.filter((k) => k.category === 'compute').sort((a, b) => b.calls - a.calls).slice(0, 5);
    const launchers = byCalls.flatMap((k) => k.launchers.map((x) => x.opType));
    const training = trainingOp(run) !== undefined;
    return suggest(this, ctx, {
      title: `Launch fewer, larger kernels: ${l.kernelCalls} kernels average ${formatUs(l.meanKernelUs)}`,
      evidence: {
        summary: `${l.kernelCalls} kernels ran ${formatUs(l.meanKernelUs)} each on average; ${l.launchOps.map((o) => o.opType).join(', ')} took ${formatUs(l.launchUs)} of host time for ${l.launchCalls} launches (${formatUs(l.launchUs / Math.max(l.launchCalls, 1))} each), ${pct(ratio)} of the GPU's ${formatUs(busy)} busy time. Items: kernels launched most, share of all launches`,
        items: byCalls.map((k) => ({ what: `${k.name.replace(/\(.*$/, '')} (${formatUs(k.meanUs)} each)`, share: Math.min(1, k.calls / l.kernelCalls) })),
      },
      change: { kind: 'code', language: 'python', snippet: compileSnippet(training, compiledOp(run) !== undefined), where: sourceLine(run, launchers) ?? 'the model construction, before the loop' },
      estimate: {
        speedup: after.speedup,
        latencyMs: after.us / 1000,
        memoryBytes: null,
        sizeBytes: null,
        accuracyRisk: 'low',
        basis: `Upper bound: the launch calls' host time (${formatUs(l.launchUs)} of the ${formatUs(span)} trace) removed, as one CUDA-graph replay would, but the trace no shorter than the GPU's own busy time (${formatUs(busy)}); the step time (${step.what}) ${run.steps.length > 0 ? 'shrinks in the same proportion' : 'loses the same time'}: ${times(after.speedup)}. Fusion by torch.compile also cuts the kernels' own time, which this leaves out.`,
      },
      warnings: [
        'torch.compile compiles on the first calls (seconds to minutes) and again for new input shapes; CUDA graphs need static shapes and no host synchronization inside the captured step',
        'fused kernels round differently from the separate ones: outputs may differ in the last bits',
      ],
    });
  },
};

export const TRACE_GPU_TIME_RULES: Rule[] = [gpuIdleRule, exposedCommunicationRule, launchBoundRule];
