/**
 * What a suggestion card shows, as data: the estimate's figures (before → after), the measured
 * figures beside them once the suggestion was applied with how far off the estimate was, the
 * accuracy a graph pass kept, and whether this page may apply the change at all. Pure: the view
 * only lays these out, and the tests check the numbers here.
 */
import type { AccuracyRisk, AdviceBaseline, Change, Estimate, Suggestion, SuggestionsReport } from '../../../engine/src/schema/advice';
import type { ApplyResult, Measured } from '../../../engine/src/schema/apply';
import { formatBytes, formatPercent } from '../../../engine/src/util/format';
import type { SessionMode } from '../../../engine/src/protocol/webview';

export type FigureKey = 'speedup' | 'latencyMs' | 'sizeBytes' | 'memoryBytes';

/** One figure of a card: the run's value, the estimate and (once applied) the measurement. */
export interface FigureRow {
  key: FigureKey;
  label: string;
  /** The run's own value (the suggestions report's baseline); null for the speedup, which is a ratio. */
  before: string | null;
  estimated: string;
  /** Present once the suggestion was applied. */
  measured?: string;
  /** measured ÷ estimated − 1, as the apply result gives it; null where either side is missing. */
  error?: number | null;
  /** `off by +6.4%`, or `—` where there is nothing to compare. */
  offBy?: string;
}

const DASH = '—';
/** `318 ms`, `27.1 ms`, `4.62 ms`: as many digits as the CLI prints. */
export const formatMs = (x: number): string => `${x.toFixed(x >= 100 ? 0 : x >= 10 ? 1 : 2)} ms`;
export const formatTimes = (x: number): string => `${x.toFixed(2)}×`;
const bytes = (x: number) => formatBytes(Math.round(x));

/** `+6.4%` / `−4.7%` (a real minus sign), or `—`. */
export function signedPercent(error: number | null): string {
  if (error === null || !Number.isFinite(error)) return DASH;
  const pct = (Math.abs(error) * 100).toFixed(1);
  return pct === '0.0' ? '±0.0%' : `${error > 0 ? '+' : '−'}${pct}%`;
}

/** `off by +6.4%`, or `—` where there is nothing to compare. */
export function offByText(error: number | null): string {
  return error === null || !Number.isFinite(error) ? DASH : `off by ${signedPercent(error)}`;
}

/** The speedup in words: `1.34× faster`, `same speed`, `0.88× (slower)`, `speed not estimated`. */
export function speedupWords(speedup: number | null): string {
  if (speedup === null) return 'speed not estimated';
  if (Math.abs(speedup - 1) < 0.005) return 'same speed';
  return speedup > 1 ? `${formatTimes(speedup)} faster` : `${formatTimes(speedup)} (slower)`;
}

const LABELS: Record<FigureKey, string> = { speedup: 'speedup', latencyMs: 'p50 latency', sizeBytes: 'model size', memoryBytes: 'peak memory' };
const FORMAT: Record<FigureKey, (x: number) => string> = { speedup: formatTimes, latencyMs: formatMs, sizeBytes: bytes, memoryBytes: bytes };

/** The latency label for the kind of document the report was made for (a training step, a pipeline's step, a trace's mean step). */
export function latencyLabel(kind: SuggestionsReport['source']['kind']): string {
  return kind === 'inference' ? 'p50 latency' : kind === 'trace' ? 'mean step time' : 'step time';
}

/** A code change as the card shows it: where it goes and the snippet; null for changes with a command to run. */
export function codeChange(change: Change): { where: string; language: string; snippet: string } | null {
  return change.kind === 'code' ? { where: change.where, language: change.language, snippet: change.snippet } : null;
}

/**
 * The card's figures. Without a result: baseline → estimate. With one: the estimate the result was
 * compared against (made when it was applied), the measurement and the error the result states.
 */
export function cardFigures(report: Pick<SuggestionsReport, 'baseline' | 'source'>, suggestion: Suggestion, result?: ApplyResult): FigureRow[] {
  const estimate: Estimate = result ? result.estimate : suggestion.estimate;
  const base: AdviceBaseline = report.baseline;
  return (['speedup', 'latencyMs', 'sizeBytes', 'memoryBytes'] as const).map((key) => {
    const fmt = FORMAT[key];
    const e = estimate[key];
    const b = key === 'speedup' ? null : base[key];
    const row: FigureRow = { key, label: key === 'latencyMs' ? latencyLabel(report.source.kind) : LABELS[key], before: key === 'speedup' ? null : b === null ? DASH : fmt(b), estimated: e === null ? DASH : fmt(e) };
    if (result) {
      const m = result.measured[key];
      row.measured = m === null ? DASH : fmt(m);
      row.error = result.error[key];
      row.offBy = offByText(row.error);
    }
    return row;
  });
}

/** Relative difference beyond which the estimate made at apply time is said to differ from the card's. */
const DRIFT = 0.005;

/**
 * When the estimate made at apply time (the kernels are timed again there) differs from the card's,
 * the sentence that says so: the off-by figures compare against the apply-time one. Null when they agree.
 */
