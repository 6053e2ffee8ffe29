/**
 * `twb export`: a tuned configuration out of a kept document — a twb config that `twb profile
 * --config` reproduces, ONNX Runtime session options (JSON, Python, JavaScript), the model as ORT
 * optimizes it, the distributed configs of a pipeline or memory plan, or the HTML report.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { OptionSpec, ParsedArgs } from './args';
import type { CliIO } from './io';
import { renderDocumentReport } from '../export/html-report';
import { exportDistributed, EXPORT_FORMATS as DISTRIBUTED_FORMATS, settingsFromPlan } from '../export/distributed';
import { jsSnippet, pythonSnippet, sessionOptionsJson } from '../export/ort-session';
import { exportTuning } from '../export/tuning-export';
import { tuningExportFormat } from '../export/tuning-formats';
import { isBuiltinRef } from '../model/spec';
import { loadModelSource } from '../profile/model-source';
import { openSession } from '../runtime/ort';
import type { ExecutionProvider, OptLevel } from '../schema/config';
import type { InferenceRun } from '../schema/run';
import { TWB_CONFIG_SCHEMA_VERSION, TwbConfig } from '../schema/twb-config';
import { parseTuningReport } from '../schema/validate-tuning';
import { describeDocument, parseDocumentJson, WorkbenchDocument } from '../schema/validate-document';
import { writeFileAtomic } from '../util/atomic-write';
import { choices, TwbError } from '../util/errors';
import { formatBytes } from '../util/format';

export const EXPORT_FORMATS = ['twb', 'ort', 'ort-python', 'ort-js', 'ort-model', 'report', ...DISTRIBUTED_FORMATS] as const;
type Format = (typeof EXPORT_FORMATS)[number];

const DEFAULT_NAMES: Record<Format, string> = {
  twb: 'twb-config.json',
  ort: 'ort-session.json',
  'ort-python': 'ort_session.py',
  'ort-js': 'ort-session.js',
  'ort-model': 'model.ort-optimized.onnx',
  report: 'report.html',
  deepspeed: 'ds_config.json',
  accelerate: 'accelerate_config.yaml',
  torchrun: 'launch.sh',
  pipelining: 'pipeline_parallel.py',
};

export const EXPORT_COMMAND_OPTIONS: Record<string, OptionSpec> = {
  format: { kind: 'string', arg: EXPORT_FORMATS.join('|'), help: 'what to write (required)' },
  out: { kind: 'string', arg: 'FILE', help: 'where to write it (default: the format\'s usual name in the current folder)' },
  debug: { kind: 'flag', help: 'print stack traces of failures' },
};

/** The model as a path the exported file can name: relative to where the file goes, or `builtin:NAME`. */
function modelRef(source: string, cwd: string, outDir: string): string {
  if (isBuiltinRef(source)) return source;
  return path.relative(outDir, path.resolve(cwd, source)) || path.basename(source);
}

function inferenceRun(doc: WorkbenchDocument, format: string, file: string): InferenceRun {
  if (doc.kind !== 'inference') throw new TwbError('usage', `--format ${format} exports an inference run (twb profile --json); "${file}" is ${describeDocument(doc)}`);
  return doc.run;
}

/** Where a snippet points for a built-in model, which has no file until `twb model` writes one. */
function snippetModel(run: InferenceRun, cwd: string, outDir: string): string {
  return isBuiltinRef(run.model.source) ? `${run.model.source.slice('builtin:'.length)}.onnx` : modelRef(run.model.source, cwd, outDir);
}

/** Whether the text is a tuning report (cheap look at its head before parsing the whole document). */
function tuningKind(text: string): boolean {
  return /^\s*\{[^]{0,200}"kind"\s*:\s*"tuning"/.test(text);
}

export async function exportCommand(args: ParsedArgs, io: CliIO): Promise<number> {
  const o = args.options;
  if (args.positionals.length !== 1) throw new TwbError('usage', 'twb export needs one document: a run or plan written with --json');
  const format = o.format as string | undefined;
  if (!format) throw new TwbError('usage', `twb export needs --format ${EXPORT_FORMATS.join('|')}`);
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) throw new TwbError('usage', `unknown export format "${format}"; ${choices(EXPORT_FORMATS)}`);
  const file = args.positionals[0];
  const text = await fs.readFile(path.resolve(io.cwd, file), 'utf8').catch(() => {
    throw new TwbError('io', `"${file}" cannot be read`);
  });
  const out = path.resolve(io.cwd, (o.out as string | undefined) ?? DEFAULT_NAMES[format as Format]);
  const outDir = path.dirname(out);
  const f = format as Format;
  if (tuningKind(text)) {
    const base = path.dirname(path.resolve(io.cwd, file));
    io.stdout(await exportTuning(parseTuningReport(text), tuningExportFormat(f), out, base));
    return 0;
  }
  const doc = parseDocumentJson(text);
  let written: string | Uint8Array;
  const notes: string[] = [];
  if (f === 'twb') {
    const run = inferenceRun(doc, f, file);
    const config: TwbConfig = { schemaVersion: TWB_CONFIG_SCHEMA_VERSION, kind: 'twb-config', model: modelRef(run.model.source, io.cwd, outDir), config: run.config, fromRun: run.id };
    written = `${JSON.stringify(config, null, 2)}\n`;
    notes.push(`reproduce it with: twb profile --config ${path.relative(io.cwd, out) || out}`);
  } else if (f === 'ort' || f === 'ort-python' || f === 'ort-js') {
    const run = inferenceRun(doc, f, file);
    const model = snippetModel(run, io.cwd, outDir);
    written = f === 'ort' ? sessionOptionsJson(run.config, model) : f === 'ort-python' ? pythonSnippet(run.config, model) : jsSnippet(run.config, model);
    if (isBuiltinRef(run.model.source)) notes.push(`write the model it names with: twb model ${run.model.source} --out ${model}`);
  } else if (f === 'ort-model') {
    const run = inferenceRun(doc, f, file);
    const src = await loadModelSource(isBuiltinRef(run.model.source) ? run.model.source : path.resolve(io.cwd, run.model.source), run.config.seed, { attention: run.config.attention, shareLayers: run.config.shareLayers });
    // ORT writes the graph it runs after its own fusions at this optimization level and provider.
    const session = await openSession(src.ortInput, { executionProvider: run.config.executionProvider as ExecutionProvider, threads: 1, optLevel: run.config.optLevel as OptLevel, optimizedModelPath: out }, src.name);
    await session.release();
    io.stdout(`Wrote ${run.model.name} as ONNX Runtime optimizes it (opt level ${run.config.optLevel}, ${run.config.executionProvider}) to ${out}: ${formatBytes((await fs.stat(out)).size)}`);
    return 0;
  } else if (f === 'report') {
    written = renderDocumentReport(doc);
  } else {
    if (doc.kind !== 'pipeline' && doc.kind !== 'memory-plan') throw new TwbError('usage', `--format ${f} exports a pipeline plan or a memory plan; "${file}" is ${describeDocument(doc)}`);
    const cfg = exportDistributed(settingsFromPlan(doc.plan), f);
    written = cfg.text;
    for (const w of cfg.warnings) io.stderr(`warning: ${w}`);
  }
  await writeFileAtomic(out, written);
  if (f === 'torchrun') await fs.chmod(out, 0o755);
  io.stdout(`Wrote ${f} to ${out}`);
  for (const n of notes) io.stdout(n);
  return 0;
}
