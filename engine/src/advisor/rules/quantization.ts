/**
 * Quantization rules: INT8 dynamic, INT8 static (QDQ), INT4 weight-only, fp16. Speed estimates are
 * Amdahl over the products the pass rewrites, each sped up by the kernel ratio measured on this
 * machine at its own shape (calibrate.ts); sizes count the weights' bytes before and after.
 */
import type { KernelCalibration, MatMulKernel } from '../../schema/advice';
import type { InferenceRun } from '../../schema/run';
import { describeShape, inferenceFacts, InferenceFacts, shapeKey, topItems, WeightProduct } from '../facts';
import { amdahl, pct, Rule, RuleContext, RuleOutcome, suggest, times } from './types';
import { formatBytes } from '../../util/format';

/** Below this share of kernel time in rewritable products, quantizing cannot pay for itself. */
export const MIN_PRODUCT_SHARE = 0.2;
/** Above this share of kernel time in Conv, INT8 dynamic is known to backfire. */
export const CONV_HEAVY_SHARE = 0.2;
/** INT4 is a size win: it needs this share of the model file in rewritable weights. */
export const MIN_INT4_WEIGHT_SHARE = 0.3;
/** MatMulNBits bytes per weight at block 32: 4-bit codes, one fp32 scale and one 4-bit zero point per block. */
export const INT4_BYTES_PER_WEIGHT = 0.5 + 4 / 32 + 0.5 / 32;
/** Measured by bench/quant.ts on this project's CPU (README "Benchmarks"). */
const FP16_CPU_SPEEDUP = 0.88;

type Form = 'int8DynamicUs' | 'int8StaticUs' | 'int4Us';

/** The measured kernel of a product: its own shape, else the nearest measured size (same bias first). */
function kernelOf(p: WeightProduct, cal: KernelCalibration, form: Form): { kernel: MatMulKernel; own: boolean } | undefined {
  const usable = cal.matmul.filter((k) => k[form] !== null && k[form]! > 0);
  const own = usable.find((k) => shapeKey(k.input, k.n, k.bias) === shapeKey(p.input, p.n, !!p.bias));
  if (own) return { kernel: own, own: true };
  const distance = (k: MatMulKernel) => Math.abs(Math.log((k.m * k.k * k.n) / (p.m * p.k * p.n))) + (k.bias === !!p.bias ? 0 : 10);
  const nearest = [...usable].sort((a, b) => distance(a) - distance(b))[0];
  return nearest ? { kernel: nearest, own: false } : undefined;
}

interface SpeedEstimate {
  speedup: number;
  basis: string;
  /** Measured kernels slower than fp32, as text. */
  slower: string[];
}

/** Amdahl over `products` with measured ratios; null when nothing of `form` was measured. */
function estimateSpeed(products: WeightProduct[], cal: KernelCalibration | null, form: Form, label: string, extra: Array<{ share: number; speedup: number }> = []): SpeedEstimate | null {
  if (!cal) return null;
  const parts: Array<{ share: number; speedup: number }> = [...extra];
  const used = new Map<MatMulKernel, number>();
  let borrowed = 0;
  for (const p of products) {
    const hit = kernelOf(p, cal, form);
    if (!hit) return null;
    if (!hit.own) borrowed++;
    used.set(hit.kernel, (used.get(hit.kernel) ?? 0) + 1);
    parts.push({ share: p.share, speedup: hit.kernel.fp32Us / hit.kernel[form]! });
  }
  const figures = [...used.keys()].map((k) => `${describeShape(k.input, k.k, k.n, k.bias)} ${(k.fp32Us / 1000).toFixed(2)} → ${(k[form]! / 1000).toFixed(2)} ms (${times(k.fp32Us / k[form]!)}, ${k.samples} runs each)`);
  const slower = [...used.keys()].filter((k) => k[form]! > k.fp32Us).map((k) => `${describeShape(k.input, k.k, k.n, k.bias)} ${times(k.fp32Us / k[form]!)}`);
  const basis =
    `Amdahl over the rewritten products: speedup = 1 / (1 − Σ sᵢ·(1 − 1/kᵢ)), s = share of kernel time (with the bias Add the quantized kernel absorbs), ` +
    `k = fp32 ÷ ${label} kernel time measured here (${cal.threads} thread${cal.threads === 1 ? '' : 's'}, opt ${cal.optLevel}, interleaved medians): ${figures.join('; ')}` +
    (borrowed > 0 ? `; ${borrowed} product(s) of other shapes take the nearest measured ratio` : '') +
    (extra.length > 0 ? '; fused Attention nodes counted at 1× (not measured)' : '') +
    '.';
  return { speedup: amdahl(parts), basis, slower };
}

function cpuOnly(run: InferenceRun): string | undefined {
  return run.config.executionProvider === 'cpu' ? undefined : `the int8/int4 kernels the passes emit are CPU kernels and were timed on the CPU provider; this run used ${run.config.executionProvider}`;
}

