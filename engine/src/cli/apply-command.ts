/**
 * `twb apply <run.json> --suggestion ID`: the advisor's estimate for one suggestion, made first;
 * then the change, measured; both side by side, and a line in `.twb/estimates.jsonl`.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { OptionSpec, ParsedArgs } from './args';
import { CliIO, withStatus } from './io';
import { advisable } from '../advisor/advise';
import { defaultSuggestDeps, SuggestDeps, suggestFor } from '../advisor/suggest';
import { ApplyResult, applySuggestion } from '../advisor/apply';
import { appendEstimate } from '../advisor/estimate-log';
import { describeDocument, parseDocumentJson } from '../schema/validate-document';
import { writeFileAtomic } from '../util/atomic-write';
import { choices, TwbError } from '../util/errors';
import { formatBytes, textTable } from '../util/format';

export const APPLY_OPTIONS: Record<string, OptionSpec> = {
  suggestion: { kind: 'string', arg: 'ID', help: 'the suggestion to apply (its id in twb suggest; required)' },
  out: { kind: 'string', arg: 'FILE.onnx', help: 'graph passes: where the new model goes (default beside the model, or .twb/models/)' },
  eval: { kind: 'string', arg: 'FILE', help: 'graph passes: eval file for accuracy before and after' },
  json: { kind: 'string', arg: 'FILE', help: 'write the estimate and the measurement (JSON) to FILE' },
  save: { kind: 'flag', help: 'keep the measured run or report in .twb/runs/ of the current folder' },
  'no-calibrate': { kind: 'flag', help: 'do not time kernels before estimating (speed estimates that need them are left out)' },
  quiet: { kind: 'flag', help: 'print no progress' },
  debug: { kind: 'flag', help: 'print stack traces of failures' },
};

const num = (x: number | null, f: (v: number) => string) => (x === null ? '—' : f(x));
const times = (v: number) => `${v.toFixed(2)}×`;
const ms = (v: number) => `${v.toFixed(2)} ms`;
const pct = (v: number | null) => (v === null ? '—' : `${v >= 0 ? '+' : ''}${(v * 100).toFixed(1)}%`);

export function formatApplyResult(r: ApplyResult): string {
  const e = r.estimate;
  const m = r.measured;
  const rows = [
    ['speedup', num(e.speedup, times), num(m.speedup, times), pct(r.error.speedup)],
    ['p50 latency', num(e.latencyMs, ms), num(m.latencyMs, ms), pct(r.error.latencyMs)],
    ['model size', num(e.sizeBytes, formatBytes), num(m.sizeBytes, formatBytes), pct(r.error.sizeBytes)],
    ['peak memory', num(e.memoryBytes, formatBytes), num(m.memoryBytes, formatBytes), pct(r.error.memoryBytes)],
  ];
  const lines = [
    `Applied: ${r.suggestion.title} (${r.suggestion.id}) to ${r.source.model}`,
    '',
    textTable(['', 'estimated', 'measured', 'off by'], rows, [false, true, true, true]),
    '',
    `estimate: ${e.basis}`,
    `measured: ${m.basis}`,
  ];
  if (m.accuracy) {
    const a = m.accuracy;
    lines.push(`accuracy (risk estimated ${e.accuracyRisk}): output SQNR ${a.sqnrDb === null ? 'exact' : `${a.sqnrDb.toFixed(1)} dB`}, top-1 agreement ${(a.top1Agreement * 100).toFixed(1)}%${a.accuracyBefore !== undefined ? `, eval accuracy ${(a.accuracyBefore * 100).toFixed(1)}% → ${((a.accuracyAfter ?? 0) * 100).toFixed(1)}%` : ''}`);
  }
  if (r.artifacts.modelPath) lines.push(`model written to ${r.artifacts.modelPath}`);
  for (const w of [...r.suggestion.warnings, ...r.warnings]) lines.push(`warning: ${w}`);
  return lines.join('\n');
}

export async function applyCommand(args: ParsedArgs, io: CliIO, signal?: AbortSignal, deps: SuggestDeps = defaultSuggestDeps()): Promise<number> {
  const o = args.options;
  if (args.positionals.length !== 1) throw new TwbError('usage', 'twb apply needs one run (the JSON of twb profile --json) and --suggestion ID');
  const id = o.suggestion as string | undefined;
  if (!id) throw new TwbError('usage', 'twb apply needs --suggestion ID (the ids are listed by twb suggest)');
  const ref = args.positionals[0];
  const text = await fs.readFile(path.resolve(io.cwd, ref), 'utf8').catch(() => {
    throw new TwbError('io', `run file "${ref}" cannot be read`);
  });
  const doc = parseDocumentJson(text);
  if (doc.kind !== 'inference') throw new TwbError('usage', `"${ref}" is ${describeDocument(doc)}; twb apply measures changes to an inference run (twb profile --json)`);
  const status = o.quiet ? undefined : (m: string) => io.status(m);
  // The estimate is made, and fixed, before the change runs.
  const { report } = await withStatus(io, () => suggestFor(advisable(doc), { calibrate: !o['no-calibrate'], signal, onProgress: status }, deps), (m: string) => m);
  const suggestion = report.suggestions.find((s) => s.id === id);
  if (!suggestion) {
    const quiet = report.quiet.find((q) => q.rule.endsWith(`/${id}`) || q.rule === id);
    throw new TwbError('usage', quiet ? `suggestion "${id}" does not apply to this run: ${quiet.why}` : `no suggestion "${id}" for this run; ${choices(report.suggestions.map((s) => s.id))}`);
  }
  const result = await withStatus(io, () => applySuggestion(doc.run, suggestion, { out: o.out as string | undefined, evalFile: o.eval === undefined ? undefined : path.resolve(io.cwd, o.eval as string), cwd: io.cwd }, { now: deps.now, signal, onProgress: status }), (m: string) => m);
  io.stdout(formatApplyResult(result));
  const log = await appendEstimate(io.cwd, result);
  io.stdout(`\nEstimate and measurement recorded in ${log}`);
  if (o.json) {
    const file = path.resolve(io.cwd, o.json as string);
    await writeFileAtomic(file, JSON.stringify(result, null, 1));
    io.stdout(`Result written to ${file}`);
  }
  if (o.save) {
    for (const kept of [result.artifacts.changed, result.artifacts.report]) {
      if (!kept) continue;
      const file = path.join(io.cwd, '.twb', 'runs', `${kept.id}.json`);
      await writeFileAtomic(file, JSON.stringify(kept, null, 1));
      io.stdout(`Kept in ${file}`);
    }
  }
  return 0;
}
