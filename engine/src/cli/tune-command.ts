/**
 * `twb tune <model> --eval FILE`: accuracy-aware auto-tuning. Tries graph passes in the advisor's
 * order under an accuracy budget and a trial budget, prints every trial with its place on the Pareto
 * front, the best with its held-back check, and where its model and config were kept. Ctrl-C stops
 * after the trial in flight; the partial report is still printed and written, and the exit is 130.
 */
import * as path from 'node:path';
import type { OptionSpec, ParsedArgs } from './args';
import { CliIO, keepDocument, withStatus } from './io';
import { isBuiltinRef } from '../model/spec';
import type { TuningReport } from '../schema/tuning';
import { describeBudget, describeChange } from '../tune/describe';
import { CANDIDATE_IDS } from '../tune/space';
import { defaultTuneDeps, TuneDeps, TuneProgress, tuneModel } from '../tune/tuner';
import { DEFAULT_HELD_BACK, DEFAULT_MAX_ACCURACY_DROP, DEFAULT_PATIENCE, DEFAULT_TRIALS, TuneRequest } from '../tune/request';
import { TwbError } from '../util/errors';
import { formatBytes, formatPercent, textTable } from '../util/format';

export const TUNE_OPTIONS: Record<string, OptionSpec> = {
  eval: { kind: 'string', arg: 'FILE', help: 'eval file with labels (required); split into a search part and a held-back part' },
  'max-accuracy-drop': { kind: 'number', arg: 'X', help: `largest accuracy loss allowed, a fraction (default ${DEFAULT_MAX_ACCURACY_DROP} unless --min-top1 is given)` },
  'min-top1': { kind: 'number', arg: 'X', help: 'smallest share of top-1 predictions equal to the original\'s, a fraction' },
  trials: { kind: 'int', arg: 'N', help: `trials at most (default ${DEFAULT_TRIALS})` },
  patience: { kind: 'int', arg: 'K', help: `stop after K trials in a row that add nothing to the Pareto front (default ${DEFAULT_PATIENCE})` },
  'out-dir': { kind: 'string', arg: 'DIR', help: 'where best.onnx and best.twb.json go (default ./tuned)' },
  candidates: { kind: 'list', arg: 'LIST', help: `candidates to try, comma-separated (default all): ${CANDIDATE_IDS.join(', ')}` },
  'held-back': { kind: 'number', arg: 'X', help: `fraction of the labelled examples held back to re-check the best (default ${DEFAULT_HELD_BACK})` },
  calibration: { kind: 'string', arg: 'FILE', help: 'calibration data for int8-static and GPTQ (default: the search part of the eval file)' },
  batch: { kind: 'int', arg: 'N', help: 'batch of the timed inputs and of eval batches (default 1)' },
  seq: { kind: 'int', arg: 'N', help: 'sequence length of the timed inputs (default 128)' },
  threads: { kind: 'int', arg: 'N', help: 'intra-op threads (default: all cores)' },
  ep: { kind: 'string', arg: 'cpu|webgpu|cuda', help: 'execution provider (default cpu; fp16 is tried on GPU providers only)' },
  seed: { kind: 'int', arg: 'N', help: 'seed of generated inputs and of the eval split (default 0)' },
  runs: { kind: 'int', arg: 'N', help: 'timed runs per model in each trial (default 20)' },
  'no-advisor': { kind: 'flag', help: 'try candidates in the search space\'s order instead of profiling for the advisor\'s ranking' },
  'keep-all': { kind: 'flag', help: 'keep every trial\'s model in DIR/trials/' },
  json: { kind: 'string', arg: 'FILE', help: 'write the tuning report (JSON) to FILE; also after Ctrl-C' },
  save: { kind: 'flag', help: 'also keep the report in .twb/runs/ of the current folder' },
  quiet: { kind: 'flag', help: 'print no progress' },
  debug: { kind: 'flag', help: 'print stack traces of failures' },
};

const pct = (x: number | null) => (x === null ? '—' : formatPercent(x));

