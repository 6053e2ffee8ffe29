/** `twb train` and `twb sweep`: training and the structural-variants comparison on tfjs. */
import * as path from 'node:path';
import { OptionSpec, ParsedArgs } from './args';
import { CliIO, keepDocument, withStatus } from './io';
import { formatTrainingRun, formatVariantsReport, sweepStatusLine, trainStatusLine } from './train-report';
import { BUILTIN_PREFIX, isBuiltinRef } from '../model/spec';
import { ATTENTION_SYNTAX, SHARE_SYNTAX } from '../model/variants';
import { TRAIN_TASKS } from '../schema/training';
import { parseBackend, TF_BACKENDS } from '../runtime/tfjs';
import { DEFAULT_VARIANTS, sweepVariants, SWEEP_DEFAULTS } from '../train/sweep';
import { parseTask } from '../train/tasks';
import { trainModel } from '../train/trainer';
import type { SpecOverrides, SweepProgress, SweepRequest, TrainProgress, TrainRequest } from '../train/request';
import { TwbError } from '../util/errors';

/** Structural options of a built-in model (model/variants.ts). */
export const VARIANT_OPTIONS: Record<string, OptionSpec> = {
  attention: { kind: 'string', arg: ATTENTION_SYNTAX, help: 'built-in models: attention variant (default dense)' },
  'share-layers': { kind: 'string', arg: SHARE_SYNTAX, help: 'built-in models: layers per shared weight set, ALBERT-style (default none)' },
};

/** Shape overrides of a built-in model, for quick experiments. */
const SPEC_OPTIONS: Record<string, OptionSpec> = {
  layers: { kind: 'int', arg: 'N', help: 'transformer blocks (default: the preset\'s 4)' },
  hidden: { kind: 'int', arg: 'N', help: 'model width (default 256); divisible by --heads' },
  heads: { kind: 'int', arg: 'N', help: 'attention heads (default 4)' },
  ffn: { kind: 'int', arg: 'N', help: 'feed-forward width (default 1024)' },
};

const BACKEND_OPTION: OptionSpec = { kind: 'string', arg: TF_BACKENDS.join('|'), help: 'TensorFlow.js backend (default auto: the first that works, in this order)' };

export const TRAIN_OPTIONS: Record<string, OptionSpec> = {
  task: { kind: 'string', arg: TRAIN_TASKS.join('|'), help: 'synthetic task (default count-compare for tiny-bert, sort for tiny-gpt)' },
  text: { kind: 'string', arg: 'FILE', help: 'character-level language model on this text file (implies --task char-lm)' },
  steps: { kind: 'int', arg: 'N', help: 'training steps' },
  batch: { kind: 'int', arg: 'N', help: 'examples per step' },
  seq: { kind: 'int', arg: 'N', help: 'tokens per example' },
  lr: { kind: 'number', arg: 'X', help: 'peak learning rate (AdamW; linear warm-up, then cosine decay)' },
  warmup: { kind: 'int', arg: 'N', help: 'learning-rate warm-up steps' },
  'weight-decay': { kind: 'number', arg: 'X', help: 'AdamW decoupled weight decay' },
  clip: { kind: 'number', arg: 'X', help: 'clip the global gradient norm to X' },
  seed: { kind: 'int', arg: 'N', help: 'seed for weights and data (default 0); same seed, same run' },
  backend: BACKEND_OPTION,
  ...VARIANT_OPTIONS,
  ...SPEC_OPTIONS,
  'eval-every': { kind: 'int', arg: 'N', help: 'measure held-out accuracy every N steps' },
  json: { kind: 'string', arg: 'FILE', help: 'write the training run (JSON) to FILE; also after Ctrl-C' },
  save: { kind: 'flag', help: 'also keep the run in .twb/runs/ of the current folder' },
  'save-onnx': { kind: 'string', arg: 'FILE.onnx', help: 'export the trained model as ONNX and check ORT\'s logits against tfjs\'s' },
  top: { kind: 'int', arg: 'N', help: 'rows in the printed tables (default 15)' },
  quiet: { kind: 'flag', help: 'print no progress' },
  debug: { kind: 'flag', help: 'print stack traces of failures' },
};

export const SWEEP_OPTIONS: Record<string, OptionSpec> = {
  variants: { kind: 'list', arg: 'LIST', help: `variants to compare (repeatable), each ${ATTENTION_SYNTAX} with an optional +share:all|N; default ${DEFAULT_VARIANTS.join(',')}` },
  seqs: { kind: 'string', arg: 'N,N,...', help: 'sequence lengths of the sweep (default 64,128,256,512,1024)' },
  seq: { kind: 'int', arg: 'N', help: 'sequence length of the side-by-side table (default 128)' },
  batch: { kind: 'int', arg: 'N', help: 'examples per step' },
  task: { kind: 'string', arg: TRAIN_TASKS.join('|'), help: 'train each variant on this task to fill the accuracy column' },
  'train-steps': { kind: 'int', arg: 'N', help: 'steps of that training' },
  budget: { kind: 'number', arg: 'S', help: `give up on a sweep point (and the longer lengths of its variant) when a step takes longer than S seconds (default ${SWEEP_DEFAULTS.pointBudgetMs / 1000})` },
  seed: { kind: 'int', arg: 'N', help: 'seed for weights and data (default 0)' },
  backend: BACKEND_OPTION,
  ...SPEC_OPTIONS,
  json: { kind: 'string', arg: 'FILE', help: 'write the variants report (JSON) to FILE' },
  save: { kind: 'flag', help: 'also keep the report in .twb/runs/ of the current folder' },
  quiet: { kind: 'flag', help: 'print no progress' },
  debug: { kind: 'flag', help: 'print stack traces of failures' },
};

