/**
 * `twb suggest <run.json>`: the advisor's suggestions for a kept run or plan, each printed as a short
 * card (title, evidence, the exact command that makes the change, the estimate with its basis,
 * warnings), then the rules that stayed quiet and why. For an inference run on the CPU provider it
 * first times the kernels the estimates need (a few seconds; `--no-calibrate` skips it).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { OptionSpec, ParsedArgs } from './args';
import { CliIO, keepDocument } from './io';
import { advisable } from '../advisor/advise';
import { defaultSuggestDeps, SuggestDeps, suggestFor } from '../advisor/suggest';
import type { AdviceBaseline, KernelCalibration, Suggestion, SuggestionsReport } from '../schema/advice';
import { describeDocument, parseDocumentJson, WorkbenchDocument } from '../schema/validate-document';
import { TwbError } from '../util/errors';
import { formatBytes } from '../util/format';

export const SUGGEST_OPTIONS: Record<string, OptionSpec> = {
  json: { kind: 'string', arg: 'FILE', help: 'write the suggestions (JSON) to FILE' },
  save: { kind: 'flag', help: 'also keep the suggestions in .twb/runs/ of the current folder' },
  'no-calibrate': { kind: 'flag', help: 'do not time kernels on this machine (speed estimates that need them are left out)' },
  quiet: { kind: 'flag', help: 'print no progress' },
  debug: { kind: 'flag', help: 'print stack traces of failures' },
};

export type { SuggestDeps } from '../advisor/suggest';

async function readDocument(ref: string, io: CliIO): Promise<WorkbenchDocument> {
  const text = await fs.readFile(path.resolve(io.cwd, ref), 'utf8').catch(() => {
    throw new TwbError('io', `run file "${ref}" cannot be read`);
  });
  try {
    return parseDocumentJson(text);
  } catch (e) {
    throw new TwbError('io', `"${ref}": ${(e as Error).message}`, 'twb suggest reads the JSON that twb profile, train, pipeline or memory-plan write with --json.');
  }
}

export async function suggestCommand(args: ParsedArgs, io: CliIO, signal?: AbortSignal, deps: SuggestDeps = defaultSuggestDeps()): Promise<number> {
  const o = args.options;
  if (args.positionals.length !== 1) throw new TwbError('usage', `twb suggest needs one run or plan (the JSON of twb profile, train, pipeline or memory-plan), got ${args.positionals.length}`);
  const ref = args.positionals[0];
  const parsed = await readDocument(ref, io);
  if (parsed.kind === 'compression' || parsed.kind === 'variants') {
    throw new TwbError('usage', `"${ref}" is ${describeDocument(parsed)}; twb suggest reads an inference run, a training run, a pipeline plan or a memory plan`);
  }
  let result;
  try {
    result = await suggestFor(advisable(parsed), { calibrate: !o['no-calibrate'], signal, onProgress: o.quiet ? undefined : (m) => io.status(m) }, deps);
  } finally {
    io.status(null);
  }
  const { report, notes } = result;
  io.stdout(formatSuggestions(report, notes));
  await keepDocument(report, o, io, '\nSuggestions');
  return 0;
}

function estimateLine(s: Suggestion, base: AdviceBaseline, timeNoun: string): string {
  const e = s.estimate;
  const parts: string[] = [];
  if (e.speedup === null) parts.push('speed not estimated');
  else if (Math.abs(e.speedup - 1) < 0.005) parts.push('same speed');
  else parts.push(e.speedup > 1 ? `${e.speedup.toFixed(2)}× faster` : `${e.speedup.toFixed(2)}× (slower)`);
  const ms = (x: number) => `${x.toFixed(x >= 100 ? 0 : x >= 10 ? 1 : 2)} ms`;
  if (e.latencyMs !== null) parts.push(base.latencyMs !== null ? `${timeNoun} ${ms(base.latencyMs)} → ${ms(e.latencyMs)}` : `${timeNoun} ${ms(e.latencyMs)}`);
  if (e.sizeBytes !== null && e.sizeBytes !== base.sizeBytes) parts.push(base.sizeBytes !== null ? `size ${formatBytes(base.sizeBytes)} → ${formatBytes(e.sizeBytes)}` : `size ${formatBytes(e.sizeBytes)}`);
  if (e.memoryBytes !== null) parts.push(base.memoryBytes !== null ? `memory ${formatBytes(base.memoryBytes)} → ${formatBytes(Math.round(e.memoryBytes))}` : `memory ${formatBytes(Math.round(e.memoryBytes))}`);
  parts.push(`accuracy risk ${e.accuracyRisk}`);
  return parts.join(' · ');
}

const TIME_NOUN: Record<SuggestionsReport['source']['kind'], string> = { inference: 'p50', training: 'step', pipeline: 'step', 'memory-plan': 'step' };
const KIND_WORD: Record<SuggestionsReport['source']['kind'], string> = { inference: 'inference run', training: 'training run', pipeline: 'pipeline plan', 'memory-plan': 'memory plan' };

/** The calibration in one line: what was timed and the int8/int4 ratios. */
function calibrationLine(c: KernelCalibration): string {
  const ratio = (a: number, b: number | null) => (b ? `${(a / b).toFixed(2)}×` : '-');
  const shapes = c.matmul.map((k) => `[${k.input.join('×')}]·[${k.k}×${k.n}]${k.bias ? '+bias' : ''} int8 ${ratio(k.fp32Us, k.int8DynamicUs)} / static ${ratio(k.fp32Us, k.int8StaticUs)} / int4 ${ratio(k.fp32Us, k.int4Us)}`);
  const extra = [c.threadScaling ? `threads ${c.threadScaling.threads[0]}→${c.threadScaling.threads[1]} ${ratio(c.threadScaling.us[0], c.threadScaling.us[1])}` : '', c.batchScaling ? `batch ${c.batchScaling.batch}→${c.batchScaling.scaledBatch} per sample ${ratio((c.batchScaling.us * c.batchScaling.scaledBatch) / c.batchScaling.batch, c.batchScaling.scaledUs)}` : ''].filter(Boolean);
  return `Kernels timed here (${c.threads} thread${c.threads === 1 ? '' : 's'}, opt ${c.optLevel}, ${(c.elapsedMs / 1000).toFixed(1)} s; fp32 ÷ quantized): ${[...shapes, ...extra].join('; ') || 'no products with constant weights'}`;
}

