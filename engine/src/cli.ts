/**
 * `twb`: the headless front end of the engine. Exit codes: 0 success, 1 the run failed (one clear
 * line on stderr; the stack only with --debug), 2 bad usage, 130 interrupted.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { renderDocumentReport } from './export/html-report';
import { parseDocumentJson } from './schema/validate-document';
import { formatOptions, OptionSpec, parseArgs, ParsedArgs } from './cli/args';
import { CliIO, keepDocument } from './cli/io';
import { SWEEP_OPTIONS, sweepCommand, TRAIN_OPTIONS, trainCommand, VARIANT_OPTIONS } from './cli/train-command';
import { formatRunReport } from './cli/report';
import { PIPELINE_OPTIONS, pipelineCommand } from './cli/pipeline-command';
import { EXPORT_OPTIONS, exportDistributedCommand, MEMORY_PLAN_OPTIONS, memoryPlanCommand } from './cli/parallel-command';
import { formatCompressionReport } from './cli/compress-report';
import { compressModel, CompressProgress, CompressRequest, defaultCompressDeps } from './compress/lab';
import { PRESETS, BUILTIN_PREFIX, isBuiltinRef } from './model/spec';
import { buildTransformer } from './model/transformer';
import { encodeModel } from './onnx/codec';
import { summarizeModel } from './onnx/summary';
import { probeModelBytes } from './model/probe';
import { builtinSpec, variantOf } from './profile/model-source';
import { defaultDeps, profileInference, ProfileProgress } from './profile/profiler';
import { ProfileRequest } from './schema/config';
import type { RunConfig } from './schema/run';
import { parseTwbConfig, TwbConfig } from './schema/twb-config';
import { EXPORT_COMMAND_OPTIONS, exportCommand } from './cli/export-command';
import { SUGGEST_OPTIONS, suggestCommand } from './cli/suggest-command';
import { APPLY_OPTIONS, applyCommand } from './cli/apply-command';
import { TUNE_OPTIONS, tuneCommand } from './cli/tune-command';
import { IMPORT_OPTIONS, importCommand } from './cli/import-command';
import { parseDimAssignment } from './runtime/dims';
import { providerStatuses } from './runtime/ort';
import { TwbError } from './util/errors';
import { writeFileAtomic } from './util/atomic-write';
import { formatBytes, formatCount } from './util/format';
import { version } from '../../package.json';



const PROFILE_OPTIONS: Record<string, OptionSpec> = {
  config: { kind: 'string', arg: 'FILE', help: 'a twb config (twb export --format twb): its model and options; options given here win' },
  ep: { kind: 'string', arg: 'cpu|webgpu|cuda', help: 'execution provider (default cpu)' },
  threads: { kind: 'int', arg: 'N', help: 'intra-op threads (default: all cores)' },
  'opt-level': { kind: 'string', arg: 'disabled|basic|extended|all', help: 'graph optimization level (default all; disabled maps 1:1 to the stored graph)' },
  batch: { kind: 'int', arg: 'N', help: 'value of batch-like symbolic dims (default 1)' },
  seq: { kind: 'int', arg: 'N', help: 'value of sequence-like symbolic dims (default 128)' },
  past: { kind: 'int', arg: 'N', help: 'value of past/cache-length dims (default 0)' },
  dim: { kind: 'list', arg: 'NAME=N', help: 'set a named symbolic dim; repeatable; wins over --batch/--seq' },
  warmup: { kind: 'int', arg: 'N', help: 'untimed runs before measuring, per session (default 5)' },
  runs: { kind: 'int', arg: 'N', help: 'unprofiled runs timed for latency (default 30)' },
  'profiled-runs': { kind: 'int', arg: 'N', help: 'runs recorded by the ORT profiler (default 10)' },
  seed: { kind: 'int', arg: 'N', help: 'seed for input data and built-in weights (default 0)' },
  ...VARIANT_OPTIONS,
  json: { kind: 'string', arg: 'FILE', help: 'write the Run document (JSON) to FILE' },
  save: { kind: 'flag', help: 'also keep the run in .twb/runs/ of the current folder' },
  top: { kind: 'int', arg: 'N', help: 'rows in the printed tables (default 15)' },
  quiet: { kind: 'flag', help: 'print no progress' },
  debug: { kind: 'flag', help: 'print stack traces of failures' },
};

const MODEL_OPTIONS: Record<string, OptionSpec> = {
  out: { kind: 'string', arg: 'FILE.onnx', help: 'where to write the model (required)' },
  seed: { kind: 'int', arg: 'N', help: 'weight-init seed (default 0); same seed, same bytes' },
  ...VARIANT_OPTIONS,
  debug: { kind: 'flag', help: 'print stack traces of failures' },
};

const REPORT_OPTIONS: Record<string, OptionSpec> = {
  out: { kind: 'string', arg: 'FILE.html', help: 'where to write the report (default: beside the run, .html)' },
  debug: { kind: 'flag', help: 'print stack traces of failures' },
};

const COMPRESS_COMMON: Record<string, OptionSpec> = {
  out: { kind: 'string', arg: 'FILE.onnx', help: 'where to write the new model (required; the original is never touched)' },
  exclude: { kind: 'list', arg: 'NODE,...', help: 'node names to leave untouched (kept in fp32); comma-separated, repeatable' },
  eval: { kind: 'string', arg: 'FILE', help: 'eval file: accuracy before and after, and the inputs of the error analysis' },
  json: { kind: 'string', arg: 'FILE', help: 'write the report (JSON) to FILE' },
  save: { kind: 'flag', help: 'also keep the report in .twb/runs/ of the current folder' },
  ep: { kind: 'string', arg: 'cpu|webgpu|cuda', help: 'execution provider for latency and analysis (default cpu)' },
  threads: { kind: 'int', arg: 'N', help: 'intra-op threads, the same for both models (default: all cores)' },
  batch: { kind: 'int', arg: 'N', help: 'batch of generated inputs (default 1)' },
  seq: { kind: 'int', arg: 'N', help: 'sequence length of generated inputs (default 128)' },
  runs: { kind: 'int', arg: 'N', help: 'timed runs per model, interleaved (default 30)' },
  seed: { kind: 'int', arg: 'N', help: 'seed for generated inputs and built-in weights (default 0)' },
  top: { kind: 'int', arg: 'N', help: 'rows in the printed tables (default 15)' },
  quiet: { kind: 'flag', help: 'print no progress' },
  debug: { kind: 'flag', help: 'print stack traces of failures' },
};

const QUANTIZE_OPTIONS: Record<string, OptionSpec> = {
  mode: { kind: 'string', arg: 'int8-dynamic|int8-static|int4-weight|fp16', help: 'what to quantize to (required)' },
  'per-channel': { kind: 'flag', help: 'int8: one weight scale per output channel instead of per tensor' },
  calibration: { kind: 'string', arg: 'FILE', help: 'calibration inputs (eval-file format, labels optional) for int8-static and gptq' },
  calibrate: { kind: 'string', arg: 'minmax|percentile|entropy', help: 'int8-static: how activation ranges are chosen (default minmax)' },
  method: { kind: 'string', arg: 'rtn|gptq', help: 'int4-weight: round-to-nearest or GPTQ (default rtn)' },
  'block-size': { kind: 'int', arg: 'N', help: 'int4-weight: weights per scale: 16, 32, 64, 128 or 256 (default 32)' },
  ...COMPRESS_COMMON,
};

const PRUNE_OPTIONS: Record<string, OptionSpec> = {
  method: { kind: 'string', arg: 'magnitude|2:4|heads', help: 'unstructured, 2-of-4 semi-structured, or attention heads (required)' },
  amount: { kind: 'number', arg: 'X', help: 'fraction in [0, 1) of weights (magnitude) or heads (heads) to remove' },
  ...COMPRESS_COMMON,
};

const EPS_OPTIONS: Record<string, OptionSpec> = { debug: { kind: 'flag', help: 'print stack traces of failures' } };

function usage(): string {
  const builtins = Object.keys(PRESETS).map((n) => BUILTIN_PREFIX + n).join(', ');
  return [
    'twb — Transformer Workbench command line',
    '',
    'Usage:',
    '  twb profile <model.onnx | builtin:NAME> [options]   profile inference with ONNX Runtime',
    '  twb model builtin:NAME --out FILE.onnx [--seed N]    write a built-in transformer as ONNX',
    '  twb train builtin:NAME [--task T | --text FILE]      train with TensorFlow.js and profile each step',
    '  twb sweep builtin:NAME [--variants LIST]             compare attention variants and sharing over sequence lengths',
    '  twb report <file.json> [--out FILE.html]             self-contained HTML report of any result written with --json',
    '  twb quantize <model> --mode MODE --out FILE.onnx    quantize, then measure size, speed and error',
    '  twb prune <model> --method METHOD --amount X --out FILE.onnx   prune, then measure the same',
    '  twb pipeline <model | run.json> [--stages P --microbatches M --schedule S]   plan, simulate and (--measure) run a pipeline',
    '  twb memory-plan --params N --gpus N --zero 0|1|2|3   bytes per GPU under data parallelism and ZeRO',
    '  twb export-distributed <plan.json> --format F        DeepSpeed / accelerate / torchrun / PyTorch pipelining config',
    '  twb export <run.json | plan.json> --format F         twb config, ORT session options / snippets / optimized model, report',
    '  twb suggest <run.json | trace>                       suggestions with estimates made before anything runs',
    '  twb apply <run.json> --suggestion ID                 apply one, measure it, set it beside the estimate',
    '  twb tune <model> --eval FILE [--max-accuracy-drop X] search compressions under an accuracy budget; keep the best',
    '  twb import <trace> [--json FILE] [--top N]           read a PyTorch profiler / Kineto trace, ORT profile or chrome trace',
    '  twb eps                                              list execution providers and whether they work here',
    '  twb help [command] | --help | --version',
    '',
    `Built-in models: ${builtins}`,
    '',
    'twb profile options:',
    formatOptions(PROFILE_OPTIONS),
    '',
    'twb model options:',
    formatOptions(MODEL_OPTIONS),
    '',
    'twb train options (defaults fit the task: see the printed config):',
    formatOptions(TRAIN_OPTIONS),
    '',
    'twb sweep options:',
    formatOptions(SWEEP_OPTIONS),
    '',
    'twb quantize options:',
    formatOptions(QUANTIZE_OPTIONS),
    '',
    'twb prune options:',
    formatOptions(PRUNE_OPTIONS),
    '',
    'twb pipeline options:',
    formatOptions(PIPELINE_OPTIONS),
    '',
    'twb memory-plan options:',
    formatOptions(MEMORY_PLAN_OPTIONS),
    '',
    'twb export-distributed options:',
    formatOptions(EXPORT_OPTIONS),
    '',
    'twb export options:',
    formatOptions(EXPORT_COMMAND_OPTIONS),
    '',
    'twb suggest options:',
    formatOptions(SUGGEST_OPTIONS),
    '',
    'twb apply options:',
    formatOptions(APPLY_OPTIONS),
    '',
    'twb tune options:',
    formatOptions(TUNE_OPTIONS),
    '',
    'twb import options:',
    formatOptions(IMPORT_OPTIONS),
  ].join('\n');
}

/** Runs one CLI invocation and returns its exit code; never throws. */
export async function runCli(argv: readonly string[], io: CliIO, signal?: AbortSignal): Promise<number> {
  const [command, ...rest] = argv;
  const debug = rest.includes('--debug');
  try {
    switch (command) {
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.stdout(usage());
        return command === undefined ? 2 : 0;
      case '--version':
      case '-v':
        io.stdout(version);
        return 0;
      case 'profile':
        return await profileCommand(parseArgs(rest, PROFILE_OPTIONS, 'profile'), io, signal);
      case 'model':
        return await modelCommand(parseArgs(rest, MODEL_OPTIONS, 'model'), io);
      case 'train':
        return await trainCommand(parseArgs(rest, TRAIN_OPTIONS, 'train'), io, signal);
      case 'sweep':
        return await sweepCommand(parseArgs(rest, SWEEP_OPTIONS, 'sweep'), io, signal);
      case 'report':
        return await reportCommand(parseArgs(rest, REPORT_OPTIONS, 'report'), io);
      case 'quantize':
        return await compressCommand('quantize', parseArgs(rest, QUANTIZE_OPTIONS, 'quantize'), io, signal);
      case 'prune':
        return await compressCommand('prune', parseArgs(rest, PRUNE_OPTIONS, 'prune'), io, signal);
      case 'pipeline':
        return await pipelineCommand(parseArgs(rest, PIPELINE_OPTIONS, 'pipeline'), io, signal);
      case 'memory-plan':
        return await memoryPlanCommand(parseArgs(rest, MEMORY_PLAN_OPTIONS, 'memory-plan'), io);
      case 'suggest':
        return await suggestCommand(parseArgs(rest, SUGGEST_OPTIONS, 'suggest'), io, signal);
      case 'apply':
        return await applyCommand(parseArgs(rest, APPLY_OPTIONS, 'apply'), io, signal);
      case 'tune':
        return await tuneCommand(parseArgs(rest, TUNE_OPTIONS, 'tune'), io, signal);
      case 'export':
        return await exportCommand(parseArgs(rest, EXPORT_COMMAND_OPTIONS, 'export'), io);
      case 'export-distributed':
        return await exportDistributedCommand(parseArgs(rest, EXPORT_OPTIONS, 'export-distributed'), io);
      case 'import':
        return await importCommand(parseArgs(rest, IMPORT_OPTIONS, 'import'), io, signal);
      case 'eps':
        parseArgs(rest, EPS_OPTIONS, 'eps');
        return await epsCommand(io);
      default:
        throw new TwbError('usage', `unknown command "${command}"; expected one of: profile, model, quantize, prune, report, eps, help, train, sweep, pipeline, memory-plan, export-distributed, export, suggest, apply, tune, import`);
    }
  } catch (e) {
    return reportFailure(e, io, debug);
  }
}

