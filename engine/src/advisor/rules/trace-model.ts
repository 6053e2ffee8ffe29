/**
 * Rules for an imported trace about the model's numbers and memory: fp32 products and
 * convolutions on a GPU with tensor cores (autocast), a memory peak near the device's capacity
 * (checkpointing, smaller micro-batches, sharding), and linear layers dominating a CPU inference
 * trace (dynamic int8 quantization). Shares and bytes come from the trace; a speed figure is given
 * only where something measured backs it, otherwise the bound is stated in the basis.
 */
import { formatBytes, formatUs } from '../../util/format';
import { gpuCapability, linearFacts, memoryFloor, memoryPressure, precisionFacts, sourceLine, stepAfter, stepTime, trainingOp } from '../trace-facts';
import { autocastSnippet, memorySnippet, quantizeDynamicSnippet } from '../trace-snippets';
import { amdahl, pct, Rule, suggest, times } from './types';

/** Below this share of GPU kernel time in fp32 products and convolutions, autocast is not worth suggesting. */
export const MIN_FP32_SHARE = 0.2;
/** Memory peak over device capacity from which the device is near its limit. */
export const MEMORY_NEAR_LIMIT = 0.85;
/** Below this share of host time in linear layers, int8 cannot pay for itself. */
export const MIN_LINEAR_SHARE = 0.2;