function notQuantizable(run: InferenceRun, f: InferenceFacts, share: number, what: string): string | undefined {
  if (f.quantized.length > 0) return `the model is already quantized: ${f.quantized.length} node(s) such as ${f.quantized[0].opType} ran`;
  const ep = cpuOnly(run);
  if (ep) return ep;
  if (share < MIN_PRODUCT_SHARE) {
    const conv = f.convShare >= CONV_HEAVY_SHARE ? `; ${pct(f.convShare)} is in Conv, which the passes do not rewrite` : '';
    return `only ${pct(share)} of kernel time is in ${what} (needs ≥ ${pct(MIN_PRODUCT_SHARE)})${conv}`;
  }
  return undefined;
}

/** Size and arena peak after `saved` weight bytes are gone (weights live in ORT's arena). */
function shrink(run: InferenceRun, saved: number): { sizeBytes: number; memoryBytes: number | null } {
  const memory = run.memory.unavailable || run.memory.peakBytes <= saved ? null : run.memory.peakBytes - saved;
  return { sizeBytes: Math.max(0, run.model.sizeBytes - saved), memoryBytes: memory };
}

function productEvidence(products: WeightProduct[], share: number, extra = '') {
  const biases = products.filter((p) => p.bias).length;
  return {
    summary: `${pct(share)} of kernel time is in ${products.length} product(s) with constant weights (MatMul/Gemm${biases > 0 ? `, with ${biases} bias Add(s) the int8 kernels absorb` : ''})${extra}`,
    items: topItems(products.map((p) => ({ node: p.op.node, share: p.share }))),
  };
}

function int8Rule(id: 'int8-dynamic' | 'int8-static'): Rule {
  const dynamic = id === 'int8-dynamic';
  const rule: Rule = {
    id,
    family: 'quantization',
    appliesTo: ['inference'],
    apply(ctx: RuleContext): RuleOutcome {
      if (ctx.doc.kind !== 'inference') return { quiet: 'reads inference runs' };
      const run = ctx.doc.run;
      const f = inferenceFacts(run);
      const share = f.productShare + f.fusedAttention.reduce((s, o) => s + o.share, 0);
      const why = notQuantizable(run, f, share, 'products with constant weights');
      if (why) return { quiet: why };
      const attention = f.fusedAttention.map((o) => ({ share: o.share, speedup: 1 }));
      const speed = estimateSpeed(f.products, ctx.calibration, dynamic ? 'int8DynamicUs' : 'int8StaticUs', dynamic ? 'int8-dynamic (DynamicQuantizeLinear → MatMulInteger, fused by ORT)' : 'int8-static (QDQ, fused by ORT)', attention);
      const weights = f.products.reduce((s, p) => s + p.weightBytes, 0) + f.embeddingBytes;
      const saved = Math.min(0.75 * weights, 0.9 * run.model.sizeBytes);
      const after = shrink(run, saved);
      const warnings: string[] = [];
      if (f.convShare >= CONV_HEAVY_SHARE) {
        warnings.push(`known to backfire on conv-heavy graphs: ${pct(f.convShare)} of kernel time is in Conv, which the pass leaves in fp32${dynamic ? ', while quantizing activations at run time adds DynamicQuantizeLinear work' : ''}; the estimate counts Conv at 1×`);
      }
      if (speed?.slower.length) warnings.push(`measured slower than fp32 here at ${speed.slower.join(', ')}: quantizing the activations costs more than the narrower product saves at these sizes`);
      if (!speed) warnings.push(`speedup not estimated: no ${dynamic ? 'int8-dynamic' : 'int8-static'} kernel was timed (run twb suggest without --no-calibrate)`);
      if (!dynamic) warnings.push('activation ranges are fixed by calibration data: pass --calibration FILE with real examples (without it twb calibrates on generated inputs, whose ranges may not match your data)');
      return suggest(rule, ctx, {
        title: dynamic ? 'Quantize weights to INT8, activations at run time (dynamic)' : 'Quantize to INT8 with calibrated activation ranges (static QDQ)',
        evidence: productEvidence(f.products, share, f.fusedAttention.length ? ` and ${f.fusedAttention.length} fused Attention node(s)` : ''),
        change: { kind: 'pass', config: dynamic ? { mode: 'int8-dynamic' } : { mode: 'int8-static', calibrate: 'minmax' } },
        estimate: {
          speedup: speed?.speedup ?? null,
          latencyMs: speed ? run.latencyMs.p50 / speed.speedup : null,
          ...after,
          accuracyRisk: dynamic ? 'low' : 'medium',
          basis: `${speed?.basis ?? 'Speed not estimated (no kernel calibration).'} Size: ${formatBytes(weights)} of fp32 weights (products K·N·4${f.embeddingBytes ? ' and embedding tables' : ''}) → 1 byte per weight. Memory: ORT's arena holds the weights, so its peak drops by the same ${formatBytes(saved)}.`,
        },
        warnings,
      });
    },
  };
  return rule;
}