function reportFailure(e: unknown, io: CliIO, debug: boolean): number {
  if (e instanceof TwbError) {
    io.stderr(`twb: ${e.message}`);
    if (e.hint) io.stderr(`hint: ${e.hint}`);
    if (e.code === 'usage') io.stderr('Run "twb --help" for usage.');
    if (debug && e.stack) io.stderr(e.stack);
    return e.code === 'usage' ? 2 : e.code === 'cancelled' ? 130 : 1;
  }
  const err = e instanceof Error ? e : new Error(String(e));
  io.stderr(`twb: internal error: ${err.message}`);
  if (debug && err.stack) io.stderr(err.stack);
  else io.stderr('Run again with --debug for details.');
  return 1;
}

async function profileCommand(args: ParsedArgs, io: CliIO, signal?: AbortSignal): Promise<number> {
  const o = args.options;
  const fromConfig = o.config === undefined ? undefined : await readConfig(o.config as string, io);
  if (args.positionals.length > 1) throw new TwbError('usage', `twb profile takes one model, got ${args.positionals.length}: ${args.positionals.join(' ')}`);
  const model = args.positionals[0] ?? fromConfig?.model;
  if (!model) throw new TwbError('usage', 'twb profile needs a model: a path to an .onnx file or builtin:NAME (or --config FILE)');
  const dims: Record<string, number> = { ...fromConfig?.config.dims };
  for (const d of (o.dim as string[] | undefined) ?? []) {
    const [name, value] = parseDimAssignment(d);
    dims[name] = value;
  }
  const base: Partial<RunConfig> = fromConfig?.config ?? {};
  const pick = <T>(option: unknown, fallback: T | undefined) => (option !== undefined ? (option as T) : fallback);
  const request: Partial<ProfileRequest> & { model: string } = {
    model,
    executionProvider: pick(o.ep, base.executionProvider),
    threads: pick(o.threads, base.threads),
    optLevel: pick(o['opt-level'], base.optLevel),
    batch: pick(o.batch, base.batch),
    seq: pick(o.seq, base.seq),
    past: pick(o.past, base.past),
    dims,
    warmup: pick(o.warmup, base.warmup),
    runs: pick(o.runs, base.runs),
    profiledRuns: pick(o['profiled-runs'], base.profiledRuns),
    seed: pick(o.seed, base.seed),
    attention: pick(o.attention, base.attention),
    shareLayers: pick(o['share-layers'], base.shareLayers),
  };
  const onProgress = o.quiet ? undefined : (p: ProfileProgress) => io.status(p.message);
  let run;
  try {
    run = await profileInference(request, defaultDeps({ onProgress, signal }));
  } finally {
    io.status(null);
  }
  io.stdout(formatRunReport(run, (o.top as number | undefined) ?? 15));
  await keepDocument(run, args.options, io, '\nRun');
  return 0;
}

