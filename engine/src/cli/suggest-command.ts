/**
 * `twb suggest <run.json>`: the advisor's suggestions for a kept run, plan or imported trace, each
 * printed as a short card (title, evidence, the exact command that makes the change — or for a trace
 * the code to paste and where —, the estimate with its basis, warnings), then the rules that stayed
 * quiet and why. For an inference run on the CPU provider it first times the kernels the estimates
 * need (a few seconds; `--no-calibrate` skips it). A raw trace file (PyTorch profiler, ONNX Runtime
 * profile, chrome trace; plain or gzip) is imported first, as `twb import` would.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { OptionSpec, ParsedArgs } from './args';
import { CliIO, keepDocument } from './io';
import { advisable } from '../advisor/advise';
import { defaultSuggestDeps, SuggestDeps, suggestFor } from '../advisor/suggest';
import type { AdviceBaseline, KernelCalibration, Suggestion, SuggestionsReport } from '../schema/advice';
import { describeDocument, parseDocumentJson, WorkbenchDocument } from '../schema/validate-document';
import { importTrace } from '../trace/import';
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

/** Bytes read to tell a raw trace from a kept document without reading a large trace whole. */
const HEAD_BYTES = 64 * 1024;
/** A kept document opens with its schema version and kind (keepDocument writes them first). */
const KEPT_HEAD = /^\s*\{\s*"schemaVersion"\s*:\s*\d+\s*,\s*"kind"\s*:/;

/** Whether `file` is a trace file to import (gzip, a top-level array, or `traceEvents` in an object that is no kept document). */
async function isRawTrace(file: string): Promise<boolean> {
  const handle = await fs.open(file, 'r');
  try {
    const buf = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await handle.read(buf, 0, HEAD_BYTES, 0);
    if (bytesRead >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) return true;
    const head = buf.subarray(0, bytesRead).toString('utf8');
    if (/^\s*\[/.test(head)) return true;
    return !KEPT_HEAD.test(head) && /"traceEvents"\s*:/.test(head);
  } finally {
    await handle.close();
  }
}

async function readDocument(ref: string, io: CliIO, signal: AbortSignal | undefined, quiet: boolean): Promise<WorkbenchDocument> {
  const file = path.resolve(io.cwd, ref);
  const raw = await isRawTrace(file).catch(() => {
    throw new TwbError('io', `run file "${ref}" cannot be read`);
  });
  if (raw) {
    if (!quiet) io.status(`importing ${path.basename(file)}`);
    return { kind: 'trace', run: await importTrace(file, { signal }) };
  }
  const text = await fs.readFile(file, 'utf8').catch(() => {
    throw new TwbError('io', `run file "${ref}" cannot be read`);
  });
  try {
    return parseDocumentJson(text);
  } catch (e) {
    throw new TwbError('io', `"${ref}": ${(e as Error).message}`, 'twb suggest reads the JSON that twb profile, train, pipeline, memory-plan or import write with --json, or a trace file.');
  }
}

export async function suggestCommand(args: ParsedArgs, io: CliIO, signal?: AbortSignal, deps: SuggestDeps = defaultSuggestDeps()): Promise<number> {
  const o = args.options;
  if (args.positionals.length !== 1) throw new TwbError('usage', `twb suggest needs one run or plan (the JSON of twb profile, train, pipeline or memory-plan) or a trace (twb import --json, or the trace file), got ${args.positionals.length}`);
  const ref = args.positionals[0];
  let result;
  try {
    const parsed = await readDocument(ref, io, signal, !!o.quiet);
    if (parsed.kind === 'compression' || parsed.kind === 'variants') {
      throw new TwbError('usage', `"${ref}" is ${describeDocument(parsed)}; twb suggest reads an inference run, a training run, a pipeline plan, a memory plan or a trace`);
    }
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

const TIME_NOUN: Record<SuggestionsReport['source']['kind'], string> = { inference: 'p50', training: 'step', pipeline: 'step', 'memory-plan': 'step', trace: 'step' };
const KIND_WORD: Record<SuggestionsReport['source']['kind'], string> = { inference: 'inference run', training: 'training run', pipeline: 'pipeline plan', 'memory-plan': 'memory plan', trace: 'imported trace' };
/** Indent of a card's continuation lines (under the text after the field name). */
const CARD_INDENT = ' '.repeat(13);

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
    lines.push('', `${i + 1}. ${s.title}  [${s.id}]`, `   evidence  ${evidence}`);
    if (s.change.kind === 'code') lines.push(`   code      ${s.change.language}, at ${s.change.where}:`, ...s.change.snippet.split('\n').map((l) => `${CARD_INDENT}${l}`.trimEnd()));
    lines.push(`   run       ${s.command}`, `   estimate  ${estimateLine(s, r.baseline, TIME_NOUN[r.source.kind])}`, `   basis     ${s.estimate.basis}`);
    for (const w of s.warnings) lines.push(`   warning   ${w}`);
  });
  if (r.quiet.length > 0) {
    const width = Math.max(...r.quiet.map((q) => q.rule.length));
    lines.push('', 'Quiet rules:', ...r.quiet.map((q) => `  ${q.rule.padEnd(width)}  ${q.why}`));
  }
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}
