/**
 * What `twb train` and `twb sweep` print: the status line while a job runs, then the tables of a
 * training run (headline, phases, op types by phase, layers, memory, mixed precision) or of a
 * variants comparison (side by side, then the sweep points).
 */
import { LearnedSpans, TRAIN_PHASES, TrainingRun, TrainOpStat, TrainPhase, VariantResult, VariantsReport } from '../schema/training';
import type { SweepProgress, TrainProgress } from '../train/request';
import { formatBytes, formatCount, formatPercent, formatUs, growthWord, textTable } from '../util/format';

const ms = (v: number) => `${v.toFixed(v < 10 ? 2 : 1)} ms`;

/** Seconds as `45s`, `3m 05s`, `1h 02m`. */
export function formatEta(msLeft: number): string {
  const s = Math.max(0, Math.round(msLeft / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** The status line of a training job: `train 120/400 · loss 0.4312 · acc 91.2% · ETA 1m 20s`. */
export function trainStatusLine(p: TrainProgress, etaMs?: number): string {
  if (p.phase !== 'train' && p.phase !== 'profile') return `${p.phase} · ${p.message}`;
  return [
    `${p.phase} ${p.step}/${p.steps}`,
    p.loss !== undefined ? `loss ${p.loss.toFixed(4)}` : '',
    p.accuracy !== undefined ? `acc ${formatPercent(p.accuracy)}` : '',
    etaMs !== undefined ? `ETA ${formatEta(etaMs)}` : '',
  ].filter(Boolean).join(' · ');
}

/** The status line of a sweep: `sweep 2/5 window:32 · seq 256`. */
export function sweepStatusLine(p: SweepProgress): string {
  return `sweep ${p.index + 1}/${p.count} ${p.variant} · ${p.message}`;
}

/** The tables `twb train` prints. */
export function formatTrainingRun(run: TrainingRun, top = 15): string {
  const c = run.config;
  const ran = run.backendAttempts.find((a) => a.ok);
  const skipped = run.backendAttempts.filter((a) => !a.ok).map((a) => `${a.name} (${a.reason})`);
  const lastLoss = run.loss.at(-1);
  const lines = [
    `Trained ${run.model} on ${c.task}${c.textFile ? ` (${c.textFile})` : ''} · attention ${run.variant.attention} · share-layers ${run.variant.shareLayers}${run.cancelled ? ' · CANCELLED' : ''}`,
    `spec     ${run.spec.layers} layers · hidden ${run.spec.hidden} · ${run.spec.heads} heads · ffn ${run.spec.ffn} · vocab ${run.spec.vocab}`,
    `config   ${c.steps} steps × batch ${c.batch} × seq ${c.seq} · AdamW lr ${c.lr} (warm-up ${c.warmupSteps}) · weight decay ${c.weightDecay} · clip ${c.clipNorm} · seed ${c.seed}`,
    `backend  ${run.backend}${ran ? `: ${ran.reason}` : ''}${c.backendRequested === 'auto' ? '' : ` (asked for ${c.backendRequested})`} · tfjs ${run.env.tfjsVersion}`,
    ...(skipped.length ? [`         not used: ${skipped.join('; ')}`] : []),
    `model    ${formatCount(run.params)} params · ${formatCount(run.flopsPerStep)}FLOP per step (counted: forward × 3)`,
    `speed    step p50 ${ms(run.stepMs.p50)} · p90 ${ms(run.stepMs.p90)} (${run.stepMs.samples.length} timed steps) · ${formatCount(Math.round(run.tokensPerSecond))} tokens/s`,
    `loss     ${run.loss.length ? `${run.loss[0].value.toFixed(4)} at step ${run.loss[0].step} → ${lastLoss!.value.toFixed(4)} at step ${lastLoss!.step}` : 'no step finished'}`,
    `accuracy ${accuracyLine(run)}`,
    ...(run.onnx ? [`onnx     ${run.onnx.path} · ORT vs tfjs logits max |Δ| ${run.onnx.maxAbsDiff.toExponential(2)}`] : []),
    ...(run.spans ? ['', ...spanLines(run.spans, 'Learned attention spans at the end of training')] : []),
    '',
    `Kernel time by phase over ${c.profiledSteps} profiled step(s)`,
    textTable(['phase', 'total', 'share'], run.phases.map((p) => [p.phase, formatUs(p.totalUs), formatPercent(p.share)]), [false, true, true]),
    '',
    'Top op types by phase',
    textTable(
      ['op type', 'phase', 'calls', 'total', 'share'],
      opTypesByPhase(run.ops).slice(0, top).map((o) => [o.opType, o.phase, String(o.calls), formatUs(o.totalUs), formatPercent(o.share)]),
      [false, false, true, true, true],
    ),
    '',
    'Kernel time per layer (- = embeddings, head and loss)',
    layerTable(run),
    '',
    `Memory in a profiled step (tfjs engine accounting)`,
    `  peak ${formatBytes(run.memory.peakBytes)} = weights ${formatBytes(run.memory.weightsBytes)} + optimizer state ${formatBytes(run.memory.optimizerBytes)} + activations, gradients and temporaries ${formatBytes(run.memory.activationsBytes)}`,
    '',
    ...precisionLines(run),
  ];
  if (run.cancelled) lines.push('', `Cancelled after ${lastLoss?.step ?? 0} of ${c.steps} steps: the curves and timings cover the steps done.`);
  if (run.warnings.length > 0) lines.push('', ...run.warnings.map((w) => `warning: ${w}`));
  return lines.join('\n');
}

function accuracyLine(run: TrainingRun): string {
  const last = run.accuracy.at(-1);
  if (!last) return `no evaluation ran (${run.accuracyMetric})`;
  const bar = run.accuracyBar === undefined ? '' : ` · bar ${formatPercent(run.accuracyBar)}: ${last.value >= run.accuracyBar ? 'reached' : 'not reached'}`;
  return `${formatPercent(last.value)} at step ${last.step}: ${run.accuracyMetric}${bar}`;
}

/** Op stats summed over layers: one row per (op type, phase), most time first. */
export function opTypesByPhase(ops: readonly TrainOpStat[]): Array<Omit<TrainOpStat, 'layer'>> {
  const rows = new Map<string, Omit<TrainOpStat, 'layer'>>();
  for (const o of ops) {
    const key = `${o.opType}\u0000${o.phase}`;
    const row = rows.get(key) ?? { opType: o.opType, phase: o.phase, calls: 0, totalUs: 0, share: 0 };
    row.calls += o.calls;
    row.totalUs += o.totalUs;
    row.share += o.share;
    rows.set(key, row);
  }
  return [...rows.values()].sort((a, b) => b.totalUs - a.totalUs);
}

/** Kernel time per layer and phase; layers in order, then the part outside the blocks. */
export function layerTimes(ops: readonly TrainOpStat[]): Array<{ layer: number | null; byPhase: Record<TrainPhase, number>; totalUs: number; share: number }> {
  const rows = new Map<number | null, { layer: number | null; byPhase: Record<TrainPhase, number>; totalUs: number; share: number }>();
  for (const o of ops) {
    const row = rows.get(o.layer) ?? { layer: o.layer, byPhase: { forward: 0, backward: 0, optimizer: 0 }, totalUs: 0, share: 0 };
    row.byPhase[o.phase] += o.totalUs;
    row.totalUs += o.totalUs;
    row.share += o.share;
    rows.set(o.layer, row);
  }
  return [...rows.values()].sort((a, b) => (a.layer ?? Infinity) - (b.layer ?? Infinity));
}

function layerTable(run: TrainingRun): string {
  return textTable(
    ['layer', ...TRAIN_PHASES, 'total', 'share'],
    // A phase with no kernels attributed to a layer (the optimizer runs outside the blocks) shows '-', not a measured 0.
    layerTimes(run.ops).map((r) => [r.layer === null ? '-' : String(r.layer), ...TRAIN_PHASES.map((p) => (r.byPhase[p] > 0 ? formatUs(r.byPhase[p]) : '-')), formatUs(r.totalUs), formatPercent(r.share)]),
    [true, true, true, true, true, true],
  );
}

function precisionLines(run: TrainingRun): string[] {
  const mp = run.mixedPrecision;
  const lines = [`Mixed precision: ran ${mp.ran}; ${mp.reason}`];
  if (mp.estimates.length > 0) {
    lines.push(
      textTable(
        ['precision', 'weights', 'optimizer', 'activations', 'peak'],
        [
          ['fp32 (measured)', formatBytes(run.memory.weightsBytes), formatBytes(run.memory.optimizerBytes), formatBytes(run.memory.activationsBytes), formatBytes(run.memory.peakBytes)],
          ...mp.estimates.map((e) => [`${e.dtype} (estimate)`, formatBytes(e.weightsBytes), formatBytes(e.optimizerBytes), formatBytes(e.activationsBytes), formatBytes(e.peakBytes)]),
        ],
        [false, true, true, true, true],
      ),
      'The fp16/bf16 rows are estimates (weights in that precision plus an fp32 master copy), not measurements.',
    );
  }
  return lines;
}

/** `12.5`, `64`: a span in positions, one decimal where it has one. */
const spanValue = (z: number) => (Number.isInteger(z) ? String(z) : z.toFixed(1));

/**
 * The spans an adaptive-span model learned, one line per weight-owning layer, each head's span
 * in positions: learned values (the model's, not settings), so the heading says so.
 */
export function spanLines(spans: LearnedSpans, heading: string): string[] {
  return [
    `${heading} (learned values, positions; largest ${spans.maxSpan}, fade-out ramp ${spans.ramp})`,
    ...spans.layers.map((l) => `  layer ${l.layer}: ${l.heads.map((z, h) => `head ${h} ${spanValue(z)}`).join(' · ')}`),
  ];
}

/** `2.03 quadratic`, `1.01 linear`; null (too few points) as `-`. */
export function formatGrowth(exponent: number | null): string {
  if (exponent === null) return '-';
  return `${exponent.toFixed(2)} ${growthWord(exponent)}`;
}

/** Numbered notes for failures: the same text gets the same number. */
function footnotes(): { ref: (text: string) => string; lines: () => string[] } {
  const notes: string[] = [];
  return {
    ref: (text) => {
      const i = notes.indexOf(text);
      return `✗ (${i >= 0 ? i + 1 : notes.push(text)})`;
    },
    lines: () => notes.map((n, i) => `(${i + 1}) ${n}`),
  };
}

/** The tables `twb sweep` prints. */
export function formatVariantsReport(r: VariantsReport): string {
  const c = r.config;
  const trained = c.task ? `accuracy after ${c.trainSteps} steps of ${c.task}` : 'no task trained (accuracy -)';
  const failed = footnotes();
  const lines = [
    `Variants of ${r.model} · batch ${c.batch} × seq ${c.seq} · backend ${r.backend} · ${trained}${r.cancelled ? ' · CANCELLED' : ''}`,
    `spec ${r.spec.layers} layers · hidden ${r.spec.hidden} · ${r.spec.heads} heads · ffn ${r.spec.ffn} · sweep over seq ${c.seqs.join(', ')}`,
    '',
    textTable(
      ['variant', 'params', 'FLOP/step', 'step', 'peak mem', 'tokens/s', 'accuracy', 'time growth', 'memory growth'],
      r.variants.map((v) =>
        v.error
          ? [v.label, v.params ? formatCount(v.params) : '-', failed.ref(`${v.label}: ${v.error}`), '', '', '', '', '', '']
          : [
              v.label,
              formatCount(v.params),
              formatCount(v.flopsPerStep),
              ms(v.stepMs),
              formatBytes(v.peakBytes),
              formatCount(Math.round(v.tokensPerSecond)),
              v.accuracy === null ? '-' : formatPercent(v.accuracy),
              formatGrowth(v.growth.time),
              formatGrowth(v.growth.memory),
            ],
      ),
      [false, true, true, true, true, true, true, false, false],
    ),
    ...failed.lines(),
    'growth: least-squares slope of log(time) and log(peak memory) over log(seq) across the sweep; ≈2 quadratic, ≈1 linear',
    '',
    'Sweep: step time and peak memory per sequence length',
    ...sweepTable(r.variants, c.seqs),
    ...r.variants.flatMap((v) => (v.spans ? ['', ...spanLines(v.spans, `${v.label}: spans learned in ${c.trainSteps} steps of ${c.task}`)] : [])),
  ];
  if (r.warnings.length > 0) lines.push('', ...r.warnings.map((w) => `warning: ${w}`));
  return lines.join('\n');
}

/** One row per variant, one column per length; a point that failed shows a note number, its reason below. */
function sweepTable(variants: readonly VariantResult[], seqs: readonly number[]): string[] {
  const failed = footnotes();
  const rows = variants.map((v) => [
    v.label,
    ...seqs.map((seq) => {
      const p = v.sweep.find((q) => q.seq === seq);
      if (!p) return '-';
      // A variant that could not be built failed at every length for the reason noted above.
      if (p.error !== undefined && p.error === v.error) return '✗ (above)';
      if (p.error !== undefined || p.stepMs === undefined) return failed.ref(`${v.label} at seq ${seq}: ${p.error ?? 'not measured'}`);
      return `${ms(p.stepMs)}, ${p.peakBytes !== undefined ? formatBytes(p.peakBytes) : '-'}`;
    }),
  ]);
  return [textTable(['variant', ...seqs.map(String)], rows, [false, ...seqs.map(() => true)]), ...failed.lines()];
}