/** A twb config with its model path made relative to the folder it is run from. */
async function readConfig(file: string, io: CliIO): Promise<TwbConfig> {
  const full = path.resolve(io.cwd, file);
  const text = await fs.readFile(full, 'utf8').catch(() => {
    throw new TwbError('io', `config file "${file}" cannot be read`);
  });
  let config: TwbConfig;
  try {
    config = parseTwbConfig(text);
  } catch (e) {
    throw new TwbError('io', `"${file}": ${(e as Error).message}`, 'twb export --format twb writes a config from a run.');
  }
  return isBuiltinRef(config.model) ? config : { ...config, model: path.resolve(path.dirname(full), config.model) };
}

async function modelCommand(args: ParsedArgs, io: CliIO): Promise<number> {
  const [ref, ...extra] = args.positionals;
  if (!ref) throw new TwbError('usage', 'twb model needs a built-in model name, e.g. builtin:tiny-gpt');
  if (extra.length > 0) throw new TwbError('usage', `twb model takes one model, got extra arguments: ${extra.join(' ')}`);
  if (!isBuiltinRef(ref)) throw new TwbError('usage', `twb model writes built-in models only; "${ref}" does not start with ${BUILTIN_PREFIX}`);
  const out = args.options.out as string | undefined;
  if (!out) throw new TwbError('usage', 'twb model needs --out FILE.onnx');
  const spec = builtinSpec(ref, { attention: args.options.attention as string | undefined, shareLayers: args.options['share-layers'] as string | undefined });
  const model = buildTransformer(spec, { seed: (args.options.seed as number | undefined) ?? 0, name: ref.slice(BUILTIN_PREFIX.length) });
  const bytes = encodeModel(model);
  const file = path.resolve(io.cwd, out);
  await writeFileAtomic(file, bytes);
  const { attention, shareLayers } = variantOf(spec);
  io.stdout(`Wrote ${ref} (${spec.kind}, ${spec.layers} layers, hidden ${spec.hidden}, attention ${attention}, share-layers ${shareLayers}; ${formatCount(summarizeModel(model).params)} params) to ${file}: ${formatBytes(bytes.length)}`);
  return 0;
}