const shortKernel = (name: string) => name.replace(/^void /, '').replace(/\(.*$/, '').slice(0, 120);

export const fp32GemmRule: Rule = {
  id: 'fp32-gemm',
  family: 'trace',
  appliesTo: ['trace'],
  apply(ctx) {
    if (ctx.doc.kind !== 'trace') return { quiet: 'reads imported traces' };
    const run = ctx.doc.run;
    if (!run.gpu) return { quiet: 'the trace has no GPU activity' };
    const p = precisionFacts(run);
    if (p.computeUs <= 0) return { quiet: 'no compute kernels ran' };
    const b = p.byPrecision;
    const share = b.fp32.us / p.computeUs;
    const others = [b.tf32.us > 0 ? `${pct(b.tf32.us / p.computeUs)} in TF32 on tensor cores` : '', b.half.us > 0 ? `${pct(b.half.us / p.computeUs)} in fp16/bf16/int8` : ''].filter(Boolean).join(', ');
    if (share < MIN_FP32_SHARE) return { quiet: `${pct(share)} of GPU kernel time is in fp32 products and convolutions${others ? ` (${others})` : ''}; the rule looks from ${pct(MIN_FP32_SHARE)}` };
    const cap = gpuCapability(run);
    if (cap?.major !== null && cap?.major !== undefined && cap.major < 7) return { quiet: `${cap.name} (compute capability ${cap.capability}) has no tensor cores: fp16/bf16 products gain little there` };
    // bf16 needs compute capability 8.0 (Ampere); Volta and Turing have fp16 tensor cores only.
    const dtype = cap?.major !== null && cap?.major !== undefined && cap.major < 8 ? 'float16' : 'bfloat16';
    const training = trainingOp(run);
    const span = run.gpu.devices.reduce((s, d) => s + d.spanUs, 0) || run.gpu.spanUs;
    const bound = stepAfter(run, b.fp32.us, span);
    const step = stepTime(run);
    const top = b.fp32.kernels.slice(0, 6);
    const warnings = [
      `check accuracy: compare the ${training ? 'loss curve and eval metric over a few hundred steps' : 'outputs on a held-out set'} against fp32 before keeping it`,
    ];
    if (training && dtype === 'float16') warnings.push('fp16 training needs loss scaling (GradScaler, in the snippet): small gradients underflow to zero without it');
    if (cap === null || cap.major === null) warnings.push('the trace does not give the GPU\'s compute capability: bfloat16 needs an Ampere (8.0) or newer GPU, use float16 before that');
    if (dtype === 'bfloat16') warnings.push('on Ampere and newer, torch.backends.cuda.matmul.allow_tf32 = True moves fp32 matmuls to TF32 tensor cores with no other change (cuDNN convolutions use TF32 by default)');
    if (top.some((k) => /conv|scudnn|wgrad|dgrad/i.test(k.name))) warnings.push('convolutions run fastest on tensor cores in channels_last: model = model.to(memory_format=torch.channels_last)');
    return suggest(this, ctx, {
      title: `Run products and convolutions in ${dtype === 'bfloat16' ? 'bf16' : 'fp16'} with autocast: ${pct(share)} of GPU time is fp32`,
      evidence: {
        summary: `${formatUs(b.fp32.us)} of the ${formatUs(p.computeUs)} of compute-kernel time (${pct(share)}) is in ${b.fp32.kernels.length} fp32 product/convolution kernels (sgemm, scudnn, <float> templates)${others ? `; ${others}` : ''}; ${cap ? `${cap.name}${cap.capability ? ` (compute capability ${cap.capability})` : ''}` : 'GPU not named'}. Items: share of GPU kernel time`,
        items: top.map((k) => ({ what: `${shortKernel(k.name)}${k.launchers[0] ? ` ← ${k.launchers[0].opType}` : ''}`, share: Math.min(1, k.totalUs / p.computeUs) })),
      },
      change: {
        kind: 'code',
        language: 'python',
        snippet: autocastSnippet(dtype, training !== undefined),
        where: sourceLine(run, top.flatMap((k) => k.launchers.map((l) => l.opType))) ?? (training ? 'the forward pass and loss of the training step' : 'the model call'),
      },
      estimate: {
        speedup: null,
        latencyMs: null,
        memoryBytes: null,
        sizeBytes: null,
        accuracyRisk: training ? 'medium' : 'low',
        basis: `Not estimated: the gain depends on each kernel's shape and on how memory-bound it is, which the trace does not say. Upper bound (Amdahl, the fp32 kernels made free): GPU span ${formatUs(span)} → ${formatUs(Math.max(0, span - b.fp32.us))}, the step (${step.what}) ${formatUs(step.us)} → ${formatUs(bound.us)}, ${times(bound.speedup)}. Activations stored for backward also halve in size (not estimated).`,
      },
      warnings,
    });
  },
};

export const memoryLimitRule: Rule = {
  id: 'memory-limit',
  family: 'trace',
  appliesTo: ['trace'],
  apply(ctx) {
    if (ctx.doc.kind !== 'trace') return { quiet: 'reads imported traces' };
    const run = ctx.doc.run;
    if (!run.memory) return { quiet: 'the trace has no memory events (record with profile_memory=True)' };
    const top = memoryPressure(run)[0];
    if (!top) return { quiet: `the trace gives no capacity for the devices with memory events (${run.memory.devices.map((d) => d.device).join(', ')})` };
    if (top.share < MEMORY_NEAR_LIMIT) return { quiet: `the peak of ${formatBytes(top.peakBytes)} on ${top.device} is ${pct(top.share)} of its ${formatBytes(top.totalBytes)} (the rule looks from ${pct(MEMORY_NEAR_LIMIT)})` };
    const training = trainingOp(run) !== undefined;
    const floor = run.memory.device === top.device ? memoryFloor(run) : null;
    const held = floor ?? 0;
    const estimate = held + (top.peakBytes - held) / 2;
    const warnings = [
      'the peak counts allocated bytes; the caching allocator reserves more (fragmentation), so out-of-memory comes before 100%',
      training ? 'activation checkpointing recomputes the checkpointed blocks in backward: the step gets slower (not estimated)' : 'smaller batches lower throughput per request on a GPU (not estimated)',
    ];
    if (floor === null) warnings.push(`no memory timeline for ${top.device}: the estimate assumes nothing stays allocated between steps`);
    return suggest(this, ctx, {
      title: `Make room on ${top.device}: the memory peak is ${pct(top.share)} of the device`,
      evidence: {
        summary: `peak ${formatBytes(top.peakBytes)} allocated on ${top.device} (${top.name}, ${formatBytes(top.totalBytes)})${run.memory.device === top.device ? ` at ${formatUs(run.memory.peakAtUs)}` : ''}${floor !== null ? `; the lowest point from the first step on is ${formatBytes(floor)}` : ''}. Items: share of the device's memory`,
        items: [{ what: `${top.device} peak`, share: Math.min(1, top.share) }, ...(floor !== null ? [{ what: `${top.device} lowest point (held between steps)`, share: Math.min(1, floor / top.totalBytes) }] : [])],
      },
      change: { kind: 'code', language: 'python', snippet: memorySnippet(training), where: training ? 'the model\'s forward and the training loop' : 'the model loading and call' },
      estimate: {
        speedup: null,
        latencyMs: null,
        memoryBytes: estimate,
        sizeBytes: null,
        accuracyRisk: 'none',
        basis: `Half the micro-batch (or checkpointing that keeps about half the activations): what is allocated above the trace's lowest point (${formatBytes(held)}: weights, gradients, optimizer state) is taken to scale with the batch, so the peak ${formatBytes(top.peakBytes)} → ${formatBytes(held)} + ${formatBytes(top.peakBytes - held)} / 2 = ${formatBytes(estimate)}. The lowest point comes from a timeline that keeps each bucket's maximum, so it is at or above the true one. Speed not estimated.`,
      },
      warnings,
    });
  },
};

export const quantizeDynamicTraceRule: Rule = {
  id: 'torch-int8-dynamic',
  family: 'trace',
  appliesTo: ['trace'],
  apply(ctx) {
    if (ctx.doc.kind !== 'trace') return { quiet: 'reads imported traces' };
    const run = ctx.doc.run;
    if (run.gpu) return { quiet: 'the trace has GPU activity: PyTorch\'s dynamic int8 quantization runs on the CPU' };
    if (run.source.format === 'ort') return { quiet: 'an ONNX Runtime profile: profile the model with twb profile and run twb suggest on that run for the int8 passes' };
    const training = trainingOp(run);
    if (training) return { quiet: `the trace records training (${training}): dynamic quantization is for inference; record the trained model's inference to judge it` };
    const f = linearFacts(run);
    if (f.linearShare < MIN_LINEAR_SHARE) return { quiet: `${pct(f.linearShare)} of host time is in linear layers (aten::addmm, mm, linear; the rule looks from ${pct(MIN_LINEAR_SHARE)})` };
    const cal = ctx.calibration && ctx.calibration.runId === run.id ? ctx.calibration : null;
    const k = cal?.matmul[0];
    const ratio = k && k.int8DynamicUs > 0 ? k.fp32Us / k.int8DynamicUs : null;
    const speedup = ratio === null ? null : amdahl([{ share: f.linearShare, speedup: ratio }]);
    const step = stepTime(run);
    const warnings = [
      'the trace was recorded on another machine: its CPU (cores, AVX-512/VNNI or not) decides the int8 gain there',
      'quantize_dynamic swaps only nn.Linear (and RNN) modules; products written as torch.matmul or F.linear on raw tensors stay fp32',
    ];
    if (f.activationShare > 0) warnings.push(`products of two activations (bmm, attention: ${pct(f.activationShare)} of host time) stay fp32`);
    if (ratio === null) warnings.push('speed not estimated: no int8 kernel was timed on this machine (run twb suggest without --no-calibrate)');
    return suggest(this, ctx, {
      title: `Quantize the linear layers to int8 (torch quantize_dynamic): ${pct(f.linearShare)} of host time`,
      evidence: {
        summary: `a CPU trace: ${pct(f.linearShare)} of host self time is in linear-layer products (${f.linear.map((o) => o.opType).join(', ')})${f.activationShare > 0 ? `, ${pct(f.activationShare)} in products of two activations` : ''}. Items: share of host self time`,
        items: [...f.linear, ...f.activation].sort((a, b) => b.selfShare - a.selfShare).slice(0, 6).map((o) => ({ what: `${o.opType} ×${o.calls}${f.activation.includes(o) ? ' (stays fp32)' : ''}`, share: Math.min(1, o.selfShare) })),
      },
      change: { kind: 'code', language: 'python', snippet: quantizeDynamicSnippet(), where: sourceLine(run, ['aten::linear', 'aten::addmm', 'aten::mm']) ?? 'the model loading, before inference' },
      estimate: {
        speedup,
        latencyMs: speedup === null ? null : step.us / 1000 / speedup,
        memoryBytes: null,
        sizeBytes: null,
        accuracyRisk: 'medium',
        basis:
          k && ratio !== null && speedup !== null
            ? `Amdahl: the linear layers' ${pct(f.linearShare)} of host time speeds up by ${times(ratio)}, ONNX Runtime's fp32 MatMul against its int8-dynamic form timed on this machine at [${k.input.join('×')}]·[${k.k}×${k.n}]${k.bias ? '+bias' : ''} (${(k.fp32Us / 1000).toFixed(2)} → ${(k.int8DynamicUs / 1000).toFixed(2)} ms, ${cal!.threads} threads) — a stand-in: the trace records no shapes and PyTorch's int8 kernels (fbgemm/onednn) are not ONNX Runtime's. ${times(speedup)} on the step (${step.what}).`
            : `Not estimated: no int8 kernel was timed on this machine. The linear layers are ${pct(f.linearShare)} of host time, so even free they would give at most ${times(1 / Math.max(1 - f.linearShare, 1e-9))}.`,
      },
      warnings,
    });
  },
};

export const TRACE_MODEL_RULES: Rule[] = [fp32GemmRule, memoryLimitRule, quantizeDynamicTraceRule];