/** The printed report: header, one card per suggestion, the quiet rules. */
export function formatSuggestions(r: SuggestionsReport, notes: string[] = []): string {
  const lines = [`Suggestions for ${r.source.model} (${KIND_WORD[r.source.kind]} ${r.source.id})`, `Ranked by ${r.ranking}.`];
  if (r.calibration) lines.push(calibrationLine(r.calibration));
  for (const n of notes) lines.push(`Note: ${n}.`);
  if (r.suggestions.length === 0) lines.push('', 'No suggestions: every rule stayed quiet (below).');
  r.suggestions.forEach((s, i) => {
    const evidence = s.evidence.items.length > 0 ? `${s.evidence.summary}: ${s.evidence.items.map((x) => `${x.what} ${(x.share * 100).toFixed(1)}%`).join(', ')}` : s.evidence.summary;
    lines.push('', `${i + 1}. ${s.title}  [${s.id}]`, `   evidence  ${evidence}`, `   run       ${s.command}`, `   estimate  ${estimateLine(s, r.baseline, TIME_NOUN[r.source.kind])}`, `   basis     ${s.estimate.basis}`);
    for (const w of s.warnings) lines.push(`   warning   ${w}`);
  });
  if (r.quiet.length > 0) {
    const width = Math.max(...r.quiet.map((q) => q.rule.length));
    lines.push('', 'Quiet rules:', ...r.quiet.map((q) => `  ${q.rule.padEnd(width)}  ${q.why}`));
  }
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}