export function estimateDrift(suggestion: Suggestion, result: ApplyResult): string | null {
  const changed = (['speedup', 'latencyMs', 'sizeBytes', 'memoryBytes'] as const).filter((k) => {
    const a = suggestion.estimate[k];
    const b = result.estimate[k];
    if (a === null || b === null) return a !== b;
    return Math.abs(a - b) > DRIFT * Math.max(Math.abs(a), Math.abs(b));
  });
  if (changed.length === 0) return null;
  const list = changed.map((k) => `${LABELS[k]} ${fmtOrDash(k, suggestion.estimate[k])} here, ${fmtOrDash(k, result.estimate[k])} then`).join('; ');
  return `Re-estimated when applied (the kernels were timed again): ${list}. The off-by figures compare the measurement with the estimate made then.`;
}

const fmtOrDash = (k: FigureKey, x: number | null) => (x === null ? DASH : FORMAT[k](x));

/** The accuracy a graph pass kept, in words: `output SQNR 27.1 dB · top-1 agreement 100.0% · eval accuracy 91.0% → 90.5%`. */
export function accuracyLine(m: Measured): string | null {
  const a = m.accuracy;
  if (!a) return null;
  const parts = [`output SQNR ${a.sqnrDb === null ? 'exact (no error)' : `${a.sqnrDb.toFixed(1)} dB`}`, `top-1 agreement ${formatPercent(a.top1Agreement)}`];
  if (a.accuracyBefore !== undefined) parts.push(`eval accuracy ${formatPercent(a.accuracyBefore)} → ${a.accuracyAfter === undefined ? DASH : formatPercent(a.accuracyAfter)}`);
  return parts.join(' · ');
}

/** Why a code change (advice on an imported trace) has no Apply. */
export const CODE_APPLY = 'A change to your PyTorch program: copy the snippet into it, record the trace again and compare.';

/** Whether a change can be applied and measured on this machine, or why not. */
export function applicableChange(change: Change): { ok: true } | { ok: false; reason: string } {
  switch (change.kind) {
    case 'config':
    case 'pass':
      return { ok: true };
    case 'pipeline':
      return { ok: false, reason: `A pipeline shape (${change.schedule}, ${change.stages} stages × ${change.microbatches} micro-batches) is only simulated on this machine: run the command to plan it; there is nothing to apply and measure here.` };
    case 'zero':
      return { ok: false, reason: `ZeRO stage ${change.zeroStage} on ${change.gpus} GPUs is only simulated on this machine (a memory model): run the command to see the plan; there is nothing to apply and measure here.` };
    case 'code':
      return { ok: false, reason: CODE_APPLY };
  }
}

const SOURCE_NOUN: Record<SuggestionsReport['source']['kind'], string> = { inference: 'an inference run', training: 'a training run', pipeline: 'a pipeline run', 'memory-plan': 'a memory plan', trace: 'an imported trace' };

/** What of the page decides whether Apply is on. */
export interface ApplyContext {
  mode: SessionMode;
  trusted: boolean;
  /** A job is under way (one at a time). */
  busy: boolean;
}

export const UNTRUSTED_APPLY = 'Applying suggestions runs models, which is disabled in untrusted workspaces.';
export const REPORT_APPLY = 'Applying needs VS Code: this offline report shows the estimates only.';

/** Why Apply is off for this suggestion, or null when it is on. Reasons that last come before the passing ones (a job). */
export function applyBlocked(ctx: ApplyContext, report: Pick<SuggestionsReport, 'source'>, suggestion: Suggestion): string | null {
  if (ctx.mode === 'report') return REPORT_APPLY;
  const change = applicableChange(suggestion.change);
  if (!change.ok) return change.reason;
  if (report.source.kind !== 'inference') return `Applying measures changes to inference runs; this report is for ${SOURCE_NOUN[report.source.kind]}: run the command instead.`;
  if (!ctx.trusted) return UNTRUSTED_APPLY;
  if (ctx.busy) return 'A run is in progress.';
  return null;
}

/** The newest result of applying `suggestionId` to the run `report` was made for, if any. */
export function resultFor(applied: readonly ApplyResult[], report: Pick<SuggestionsReport, 'source'>, suggestionId: string): ApplyResult | undefined {
  for (let i = applied.length - 1; i >= 0; i--) {
    const r = applied[i];
    if (r.source.runId === report.source.id && r.suggestion.id === suggestionId) return r;
  }
  return undefined;
}

/** The badge class of an accuracy risk (`twb-risk-low` …). */
export const riskClass = (risk: AccuracyRisk): string => `twb-risk twb-risk-${risk}`;

/** The evidence items a card lists, largest first, and how many it leaves out. */
export function topEvidence(suggestion: Suggestion, max = 5): { items: Suggestion['evidence']['items']; more: number } {
  const items = [...suggestion.evidence.items].sort((a, b) => b.share - a.share).slice(0, max);
  return { items, more: Math.max(0, suggestion.evidence.items.length - items.length) };
}