async function reportCommand(args: ParsedArgs, io: CliIO): Promise<number> {
  if (args.positionals.length !== 1) throw new TwbError('usage', 'twb report needs one result document (the JSON written by twb profile, train, sweep, quantize, prune, pipeline or memory-plan with --json)');
  const input = path.resolve(io.cwd, args.positionals[0]);
  let text: string;
  try {
    text = await fs.readFile(input, 'utf8');
  } catch {
    throw new TwbError('io', `run file "${args.positionals[0]}" cannot be read`);
  }
  let doc;
  try {
    doc = parseDocumentJson(text);
  } catch (e) {
    throw new TwbError('io', `"${args.positionals[0]}": ${(e as Error).message}`, 'twb report reads the JSON that twb profile, train, sweep, quantize or prune write with --json.');
  }
  const out = path.resolve(io.cwd, (args.options.out as string | undefined) ?? input.replace(/\.json$/i, '') + '.html');
  const html = renderDocumentReport(doc);
  await writeFileAtomic(out, html);
  io.stdout(`Report written to ${out} (${formatBytes(html.length)}; opens offline in any browser)`);
  return 0;
}

async function compressCommand(command: 'quantize' | 'prune', args: ParsedArgs, io: CliIO, signal?: AbortSignal): Promise<number> {
  const o = args.options;
  if (args.positionals.length !== 1) throw new TwbError('usage', `twb ${command} needs one model: a path to an .onnx file or builtin:NAME`);
  const mode = (command === 'quantize' ? o.mode : o.method) as string | undefined;
  if (!mode) throw new TwbError('usage', command === 'quantize' ? 'twb quantize needs --mode int8-dynamic|int8-static|int4-weight|fp16' : 'twb prune needs --method magnitude|2:4|heads');
  if (!o.out) throw new TwbError('usage', `twb ${command} needs --out FILE.onnx`);
  const resolve = (f: unknown) => (typeof f === 'string' ? path.resolve(io.cwd, f) : undefined);
  const request: CompressRequest = {
    model: isBuiltinRef(args.positionals[0]) ? args.positionals[0] : path.resolve(io.cwd, args.positionals[0]),
    mode: mode as CompressRequest['mode'],
    out: path.resolve(io.cwd, o.out as string),
    exclude: ((o.exclude as string[] | undefined) ?? []).flatMap((e) => e.split(',')).map((e) => e.trim()).filter(Boolean),
    perChannel: o['per-channel'] === true ? true : undefined,
    calibrationFile: resolve(o.calibration),
    evalFile: resolve(o.eval),
    calibrate: o.calibrate as CompressRequest['calibrate'],
    method: command === 'quantize' ? (o.method as CompressRequest['method']) : undefined,
    blockSize: o['block-size'] as number | undefined,
    amount: o.amount as number | undefined,
    executionProvider: o.ep as string | undefined,
    threads: o.threads as number | undefined,
    batch: o.batch as number | undefined,
    seq: o.seq as number | undefined,
    runs: o.runs as number | undefined,
    seed: o.seed as number | undefined,
  };
  const onProgress = o.quiet ? undefined : (p: CompressProgress) => io.status(p.message);
  let report;
  try {
    report = await compressModel(request, defaultCompressDeps({ onProgress, signal }));
  } finally {
    io.status(null);
  }
  io.stdout(formatCompressionReport(report, (o.top as number | undefined) ?? 15));
  await keepDocument(report, args.options, io, 'Report');
  return 0;
}