export function formatTuningReport(r: TuningReport): string {
  const c = r.config;
  const onFront = new Set(r.pareto);
  const rows = r.trials.map((t) => [
    t.id === r.best ? `${t.id} ◀ best` : t.id,
    describeChange(t.change),
    t.latencyMs === null ? '—' : `${t.latencyMs.toFixed(2)} ms`,
    t.originalLatencyMs === null ? '—' : `${t.originalLatencyMs.toFixed(2)} ms`,
    t.speedup === null ? '—' : `${t.speedup.toFixed(2)}×`,
    t.sizeBytes === null ? '—' : formatBytes(t.sizeBytes),
    pct(t.accuracy),
    pct(t.accuracyDrop),
    pct(t.top1Agreement),
    t.status === 'ok' ? 'yes' : t.status === 'failed' ? 'failed' : 'no',
    onFront.has(t.id) ? '★' : '',
  ]);
  const lines = [
    `Tuned ${r.model.source} at batch ${c.batch}, seq ${c.seq} on ${c.executionProvider} (${c.threads} threads), ${c.runs} timed runs per model`,
    `Budget: ${describeBudget(r.budget)}`,
    `Eval: ${r.eval.searchExamples} search + ${r.eval.heldBackExamples} held-back examples of ${r.eval.file}`,
    `Baseline: ${r.baseline.latencyMs === null ? '—' : `${r.baseline.latencyMs.toFixed(2)} ms`}, ${formatBytes(r.baseline.sizeBytes)}, accuracy ${pct(r.baseline.accuracy)} (held back ${pct(r.baseline.heldBackAccuracy)})`,
    `Order: ${r.order.by === 'advisor' ? 'advisor' : 'search space'} — ${r.order.detail}`,
    ...r.skipped.map((s) => `Skipped ${s.candidate}: ${s.reason}`),
    '',
    r.trials.length > 0
      ? textTable(['trial', 'change', 'latency', 'original', 'speedup', 'size', 'accuracy', 'drop', 'top-1', 'in budget', 'pareto'], rows, [false, false, true, true, true, true, true, true, true, false, false])
      : '(no trial ran)',
  ];
  if (r.trials.length > 0) lines.push('(latency: p50 of the trial\'s model and of the original timed beside it; trials compare by speedup, as the machine\'s load drifts between them)');
  const why = r.trials.filter((t) => t.reason);
  if (why.length > 0) lines.push('', ...why.map((t) => `${t.id}: ${t.reason}`));
  lines.push('', `Stopped (${r.stopped.reason}): ${r.stopped.detail}`);
  const best = r.trials.find((t) => t.id === r.best);
  if (best && r.bestHeldBack) {
    const h = r.bestHeldBack;
    lines.push(
      `Best: ${best.id} (${describeChange(best.change)}): ${best.speedup?.toFixed(2)}×, ${formatBytes(best.sizeBytes ?? 0)}, accuracy ${pct(best.accuracy)} on the search part`,
      `Held-back check (${r.eval.heldBackExamples} examples): accuracy ${pct(h.accuracy)} vs ${pct(r.baseline.heldBackAccuracy)} for the original (drop ${pct(h.accuracyDrop)}), top-1 agreement ${pct(h.top1Agreement)} — ${h.withinBudget ? 'within budget' : 'OVER budget'}`,
    );
  } else {
    lines.push('Best: none within budget');
  }
  if (r.bestModel && r.bestConfig) lines.push(`Kept: ${r.bestModel} and ${r.bestConfig} (re-measure with: twb profile --config ${r.bestConfig})`);
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}

/** Trials of `--candidates a,b --candidates c`. */
function candidateList(v: unknown): string[] | undefined {
  if (v === undefined) return undefined;
  return (v as string[]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
}

export async function tuneCommand(args: ParsedArgs, io: CliIO, signal?: AbortSignal, deps: Partial<TuneDeps> = {}): Promise<number> {
  const o = args.options;
  const [ref, ...extra] = args.positionals;
  if (!ref) throw new TwbError('usage', 'twb tune needs a model (a path to an .onnx file or builtin:NAME) and --eval FILE');
  if (extra.length > 0) throw new TwbError('usage', `twb tune takes one model, got extra arguments: ${extra.join(' ')}`);
  if (o.eval === undefined) throw new TwbError('usage', 'twb tune needs --eval FILE: an eval file with labels, whose accuracy the budget bounds');
  const resolve = (f: unknown) => (f === undefined ? undefined : path.resolve(io.cwd, f as string));
  const request: TuneRequest = {
    model: isBuiltinRef(ref) ? ref : path.resolve(io.cwd, ref),
    evalFile: resolve(o.eval)!,
    outDir: resolve(o['out-dir'] ?? 'tuned')!,
    maxAccuracyDrop: o['max-accuracy-drop'] as number | undefined,
    minTop1Agreement: o['min-top1'] as number | undefined,
    trials: o.trials as number | undefined,
    patience: o.patience as number | undefined,
    candidates: candidateList(o.candidates),
    heldBack: o['held-back'] as number | undefined,
    calibrationFile: resolve(o.calibration),
    batch: o.batch as number | undefined,
    seq: o.seq as number | undefined,
    threads: o.threads as number | undefined,
    executionProvider: o.ep as string | undefined,
    seed: o.seed as number | undefined,
    runs: o.runs as number | undefined,
    advisor: !o['no-advisor'],
    keepAll: Boolean(o['keep-all']),
  };
  const report = await withStatus(
    io,
    (onProgress: (p: TuneProgress) => void) => tuneModel(request, defaultTuneDeps({ ...deps, signal, ...(o.quiet ? {} : { onProgress }) })),
    (p) => (signal?.aborted && p.phase === 'trial' ? `${p.message} (stopping after this trial)` : p.message),
  );
  io.stdout(formatTuningReport(report));
  await keepDocument(report, o, io, '\nTuning report');
  return report.stopped.reason === 'cancelled' ? 130 : 0;
}
