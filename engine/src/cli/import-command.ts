/**
 * `twb import <trace>`: a profile that another tool recorded — a PyTorch profiler (Kineto) trace,
 * an ONNX Runtime profile file or any chrome trace, plain or gzip — read as a stream and summed up:
 * the source, devices, distributed setup, span and steps, the host ops by self time, the GPU
 * kernels with their launching ops, GPU utilization, communication/computation overlap and the
 * memory peak. `--json FILE` writes the TraceRun document the workbench's views open.
 */
import * as path from 'node:path';
import type { OptionSpec, ParsedArgs } from './args';
import { CliIO, keepDocument } from './io';
import type { TraceRun } from '../schema/trace';
import { importTrace, ImportProgress } from '../trace/import';
import { TwbError } from '../util/errors';
import { formatBytes, formatPercent, formatUs, textTable } from '../util/format';

export const IMPORT_OPTIONS: Record<string, OptionSpec> = {
  json: { kind: 'string', arg: 'FILE', help: 'write the imported trace (JSON) to FILE' },
  save: { kind: 'flag', help: 'also keep it in .twb/runs/ of the current folder' },
  top: { kind: 'int', arg: 'N', help: 'rows in the printed tables (default 15)' },
  threads: { kind: 'int', arg: 'N', help: 'threads that read a big plain-JSON trace (default: the cores, at most 4; 1 reads on one thread)' },
  quiet: { kind: 'flag', help: 'print no progress' },
  debug: { kind: 'flag', help: 'print stack traces of failures' },
};

/** Files smaller than this import in a blink: no progress line for them (gzip'd traces inflate 10-40×). */
const PROGRESS_FROM_BYTES = 1024 * 1024;

export async function importCommand(args: ParsedArgs, io: CliIO, signal?: AbortSignal, now: () => Date = () => new Date()): Promise<number> {
  const o = args.options;
  if (args.positionals.length !== 1) throw new TwbError('usage', `twb import needs one trace file (*.pt.trace.json[.gz], onnxruntime_profile_*.json or a chrome trace), got ${args.positionals.length}`);
  const top = (o.top as number | undefined) ?? 15;
  if (top < 1) throw new TwbError('usage', `--top must be at least 1, got ${top}`);
  const threads = o.threads as number | undefined;
  if (threads !== undefined && threads < 1) throw new TwbError('usage', `--threads must be at least 1, got ${threads}`);
  const file = path.resolve(io.cwd, args.positionals[0]);
  const onProgress = o.quiet
    ? undefined
    : (p: ImportProgress) => {
        if (p.fileBytes >= PROGRESS_FROM_BYTES) io.status(`reading ${path.basename(file)} ${formatPercent(p.bytesRead / p.fileBytes)} (${formatBytes(p.bytesRead)} of ${formatBytes(p.fileBytes)})`);
      };
  let run: TraceRun;
  try {
    run = await importTrace(file, { signal, onProgress, now, parallel: { threads } });
  } finally {
    io.status(null);
  }
  io.stdout(formatTraceReport(run, top));
  await keepDocument(run, o, io, '\nTrace');
  return 0;
}

const FORMAT_NAMES: Record<TraceRun['source']['format'], string> = { kineto: 'PyTorch profiler (Kineto) trace', ort: 'ONNX Runtime profile', chrome: 'chrome trace' };

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** The printed report: what the trace is, then the tables a user looks at first. */
export function formatTraceReport(r: TraceRun, top = 15): string {
  const s = r.source;
  const lines = [
    `Trace ${s.name}: ${FORMAT_NAMES[s.format]}, ${formatBytes(s.fileBytes)}${s.gzip ? ` gzip (${formatBytes(s.jsonBytes)} JSON)` : ''}, ${s.events} events${s.truncated ? ', truncated' : ''}`,
  ];
  if (r.meta.devices.length > 0) {
    const byName = new Map<string, number>();
    for (const d of r.meta.devices) byName.set(d.name, (byName.get(d.name) ?? 0) + 1);
    lines.push(`Devices: ${[...byName.entries()].map(([n, k]) => `${k} × ${n}`).join(', ')}`);
  }
  const d = r.distributed;
  if (d) lines.push(`Distributed: rank ${d.rank}${d.worldSize !== null ? ` of ${d.worldSize}` : ''}${d.backend ? `, backend ${d.backend}` : ''}`);
  const stepUs = r.steps.length > 0 ? r.steps.reduce((a, x) => a + x.durUs, 0) / r.steps.length : 0;
  lines.push(`Span ${formatUs(r.spanUs)}; ${r.steps.length} step${r.steps.length === 1 ? '' : 's'}${r.steps.length > 0 ? ` (mean ${formatUs(stepUs)})` : ''}`);

  if (r.opTypes.length > 0) {
    lines.push('', s.format === 'ort' ? 'Op types by time:' : 'Host ops by self time:');
    const rows = r.opTypes.slice(0, top).map((o) => [clip(o.opType, 60), String(o.calls), formatUs(o.selfUs), formatPercent(o.selfShare), formatUs(o.totalUs)]);
    lines.push(textTable(['op', 'calls', 'self', 'self %', 'total'], rows, [false, true, true, true, true]));
  }
  if (r.kernels.length > 0) {
    lines.push('', 'GPU kernels by time:');
    const rows = r.kernels.slice(0, top).map((k) => [clip(k.name, 60), k.category, String(k.calls), formatUs(k.totalUs), formatUs(k.meanUs), clip(k.launchers[0]?.opType ?? '-', 32)]);
    lines.push(textTable(['kernel', 'category', 'calls', 'total', 'mean', 'launched by'], rows, [false, false, true, true, true, false]));
  }
  if (r.gpu) {
    for (const g of r.gpu.devices) lines.push(`GPU ${g.device}: ${formatPercent(g.utilization)} busy over ${formatUs(g.spanUs)}, idle ${formatUs(g.idleUs)}`);
  }
  if (r.communication) {
    const c = r.communication;
    lines.push(`Communication ${formatUs(c.commUs)}, computation ${formatUs(c.computeUs)}; ${formatPercent(c.overlapShare)} of communication overlapped with computation (${formatUs(c.overlapUs)})`);
  }
  if (r.memory) lines.push(`Memory peak ${formatBytes(r.memory.peakBytes)} on ${r.memory.device} at ${formatUs(r.memory.peakAtUs)}${r.memory.devices.length > 1 ? ` (${r.memory.devices.map((m) => `${m.device} ${formatBytes(m.peakBytes)}`).join(', ')})` : ''}`);
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}
