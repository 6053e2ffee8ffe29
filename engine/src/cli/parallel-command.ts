/** `twb memory-plan` (bytes per GPU under data parallelism and ZeRO) and `twb export-distributed`. */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { OptionSpec, ParsedArgs } from './args';
import { CliIO, keepDocument } from './io';
import { planMemory } from '../analysis/zero-memory';
import { EXPORT_FORMATS, exportDistributed, settingsFromPlan } from '../export/distributed';
import type { DistributedSettings, Precision } from '../export/distributed';
import { PRECISIONS } from '../export/distributed-settings';
import { isBuiltinRef } from '../model/spec';
import { builtinSpec, loadModelSource } from '../profile/model-source';
import { summarizeModel } from '../onnx/summary';
import type { MemoryPlan, MemoryPlanInput, ZeroStage } from '../schema/parallel';
import { describeDocument, parseDocumentJson } from '../schema/validate-document';
import { writeFileAtomic } from '../util/atomic-write';
import { choices, TwbError } from '../util/errors';
import { formatBytes, formatCount, textTable } from '../util/format';
import { parseCount } from '../util/count';

export const MEMORY_PLAN_OPTIONS: Record<string, OptionSpec> = {
  params: { kind: 'string', arg: 'N', help: 'parameters, e.g. 7.5B, 350M, 1.3e9 (or give a model / run instead)' },
  gpus: { kind: 'int', arg: 'N', help: 'data-parallel GPUs (default 8)' },
  zero: { kind: 'int', arg: '0|1|2|3', help: 'ZeRO stage (default 0)' },
  'micro-batch': { kind: 'int', arg: 'N', help: 'micro-batch per GPU, for activations' },
  seq: { kind: 'int', arg: 'N', help: 'sequence length, for activations' },
  hidden: { kind: 'int', arg: 'N', help: 'hidden size, for activations (a built-in model gives its own)' },
  layers: { kind: 'int', arg: 'N', help: 'transformer layers, for activations (a built-in model gives its own)' },
  heads: { kind: 'int', arg: 'N', help: 'attention heads (default hidden/64)' },
  checkpointing: { kind: 'flag', help: 'full activation checkpointing' },
  json: { kind: 'string', arg: 'FILE', help: 'write the plan (JSON, with bytesPerGpu) to FILE' },
  save: { kind: 'flag', help: 'also keep the plan in .twb/runs/ of the current folder' },
  debug: { kind: 'flag', help: 'print stack traces of failures' },
};

export const EXPORT_OPTIONS: Record<string, OptionSpec> = {
  format: { kind: 'string', arg: EXPORT_FORMATS.join('|'), help: 'what to write (required)' },
  out: { kind: 'string', arg: 'FILE', help: 'where to write it (default: the format\'s usual name in the current folder)' },
  nodes: { kind: 'int', arg: 'N', help: 'machines (default: from the plan, else 1)' },
  'gpus-per-node': { kind: 'int', arg: 'N', help: 'GPUs per machine (default: from the plan, else 8)' },
  precision: { kind: 'string', arg: PRECISIONS.join('|'), help: 'training precision (default bf16)' },
  'micro-batch': { kind: 'int', arg: 'N', help: 'micro-batch per GPU (default: from the plan, else 1)' },
  zero: { kind: 'int', arg: '0|1|2|3', help: 'ZeRO stage (default: from the plan, else 0)' },
  debug: { kind: 'flag', help: 'print stack traces of failures' },
};

function parseCountOption(text: string): number {
  try {
    return parseCount(text);
  } catch (e) {
    throw new TwbError('usage', `--params: ${(e as Error).message}`);
  }
}

interface ParamSource {
  params: number;
  label: string;
  shape: Partial<Pick<MemoryPlanInput, 'hidden' | 'layers' | 'heads'>>;
}

async function paramsFrom(ref: string, io: CliIO): Promise<ParamSource> {
  if (isBuiltinRef(ref)) {
    const spec = builtinSpec(ref);
    const src = await loadModelSource(ref);
    return { params: summarizeModel(src.model).params, label: ref, shape: { hidden: spec.hidden, layers: spec.layers, heads: spec.heads } };
  }
  const file = path.resolve(io.cwd, ref);
  if (/\.json$/i.test(ref)) {
    const doc = parseDocumentJson(await fs.readFile(file, 'utf8').catch(() => { throw new TwbError('io', `run file "${ref}" cannot be read`); }));
    if (doc.kind === 'inference') return { params: doc.run.model.params, label: doc.run.model.name, shape: {} };
    if (doc.kind === 'training') return { params: doc.run.params, label: doc.run.model, shape: { hidden: doc.run.spec.hidden, layers: doc.run.spec.layers, heads: doc.run.spec.heads } };
    throw new TwbError('usage', `"${ref}" is ${describeDocument(doc)}; memory-plan reads a model, an inference run or a training run`);
  }
  const src = await loadModelSource(file);
  return { params: summarizeModel(src.model).params, label: src.name, shape: {} };
}

