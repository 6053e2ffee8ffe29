/**
 * Runtime rules: settings of the ORT session, not the model — graph optimization level, intra-op
 * threads, batch size and execution provider. Threads and batch estimates use the dominant product
 * timed on this machine at the two settings (calibrate.ts); ops that were not timed are assumed not
 * to gain, so those estimates are lower bounds.
 */
import { inferenceFacts } from '../facts';
import { runThreads, TARGET_BATCH } from '../calibrate';
import { amdahl, pct, Rule, suggest, times } from './types';
import { formatBytes } from '../../util/format';

/** Element-wise ops that level `all` folds into fused kernels (GELU, LayerNorm, scaled MatMul). */
const FUSIBLE = new Set(['Erf', 'Div', 'Mul', 'Sub', 'Pow', 'Sqrt', 'ReduceMean', 'Tanh', 'Cast', 'Identity']);
/**
 * Of the fusible ops' time, what the fused kernels keep. On tiny-gpt (fixtures, 2 threads) Erf, Mul
 * and Div took 1.56 ms a run at `disabled`; at `all` BiasGelu replaced them and a bias Add for 0.57
 * ms of its own, so about a quarter to a third stays.
 */
export const FUSED_KEEP = 0.3;
/** Below this share of fusible time, raising the level is not worth a suggestion. */
export const MIN_FUSIBLE_SHARE = 0.02;

export const optLevelRule: Rule = {
  id: 'opt-level',
  family: 'runtime',
  appliesTo: ['inference'],
  apply(ctx) {
    if (ctx.doc.kind !== 'inference') return { quiet: 'reads inference runs' };
    const run = ctx.doc.run;
    if (run.config.optLevel === 'all') return { quiet: 'the run already used graph optimization level all' };
    const fusible = run.ops.filter((o) => FUSIBLE.has(o.opType));
    const f = fusible.reduce((s, o) => s + o.share, 0);
    if (f < MIN_FUSIBLE_SHARE) return { quiet: `at level ${run.config.optLevel} only ${pct(f)} of kernel time is in element-wise ops that level all fuses` };
    const speedup = amdahl([{ share: f, speedup: 1 / FUSED_KEEP }]);
    return suggest(this, ctx, {
      title: `Raise the graph optimization level from ${run.config.optLevel} to all`,
      evidence: { summary: `${pct(f)} of kernel time is in ${fusible.length} element-wise node(s) (${[...new Set(fusible.map((o) => o.opType))].join(', ')}) that level all folds into fused kernels`, items: fusible.sort((a, b) => b.share - a.share).slice(0, 5).map((o) => ({ what: o.node, share: o.share })) },
      change: { kind: 'config', patch: { optLevel: 'all' } },
      estimate: {
        speedup,
        latencyMs: run.latencyMs.p50 / speedup,
        memoryBytes: null,
        sizeBytes: run.model.sizeBytes,
        accuracyRisk: 'none',
        basis: `Amdahl: the fusible ops' ${pct(f)} of kernel time shrinks to ${pct(FUSED_KEEP)} of itself (what BiasGelu kept of Erf+Mul+Div on tiny-gpt, fixtures at disabled vs all); other fusions (MatMul+Transpose, constant folding) are not counted. Memory not estimated (fusion also drops intermediates).`,
      },
      warnings: ['per-op profiles at level all show fused nodes (BiasGelu, FusedMatMul) instead of the stored graph\'s nodes; profile at disabled again when you need the 1:1 mapping'],
    });
  },
};

export const threadsRule: Rule = {
  id: 'threads',
  family: 'runtime',
  appliesTo: ['inference'],
  apply(ctx) {
    if (ctx.doc.kind !== 'inference') return { quiet: 'reads inference runs' };
    const run = ctx.doc.run;
    const cores = ctx.env.cores;
    const used = runThreads(run, cores);
    if (run.config.executionProvider !== 'cpu') return { quiet: `intra-op threads drive CPU kernels; this run used ${run.config.executionProvider}` };
    if (used === cores) return { quiet: `the run used ${used} threads on ${cores} cores` };
    const f = inferenceFacts(run);
    const scaled = f.productShare + f.quadratic.filter((o) => /MatMul/.test(o.opType)).reduce((s, o) => s + o.share, 0) + f.convShare + f.fusedAttention.reduce((s, o) => s + o.share, 0);
    const ts = ctx.calibration?.threadScaling;
    const measured = ts && ts.threads[0] === used && ts.threads[1] === cores ? ts : null;
    const k = measured ? measured.us[0] / measured.us[1] : null;
    const speedup = k === null ? null : amdahl([{ share: scaled, speedup: k }]);
    const warnings: string[] = [];
    if (used > cores) warnings.push(`${used} threads on ${cores} cores oversubscribe them: ORT's threads spin while they wait, so extra threads steal time from working ones`);
    if (run.env.cpuCount !== cores) warnings.push(`the run was profiled on a machine with ${run.env.cpuCount} cores; this one has ${cores}`);
    if (k === null) warnings.push('speedup not estimated: the dominant product was not timed at both thread counts (run twb suggest without --no-calibrate)');
    warnings.push('threads count logical cores; with SMT (hyper-threading) ORT\'s own default of one thread per physical core can be faster');
    return suggest(this, ctx, {
      title: `Use ${cores} intra-op threads (the run used ${used})`,
      evidence: { summary: `${used} thread(s) on a ${cores}-core machine; ${pct(scaled)} of kernel time is in products and convolutions, which ORT splits across threads`, items: topItems(f.products) },
      change: { kind: 'config', patch: { threads: cores } },
      estimate: {
        speedup,
        latencyMs: speedup === null ? null : run.latencyMs.p50 / speedup,
        memoryBytes: null,
        sizeBytes: run.model.sizeBytes,
        accuracyRisk: 'none',
        basis:
          measured && k !== null
            ? `Amdahl: the products' and convolutions' ${pct(scaled)} of kernel time speeds up by k = ${times(k)}, the dominant product [${measured.input.join('×')}]·[…×${measured.n}] timed here at ${used} thread(s) (${(measured.us[0] / 1000).toFixed(2)} ms) and ${cores} (${(measured.us[1] / 1000).toFixed(2)} ms); the other ops are assumed not to scale, so this is a lower bound.`
            : 'Not estimated: no thread-scaling measurement for these thread counts.',
      },
      warnings,
    });
  },
};

