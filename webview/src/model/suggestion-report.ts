/**
 * The Suggestions view's headline as data: which run the report was made for, its baseline figures,
 * and when and how the kernels the estimates rest on were timed. Pure.
 */
import type { KernelCalibration, SuggestionsReport } from '../../../engine/src/schema/advice';
import type { InferenceRun } from '../../../engine/src/schema/run';
import { formatBytes } from '../../../engine/src/util/format';
import { formatMs, formatTimes, latencyLabel } from './suggestion-card';
import { localTime } from './run-label';

const KIND_WORD: Record<SuggestionsReport['source']['kind'], string> = { inference: 'inference run', training: 'training run', pipeline: 'pipeline plan', 'memory-plan': 'memory plan', trace: 'imported trace' };

export const shortModel = (m: string): string => m.replace(/^builtin:/, '');

/** `1. tiny-bert · inference run · 5 suggestions · 2026-11-29 12:40`. */
export function suggestionsPickerLabel(r: SuggestionsReport, index: number): string {
  return `${index + 1}. ${shortModel(r.source.model)} · ${KIND_WORD[r.source.kind]} · ${r.suggestions.length} suggestion${r.suggestions.length === 1 ? '' : 's'} · ${localTime(r.createdAt)}`;
}

/** The run a report was made for, in words: `inference run 20261129T…`. */
export const sourceText = (r: SuggestionsReport): string => `${KIND_WORD[r.source.kind]} ${r.source.id}`;

/**
 * The configuration line: from the run itself when the panel holds it, else what the calibration
 * recorded (the report does not carry the run's configuration).
 */
export function configText(r: SuggestionsReport, run: InferenceRun | undefined): string {
  if (run) {
    const c = run.config;
    return `${run.env.executionProvider || c.executionProvider} · ${c.threads} thread${c.threads === 1 ? '' : 's'} · opt ${c.optLevel} · batch ${c.batch} × seq ${c.seq}${c.past ? ` · past ${c.past}` : ''}`;
  }
  const k = r.calibration;
  if (k) return `${k.threads} thread${k.threads === 1 ? '' : 's'} · opt ${k.optLevel}${k.matmul[0] ? ` · input [${k.matmul[0].input.join('×')}]` : ''}`;
  return 'configuration not in the report';
}

/** The baseline figures as label/value pairs; `—` where the source has none. */
export function baselineFacts(r: SuggestionsReport): Array<{ key: string; label: string; value: string }> {
  const b = r.baseline;
  return [
    { key: 'latency', label: latencyLabel(r.source.kind), value: b.latencyMs === null ? '—' : formatMs(b.latencyMs) },
    { key: 'memory', label: 'peak memory', value: b.memoryBytes === null ? '—' : formatBytes(Math.round(b.memoryBytes)) },
    { key: 'size', label: 'model size', value: b.sizeBytes === null ? '—' : formatBytes(Math.round(b.sizeBytes)) },
  ];
}

/** One timed product shape: its fp32 ÷ quantized ratios (`—` where a form was not timed). */
export interface KernelRow {
  shape: string;
  share: number;
  int8: string;
  int8Static: string;
  int4: string;
}

export interface CalibrationSummary {
  /** `Kernels timed on this machine 2026-11-29 12:40 in 4.6 s: 2 threads, opt all, ORT 1.30.0, cpu …`. */
  when: string;
  kernels: KernelRow[];
  /** Thread and batch scaling, when measured: `threads 2 → 4: 1.31×`. */
  scaling: string[];
}

const ratio = (a: number, b: number | null) => (b ? formatTimes(a / b) : '—');

/** What the calibration measured, or null when the kernels were not timed. */
export function calibrationSummary(c: KernelCalibration | null): CalibrationSummary | null {
  if (!c) return null;
  const when = `Kernels timed on this machine ${localTime(c.createdAt)} in ${(c.elapsedMs / 1000).toFixed(1)} s: ${c.threads} thread${c.threads === 1 ? '' : 's'} of ${c.cores} cores, opt ${c.optLevel}, ONNX Runtime ${c.ortVersion} (${c.executionProvider}), ${c.cpu}.`;
  const kernels = c.matmul.map((k) => ({ shape: `[${k.input.join('×')}]·[${k.k}×${k.n}]${k.bias ? '+bias' : ''}`, share: k.share, int8: ratio(k.fp32Us, k.int8DynamicUs), int8Static: ratio(k.fp32Us, k.int8StaticUs), int4: ratio(k.fp32Us, k.int4Us) }));
  const scaling: string[] = [];
  if (c.threadScaling) scaling.push(`threads ${c.threadScaling.threads[0]} → ${c.threadScaling.threads[1]}: ${ratio(c.threadScaling.us[0], c.threadScaling.us[1])} on the dominant product`);
  if (c.batchScaling) {
    const b = c.batchScaling;
    scaling.push(`batch ${b.batch} → ${b.scaledBatch}: ${ratio((b.us * b.scaledBatch) / b.batch, b.scaledUs)} per sample on the dominant product`);
  }
  return { when, kernels, scaling };
}

/** Said where a report has no calibration. */
export const NOT_TIMED = 'The kernels were not timed for this report: speed estimates that need measured kernels are left out.';

/** The report of the run `runId`, newest first, if the panel holds one. */
export function reportForRun(reports: readonly SuggestionsReport[], runId: string): SuggestionsReport | undefined {
  for (let i = reports.length - 1; i >= 0; i--) if (reports[i].source.id === runId) return reports[i];
  return undefined;
}