/** The one positional of train and sweep: a built-in model. */
function builtinArg(args: ParsedArgs, command: string): string {
  const [ref, ...extra] = args.positionals;
  if (!ref) throw new TwbError('usage', `twb ${command} needs a built-in model, e.g. builtin:tiny-gpt`);
  if (extra.length > 0) throw new TwbError('usage', `twb ${command} takes one model, got extra arguments: ${extra.join(' ')}`);
  if (!isBuiltinRef(ref)) throw new TwbError('usage', `twb ${command} works on built-in models only; "${ref}" does not start with ${BUILTIN_PREFIX}`);
  return ref;
}

function specOverrides(o: ParsedArgs['options']): SpecOverrides {
  const out: SpecOverrides = {};
  for (const key of ['layers', 'hidden', 'heads', 'ffn'] as const) if (o[key] !== undefined) out[key] = o[key] as number;
  return out;
}

export async function trainCommand(args: ParsedArgs, io: CliIO, signal?: AbortSignal): Promise<number> {
  const o = args.options;
  const overrides = specOverrides(o);
  // The trainer checks the task, the corpus, the shape and the variant against the model before any step runs.
  const request: TrainRequest = {
    model: builtinArg(args, 'train'),
    specOverrides: Object.keys(overrides).length ? overrides : undefined,
    task: o.task === undefined ? undefined : parseTask(o.task as string),
    textFile: o.text === undefined ? undefined : path.resolve(io.cwd, o.text as string),
    steps: o.steps as number | undefined,
    batch: o.batch as number | undefined,
    seq: o.seq as number | undefined,
    lr: o.lr as number | undefined,
    warmupSteps: o.warmup as number | undefined,
    weightDecay: o['weight-decay'] as number | undefined,
    clipNorm: o.clip as number | undefined,
    seed: o.seed as number | undefined,
    backend: o.backend === undefined ? undefined : parseBackend(o.backend as string),
    attention: o.attention as string | undefined,
    shareLayers: o['share-layers'] as string | undefined,
    evalEvery: o['eval-every'] as number | undefined,
    saveOnnx: o['save-onnx'] === undefined ? undefined : path.resolve(io.cwd, o['save-onnx'] as string),
  };
  const run = await withStatus(io, (onProgress) => trainModel(request, { signal, onProgress: o.quiet ? undefined : onProgress }), trainProgressLine());
  io.stdout(formatTrainingRun(run, (o.top as number | undefined) ?? 15));
  await keepDocument(run, o, io, '\nTraining run');
  return run.cancelled ? 130 : 0;
}

/** Status lines with an ETA from the pace of the training steps seen so far. */
function trainProgressLine(clock = () => performance.now()): (p: TrainProgress) => string {
  let start: { t: number; step: number } | undefined;
  return (p) => {
    if (p.phase !== 'train' && p.phase !== 'profile') return trainStatusLine(p);
    const now = clock();
    start ??= { t: now, step: p.step };
    const done = p.step - start.step;
    return trainStatusLine(p, done > 0 ? ((now - start.t) / done) * (p.steps - p.step) : undefined);
  };
}

/**
 * Splits `--variants` values on commas, keeping BigBird's own `W,G,R` (and adaptive span's
 * `MAX,RAMP`) together: a bare number continues the variant before it.
 */
export function splitVariants(values: readonly string[]): string[] {
  const out: string[] = [];
  for (const part of values.flatMap((v) => v.split(',')).map((p) => p.trim()).filter(Boolean)) {
    if (/^\d+$/.test(part) && out.length > 0) out[out.length - 1] += `,${part}`;
    else out.push(part);
  }
  return out;
}

function parseSeqs(value: unknown): number[] | undefined {
  if (value === undefined) return undefined;
  const parts = String(value).split(',').map((p) => p.trim());
  if (parts.some((p) => !/^\d+$/.test(p) || Number(p) < 1)) throw new TwbError('usage', `--seqs expects positive integers separated by commas, e.g. 64,128,256; got "${String(value)}"`);
  return parts.map(Number);
}

export async function sweepCommand(args: ParsedArgs, io: CliIO, signal?: AbortSignal): Promise<number> {
  const o = args.options;
  const overrides = specOverrides(o);
  const task = o.task === undefined ? undefined : parseTask(o.task as string);
  if (o['train-steps'] !== undefined && !task) throw new TwbError('usage', '--train-steps needs --task: the task each variant is trained on');
  const budget = o.budget as number | undefined;
  if (budget !== undefined && !(budget > 0)) throw new TwbError('usage', `--budget must be a positive number of seconds, got ${budget}`);
  // A variant that does not fit the model is not refused: the report shows it failed, and why.
  const request: SweepRequest = {
    model: builtinArg(args, 'sweep'),
    specOverrides: Object.keys(overrides).length ? overrides : undefined,
    variants: o.variants === undefined ? undefined : splitVariants(o.variants as string[]),
    seqs: parseSeqs(o.seqs),
    batch: o.batch as number | undefined,
    seq: o.seq as number | undefined,
    task,
    trainSteps: o['train-steps'] as number | undefined,
    seed: o.seed as number | undefined,
    backend: o.backend === undefined ? undefined : parseBackend(o.backend as string),
    pointBudgetMs: budget === undefined ? undefined : budget * 1000,
  };
  const report = await withStatus(io, (onProgress: (p: SweepProgress) => void) => sweepVariants(request, { signal, onProgress: o.quiet ? undefined : onProgress }), sweepStatusLine);
  io.stdout(formatVariantsReport(report));
  await keepDocument(report, o, io, '\nVariants report');
  return report.cancelled ? 130 : 0;
}