function topItems(products: ReturnType<typeof inferenceFacts>['products']) {
  return [...products].sort((a, b) => b.share - a.share).slice(0, 5).map((p) => ({ what: p.op.node, share: Math.min(1, p.share) }));
}

export const batchRule: Rule = {
  id: 'batch-size',
  family: 'runtime',
  appliesTo: ['inference'],
  apply(ctx) {
    if (ctx.doc.kind !== 'inference') return { quiet: 'reads inference runs' };
    const run = ctx.doc.run;
    const batch = run.config.batch;
    if (batch >= TARGET_BATCH) return { quiet: `the run already used batch ${batch} (≥ ${TARGET_BATCH})` };
    // A batch dimension is a symbolic one named like a batch, or a symbolic first dimension of every input.
    const inputs = run.model.inputs;
    const named = inputs.some((i) => i.declared.some((d) => typeof d === 'string' && /batch/i.test(d)));
    const leading = inputs.length > 0 && inputs.every((i) => typeof i.declared[0] === 'string');
    if (!named && !leading) return { quiet: `no input has a symbolic batch dimension (${inputs.map((i) => `${i.name} [${i.declared.join(', ')}]`).join(', ') || 'no inputs recorded'}): the model takes no other batch` };
    const f = inferenceFacts(run);
    const bs = ctx.calibration?.batchScaling;
    const measured = bs && bs.batch === batch && bs.scaledBatch === TARGET_BATCH ? bs : null;
    const g = measured ? (measured.us * (TARGET_BATCH / batch)) / measured.scaledUs : null;
    const speedup = g === null ? null : amdahl([{ share: f.productShare, speedup: g }]);
    const grow = TARGET_BATCH / batch;
    const m = run.memory;
    const memory = m.unavailable ? null : m.weightsBytes + Math.max(0, m.peakBytes - m.weightsBytes) * grow;
    return suggest(this, ctx, {
      title: `Batch ${TARGET_BATCH} requests per run (the run used ${batch})`,
      evidence: { summary: `batch ${batch}: ${pct(f.productShare)} of kernel time is in products with constant weights, which reuse each weight across more rows at a larger batch`, items: topItems(f.products) },
      change: { kind: 'config', patch: { batch: TARGET_BATCH } },
      estimate: {
        speedup,
        latencyMs: speedup === null ? null : (run.latencyMs.p50 * grow) / speedup,
        memoryBytes: memory,
        sizeBytes: run.model.sizeBytes,
        accuracyRisk: 'none',
        basis:
          measured && g !== null
            ? `Throughput (samples per second), not latency: Amdahl with the products' ${pct(f.productShare)} gaining g = ${times(g)} per sample, the dominant product timed here at batch ${batch} (${(measured.us / 1000).toFixed(2)} ms) and ${TARGET_BATCH} (${(measured.scaledUs / 1000).toFixed(2)} ms); other ops assumed to cost the same per sample. Latency is of one batch of ${TARGET_BATCH}. Memory: activations (peak − weights, ${formatBytes(Math.max(0, m.peakBytes - m.weightsBytes))}) × ${grow}.`
            : `Throughput not estimated: the dominant product was not timed at batch ${TARGET_BATCH}. Memory: activations × ${grow}.`,
      },
      warnings: ['a throughput gain, not a latency one: each request waits for its batch to fill, and a batch takes longer than one request'],
    });
  },
};

export const providerRule: Rule = {
  id: 'execution-provider',
  family: 'runtime',
  appliesTo: ['inference'],
  apply(ctx) {
    if (ctx.doc.kind !== 'inference') return { quiet: 'reads inference runs' };
    const run = ctx.doc.run;
    const ep = run.config.executionProvider;
    const others = ctx.env.providers.filter((p) => p.name !== ep);
    const usable = others.filter((p) => p.available);
    if (usable.length === 0) {
      const why = others.map((p) => `${p.name} (${p.reason ?? 'unavailable'})`).join(', ');
      return { quiet: `no other execution provider works here${why ? `: ${why}` : ''}` };
    }
    const target = usable.find((p) => p.name === 'cuda') ?? usable[0];
    return suggest(this, ctx, {
      title: `Run on the ${target.name} execution provider`,
      evidence: { summary: `the run used ${ep}; ${usable.map((p) => p.name).join(', ')} open${usable.length === 1 ? 's' : ''} a session on this machine`, items: [] },
      change: { kind: 'config', patch: { executionProvider: target.name } },
      estimate: {
        speedup: null,
        latencyMs: null,
        memoryBytes: null,
        sizeBytes: run.model.sizeBytes,
        accuracyRisk: 'low',
        basis: `Not estimated: no ${target.name} kernels were timed; the command measures it.`,
      },
      warnings: ['GPU kernels round differently from the CPU\'s: outputs may differ in the last bits', 'small models can be slower on a GPU: launch and copy costs dominate tiny kernels'],
    });
  },
};

export const RUNTIME_RULES: Rule[] = [optLevelRule, threadsRule, batchRule, providerRule];
