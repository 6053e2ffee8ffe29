/** How training runs and variant comparisons are named, and the verdicts their headlines show. */
import type { TrainingRun, VariantInfo, VariantsReport } from '../../../engine/src/schema/training';
import { formatPercent } from '../../../engine/src/util/format';

/** `dense`, `window:32 · share all`: the structural options as the user wrote them. */
export function variantLabel(v: VariantInfo): string {
  return v.shareLayers && v.shareLayers !== 'none' ? `${v.attention} · share ${v.shareLayers}` : v.attention;
}

/** `tiny-bert` for `builtin:tiny-bert`. */
export const shortModel = (model: string): string => model.replace(/^builtin:/, '');

/** What the run trained on: the task, or the text file of a character-level LM. */
export function taskLabel(run: TrainingRun): string {
  return run.config.task === 'char-lm' && run.config.textFile ? `char-lm on ${run.config.textFile}` : run.config.task;
}

/** `#2 tiny-bert · window:32 · count-compare · 200 steps — 96.3%` */
export function trainingPickerLabel(run: TrainingRun, index: number): string {
  const last = run.accuracy[run.accuracy.length - 1];
  return `#${index + 1} ${shortModel(run.model)} · ${variantLabel(run.variant)} · ${taskLabel(run)} · ${run.config.steps} steps${run.cancelled ? ' (cancelled)' : ''}${last ? ` — ${formatPercent(last.value)}` : ''}`;
}

/** `#1 tiny-bert · 5 variants · seq 64–1024` */
export function variantsPickerLabel(report: VariantsReport, index: number): string {
  const seqs = report.config.seqs;
  const range = seqs.length ? ` · seq ${Math.min(...seqs)}–${Math.max(...seqs)}` : '';
  return `#${index + 1} ${shortModel(report.model)} · ${report.variants.length} variant${report.variants.length === 1 ? '' : 's'}${range}${report.cancelled ? ' (cancelled)' : ''}`;
}

/** Why the backend that ran was chosen, from the attempts `auto` made (or the request). */
export function backendReason(run: Pick<TrainingRun, 'backend' | 'backendAttempts'>): string {
  const used = run.backendAttempts.find((a) => a.ok && a.name === run.backend);
  const skipped = run.backendAttempts.filter((a) => !a.ok).map((a) => a.name);
  const reason = used?.reason ?? 'requested';
  return skipped.length ? `${reason}; not available: ${skipped.join(', ')}` : reason;
}

export interface AccuracyVerdict {
  /** The last held-out accuracy, if any was measured. */
  final?: number;
  bar?: number;
  /** Whether `final` reaches `bar`; undefined without both. */
  pass?: boolean;
}

export function accuracyVerdict(run: Pick<TrainingRun, 'accuracy' | 'accuracyBar'>): AccuracyVerdict {
  const final = run.accuracy[run.accuracy.length - 1]?.value;
  const bar = run.accuracyBar;
  return { final, bar, pass: final !== undefined && bar !== undefined ? final >= bar : undefined };
}

/** `5.34 GFLOP`, `812 MFLOP`: counted operations with their unit. */
export function flopLabel(flops: number): string {
  const units: Array<[number, string]> = [
    [1e12, 'TFLOP'],
    [1e9, 'GFLOP'],
    [1e6, 'MFLOP'],
    [1e3, 'kFLOP'],
  ];
  const [div, unit] = units.find(([d]) => flops >= d) ?? [1, 'FLOP'];
  return `${(flops / div).toFixed(flops / div >= 100 ? 0 : 2)} ${unit}`;
}

/** The ONNX export check passes when ORT's logits are within this of tfjs's (max abs difference). */
export const ONNX_TOLERANCE = 1e-4;