async function epsCommand(io: CliIO): Promise<number> {
  for (const s of await providerStatuses(probeModelBytes())) {
    io.stdout(`${s.name.padEnd(7)} ${s.available ? 'available' : `unavailable: ${s.reason}`}`);
  }
  return 0;
}

if (require.main === module) {
  const controller = new AbortController();
  let interrupted = false;
  process.on('SIGINT', () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write('\ntwb: stopping after the current run or training step (Ctrl-C again to quit now)\n');
    controller.abort();
  });
  // `twb … | head` closes the pipe early: that is the reader's choice, not a failure.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
  const tty = Boolean(process.stderr.isTTY);
  let lastStatus = '';
  const io: CliIO = {
    stdout: (s) => process.stdout.write(`${s}\n`),
    stderr: (s) => process.stderr.write(`${s}\n`),
    // A terminal redraws one line; a log gets a line only when the phase changes.
    status: (line) => {
      if (tty) process.stderr.write(line === null ? '\r\x1b[K' : `\r\x1b[K${line.slice(0, (process.stderr.columns ?? 80) - 1)}`);
      else if (line !== null && line.split(' ')[0] !== lastStatus) {
        lastStatus = line.split(' ')[0];
        process.stderr.write(`… ${line}\n`);
      }
    },
    cwd: process.cwd(),
  };
  runCli(process.argv.slice(2), io, controller.signal).then((code) => {
    process.exitCode = code;
  });
}