export async function memoryPlanCommand(args: ParsedArgs, io: CliIO): Promise<number> {
  const o = args.options;
  if (args.positionals.length > 1) throw new TwbError('usage', `twb memory-plan takes at most one model or run, got ${args.positionals.length}`);
  if (args.positionals.length === 0 && o.params === undefined) throw new TwbError('usage', 'twb memory-plan needs --params N (e.g. 7.5B) or a model (builtin:NAME, an .onnx file, or a run .json)');
  if (args.positionals.length === 1 && o.params !== undefined) throw new TwbError('usage', 'give either --params or a model, not both');
  const from: ParamSource = args.positionals.length ? await paramsFrom(args.positionals[0], io) : { params: parseCountOption(o.params as string), label: `${o.params as string} parameters`, shape: {} };
  const zero = (o.zero as number | undefined) ?? 0;
  const input: MemoryPlanInput = {
    params: from.params,
    gpus: (o.gpus as number | undefined) ?? 8,
    zeroStage: zero as ZeroStage,
    microBatch: o['micro-batch'] as number | undefined,
    seq: o.seq as number | undefined,
    hidden: (o.hidden as number | undefined) ?? from.shape.hidden,
    layers: (o.layers as number | undefined) ?? from.shape.layers,
    heads: (o.heads as number | undefined) ?? from.shape.heads,
    checkpointing: o.checkpointing === true,
  };
  const plan = planMemory(input, from.label, new Date());
  io.stdout(formatMemoryPlan(plan));
  await keepDocument(plan, o, io, '\nMemory plan');
  return 0;
}

/** GB (10⁹ bytes, as the ZeRO paper counts) beside the binary size. */
const gb = (bytes: number) => `${(bytes / 1e9).toFixed(bytes >= 1e10 ? 1 : 2)} GB`;

export function formatMemoryPlan(plan: MemoryPlan): string {
  const i = plan.input;
  const lines = [
    `Memory plan: ${plan.model} · ${formatCount(i.params)} parameters · ${i.gpus} GPU${i.gpus === 1 ? '' : 's'} · ZeRO stage ${i.zeroStage}${i.checkpointing ? ' · activation checkpointing' : ''}`,
    `Bytes per GPU: ${gb(plan.bytesPerGpu)} (${formatBytes(plan.bytesPerGpu)})`,
    '',
    textTable(
      ['ZeRO', 'params', 'grads', 'optimizer', 'activations', 'total / GPU'],
      plan.byStage.map((s) => [String(s.zeroStage) + (s.zeroStage === i.zeroStage ? ' *' : ''), gb(s.breakdown.params), gb(s.breakdown.grads), gb(s.breakdown.optimizer), gb(s.breakdown.activations), gb(s.bytesPerGpu)]),
      [false, true, true, true, true, true],
    ),
    '',
    'Per GPU against the number of GPUs:',
    textTable(['GPUs', 'stage 0', 'stage 1', 'stage 2', 'stage 3'], plan.curve.map((c) => [String(c.gpus), ...c.bytesPerGpu.map(gb)]), [true, true, true, true, true]),
    '',
    ...plan.formulas.map((f) => `  ${f}`),
  ];
  for (const w of plan.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}

export async function exportDistributedCommand(args: ParsedArgs, io: CliIO): Promise<number> {
  const o = args.options;
  if (args.positionals.length !== 1) throw new TwbError('usage', 'twb export-distributed needs one plan: the JSON of twb pipeline --json or twb memory-plan --json');
  const format = o.format as string | undefined;
  if (!format) throw new TwbError('usage', `twb export-distributed needs --format ${EXPORT_FORMATS.join('|')}`);
  const file = path.resolve(io.cwd, args.positionals[0]);
  const text = await fs.readFile(file, 'utf8').catch(() => {
    throw new TwbError('io', `plan file "${args.positionals[0]}" cannot be read`);
  });
  const doc = parseDocumentJson(text);
  if (doc.kind !== 'pipeline' && doc.kind !== 'memory-plan') {
    throw new TwbError('usage', `"${args.positionals[0]}" is ${describeDocument(doc)}; export-distributed reads a pipeline plan or a memory plan`);
  }
  const precision = o.precision as string | undefined;
  if (precision !== undefined && !(PRECISIONS as readonly string[]).includes(precision)) throw new TwbError('usage', `unknown precision "${precision}"; ${choices(PRECISIONS)}`);
  const overrides: Partial<DistributedSettings> = {};
  if (o.nodes !== undefined) overrides.nodes = o.nodes as number;
  if (o['gpus-per-node'] !== undefined) overrides.gpusPerNode = o['gpus-per-node'] as number;
  if (precision !== undefined) overrides.precision = precision as Precision;
  if (o['micro-batch'] !== undefined) overrides.microBatchPerGpu = o['micro-batch'] as number;
  if (o.zero !== undefined) overrides.zeroStage = o.zero as ZeroStage;
  const settings = settingsFromPlan(doc.plan, overrides);
  const out = exportDistributed(settings, format);
  const target = path.resolve(io.cwd, (o.out as string | undefined) ?? out.fileName);
  await writeFileAtomic(target, out.text);
  if (format === 'torchrun') await fs.chmod(target, 0o755);
  for (const w of out.warnings) io.stderr(`warning: ${w}`);
  io.stdout(`Wrote ${format} config to ${target}`);
  return 0;
}