export const int8DynamicRule = int8Rule('int8-dynamic');
export const int8StaticRule = int8Rule('int8-static');

export const int4WeightRule: Rule = {
  id: 'int4-weight',
  family: 'quantization',
  appliesTo: ['inference'],
  apply(ctx) {
    if (ctx.doc.kind !== 'inference') return { quiet: 'reads inference runs' };
    const run = ctx.doc.run;
    const f = inferenceFacts(run);
    const products = f.products.filter((p) => p.k >= 16);
    const why = notQuantizable(run, f, products.reduce((s, p) => s + p.share, 0), 'products with constant weights and K ≥ 16');
    if (why) return { quiet: why };
    const weights = products.reduce((s, p) => s + p.weightBytes, 0);
    if (weights < MIN_INT4_WEIGHT_SHARE * run.model.sizeBytes) {
      return { quiet: `INT4 is a size win and only ${formatBytes(weights)} of the ${formatBytes(run.model.sizeBytes)} model is in weights it rewrites (needs ≥ ${pct(MIN_INT4_WEIGHT_SHARE)})` };
    }
    const speed = estimateSpeed(products, ctx.calibration, 'int4Us', 'int4 (MatMulNBits, 4-bit, block 32)');
    const saved = weights * (1 - INT4_BYTES_PER_WEIGHT / 4);
    const warnings = ['a size and memory win, not integer arithmetic: activations stay fp32 and MatMulNBits unpacks the weights as it goes'];
    if (speed?.slower.length) warnings.push(`measured slower than fp32 here at ${speed.slower.join(', ')} (README: 0.88× on tiny-gpt)`);
    if (!speed) warnings.push('speedup not estimated: no MatMulNBits kernel was timed (run twb suggest without --no-calibrate)');
    return suggest(this, ctx, {
      title: 'Store weights in 4 bits (INT4 weight-only, MatMulNBits)',
      evidence: { summary: `${formatBytes(weights)} of the ${formatBytes(run.model.sizeBytes)} model is in ${products.length} product weights with K ≥ 16 (${pct(weights / run.model.sizeBytes)})`, items: topItems(products.map((p) => ({ node: p.op.node, share: p.share }))) },
      change: { kind: 'pass', config: { mode: 'int4-weight', method: 'rtn', blockSize: 32 } },
      estimate: {
        speedup: speed?.speedup ?? null,
        latencyMs: speed ? run.latencyMs.p50 / speed.speedup : null,
        ...shrink(run, saved),
        accuracyRisk: 'medium',
        basis: `${speed?.basis ?? 'Speed not estimated (no kernel calibration).'} Size: each fp32 weight (4 bytes) → ${INT4_BYTES_PER_WEIGHT.toFixed(3)} bytes (4-bit code, fp32 scale and 4-bit zero point per block of 32); embedding tables stay fp32. Memory: the arena peak drops by the same ${formatBytes(saved)}.`,
      },
      warnings,
    });
  },
};

const GPU_PROVIDERS = new Set(['cuda', 'webgpu']);

export const fp16Rule: Rule = {
  id: 'fp16',
  family: 'quantization',
  appliesTo: ['inference'],
  apply(ctx) {
    if (ctx.doc.kind !== 'inference') return { quiet: 'reads inference runs' };
    const run = ctx.doc.run;
    const ep = run.config.executionProvider;
    if (!GPU_PROVIDERS.has(ep)) {
      return { quiet: `fp16 backfires on the ${ep} provider: it casts back to fp32 around most ops (measured ${FP16_CPU_SPEEDUP}× on tiny-bert b8, README "Benchmarks"); INT8 gives the size win there` };
    }
    const f = inferenceFacts(run);
    if (f.quantized.length > 0) return { quiet: `the model is already quantized: ${f.quantized.length} node(s) such as ${f.quantized[0].opType} ran` };
    const floats = Math.min(run.memory.weightsBytes || run.model.sizeBytes, run.model.sizeBytes);
    const saved = floats / 2;
    return suggest(this, ctx, {
      title: `Run in fp16 on ${ep}`,
      evidence: { summary: `the run used the ${ep} provider, whose fp16 kernels halve the bytes moved; ${formatBytes(floats)} of weights are fp32`, items: topItems(f.products.map((p) => ({ node: p.op.node, share: p.share }))) },
      change: { kind: 'pass', config: { mode: 'fp16' } },
      estimate: {
        speedup: null,
        latencyMs: null,
        ...shrink(run, saved),
        accuracyRisk: 'low',
        basis: `Size and memory: fp32 weights (${formatBytes(floats)}) → 2 bytes each. Speed is not estimated: no ${ep} kernels were calibrated (calibration times CPU kernels).`,
      },
      warnings: ['fp16 overflows above 65504: keep LayerNorm/softmax-heavy nodes in fp32 with --exclude if the output drifts'],
    });
  },
};

export const QUANTIZATION_RULES: Rule[] = [int8DynamicRule, int8StaticRule, int4WeightRule, fp16Rule];
