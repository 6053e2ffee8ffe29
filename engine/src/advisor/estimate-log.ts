/**
 * The record of how close estimates came: one JSON line per applied suggestion in
 * `.twb/estimates.jsonl`, so a rule's accuracy can be checked over time (and diffed, committed).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { ApplyResult, EstimateError } from './apply';

export interface EstimateRecord {
  /** ISO 8601. */
  at: string;
  rule: string;
  suggestion: string;
  model: string;
  estimated: { speedup: number | null; sizeBytes: number | null; latencyMs: number | null };
  measured: { speedup: number | null; sizeBytes: number | null; latencyMs: number | null };
  error: EstimateError;
}

export const estimateLogPath = (cwd: string) => path.join(cwd, '.twb', 'estimates.jsonl');

export function recordOf(r: ApplyResult): EstimateRecord {
  const pick = (x: { speedup: number | null; sizeBytes: number | null; latencyMs: number | null }) => ({ speedup: x.speedup, sizeBytes: x.sizeBytes, latencyMs: x.latencyMs });
  return { at: r.createdAt, rule: r.suggestion.rule, suggestion: r.suggestion.id, model: r.source.model, estimated: pick(r.estimate), measured: pick(r.measured), error: r.error };
}

/** Appends one record (a line is written whole, so a reader never sees half of one). */
export async function appendEstimate(cwd: string, r: ApplyResult): Promise<string> {
  const file = estimateLogPath(cwd);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.appendFile(file, `${JSON.stringify(recordOf(r))}\n`);
  return file;
}

/** Per rule: applies recorded and the median |speedup error|, from the log (bad lines are skipped). */
export async function estimateAccuracy(cwd: string): Promise<Map<string, { applies: number; medianSpeedupError: number | null }>> {
  let text = '';
  try {
    text = await fs.readFile(estimateLogPath(cwd), 'utf8');
  } catch {
    return new Map();
  }
  const byRule = new Map<string, number[]>();
  const counts = new Map<string, number>();
  for (const line of text.split('\n')) {
    let rec: EstimateRecord;
    try {
      rec = JSON.parse(line) as EstimateRecord;
    } catch {
      continue;
    }
    if (typeof rec?.rule !== 'string') continue;
    counts.set(rec.rule, (counts.get(rec.rule) ?? 0) + 1);
    if (typeof rec.error?.speedup === 'number') byRule.set(rec.rule, [...(byRule.get(rec.rule) ?? []), Math.abs(rec.error.speedup)]);
  }
  const out = new Map<string, { applies: number; medianSpeedupError: number | null }>();
  for (const [rule, n] of counts) {
    const errs = (byRule.get(rule) ?? []).sort((a, b) => a - b);
    out.set(rule, { applies: n, medianSpeedupError: errs.length ? errs[Math.floor((errs.length - 1) / 2)] : null });
  }
  return out;
}
