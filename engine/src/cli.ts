/**
 * `twb`: the headless front end of the engine. Exit codes: 0 success, 1 the run failed (one clear
 * line on stderr; the stack only with --debug), 2 bad usage, 130 interrupted.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { renderRunReport } from './export/html-report';
import { parseRunJson } from './schema/validate-run';
import { formatOptions, OptionSpec, parseArgs, ParsedArgs } from './cli/args';
import { formatRunReport } from './cli/report';
import { PRESETS, BUILTIN_PREFIX, isBuiltinRef, presetSpec } from './model/spec';
import { buildTransformer } from './model/transformer';
import { encodeModel } from './onnx/codec';
import { probeModelBytes } from './model/probe';
import { defaultDeps, profileInference, ProfileProgress } from './profile/profiler';
import { ProfileRequest } from './schema/config';
import { parseDimAssignment } from './runtime/dims';
import { providerStatuses } from './runtime/ort';
import { TwbError } from './util/errors';
import { writeFileAtomic } from './util/atomic-write';
import { formatBytes } from './util/format';
import { version } from '../../package.json';

export interface CliIO {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** Shows a transient status line (a terminal redraws it in place); null clears it. */
  status: (line: string | null) => void;
  cwd: string;
}


const PROFILE_OPTIONS: Record<string, OptionSpec> = {
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
  json: { kind: 'string', arg: 'FILE', help: 'write the Run document (JSON) to FILE' },
  save: { kind: 'flag', help: 'also keep the run in .twb/runs/ of the current folder' },
  top: { kind: 'int', arg: 'N', help: 'rows in the printed tables (default 15)' },
  quiet: { kind: 'flag', help: 'print no progress' },
  debug: { kind: 'flag', help: 'print stack traces of failures' },
};

const MODEL_OPTIONS: Record<string, OptionSpec> = {
  out: { kind: 'string', arg: 'FILE.onnx', help: 'where to write the model (required)' },
  seed: { kind: 'int', arg: 'N', help: 'weight-init seed (default 0); same seed, same bytes' },
  debug: { kind: 'flag', help: 'print stack traces of failures' },
};

const REPORT_OPTIONS: Record<string, OptionSpec> = {
  out: { kind: 'string', arg: 'FILE.html', help: 'where to write the report (default: beside the run, .html)' },
  debug: { kind: 'flag', help: 'print stack traces of failures' },
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
    '  twb report <run.json> [--out FILE.html]              write a self-contained HTML report of a run',
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
      case 'report':
        return await reportCommand(parseArgs(rest, REPORT_OPTIONS, 'report'), io);
      case 'eps':
        parseArgs(rest, EPS_OPTIONS, 'eps');
        return await epsCommand(io);
      default:
        throw new TwbError('usage', `unknown command "${command}"; expected one of: profile, model, report, eps, help`);
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
  if (args.positionals.length !== 1) {
    throw new TwbError('usage', args.positionals.length === 0 ? 'twb profile needs a model: a path to an .onnx file or builtin:NAME' : `twb profile takes one model, got ${args.positionals.length}: ${args.positionals.join(' ')}`);
  }
  const dims: Record<string, number> = {};
  for (const d of (o.dim as string[] | undefined) ?? []) {
    const [name, value] = parseDimAssignment(d);
    dims[name] = value;
  }
  const request: Partial<ProfileRequest> & { model: string } = {
    model: args.positionals[0],
    executionProvider: o.ep as string | undefined,
    threads: o.threads as number | undefined,
    optLevel: o['opt-level'] as string | undefined,
    batch: o.batch as number | undefined,
    seq: o.seq as number | undefined,
    past: o.past as number | undefined,
    dims,
    warmup: o.warmup as number | undefined,
    runs: o.runs as number | undefined,
    profiledRuns: o['profiled-runs'] as number | undefined,
    seed: o.seed as number | undefined,
  };
  const onProgress = o.quiet ? undefined : (p: ProfileProgress) => io.status(p.message);
  let run;
  try {
    run = await profileInference(request, defaultDeps({ onProgress, signal }));
  } finally {
    io.status(null);
  }
  io.stdout(formatRunReport(run, (o.top as number | undefined) ?? 15));
  const json = JSON.stringify(run, null, 1);
  if (o.json) {
    const file = path.resolve(io.cwd, o.json as string);
    await writeFileAtomic(file, json);
    io.stdout(`\nRun written to ${file}`);
  }
  if (o.save) {
    const file = path.join(io.cwd, '.twb', 'runs', `${run.id}.json`);
    await writeFileAtomic(file, json);
    io.stdout(`Run kept in ${file}`);
  }
  return 0;
}

async function modelCommand(args: ParsedArgs, io: CliIO): Promise<number> {
  const [ref, ...extra] = args.positionals;
  if (!ref) throw new TwbError('usage', 'twb model needs a built-in model name, e.g. builtin:tiny-gpt');
  if (extra.length > 0) throw new TwbError('usage', `twb model takes one model, got extra arguments: ${extra.join(' ')}`);
  if (!isBuiltinRef(ref)) throw new TwbError('usage', `twb model writes built-in models only; "${ref}" does not start with ${BUILTIN_PREFIX}`);
  const out = args.options.out as string | undefined;
  if (!out) throw new TwbError('usage', 'twb model needs --out FILE.onnx');
  const spec = presetSpec(ref);
  const bytes = encodeModel(buildTransformer(spec, { seed: (args.options.seed as number | undefined) ?? 0, name: ref.slice(BUILTIN_PREFIX.length) }));
  const file = path.resolve(io.cwd, out);
  await writeFileAtomic(file, bytes);
  io.stdout(`Wrote ${ref} (${spec.kind}, ${spec.layers} layers, hidden ${spec.hidden}) to ${file}: ${formatBytes(bytes.length)}`);
  return 0;
}

async function reportCommand(args: ParsedArgs, io: CliIO): Promise<number> {
  if (args.positionals.length !== 1) throw new TwbError('usage', 'twb report needs one Run document (the JSON written by twb profile --json)');
  const input = path.resolve(io.cwd, args.positionals[0]);
  let text: string;
  try {
    text = await fs.readFile(input, 'utf8');
  } catch {
    throw new TwbError('io', `run file "${args.positionals[0]}" cannot be read`);
  }
  let run;
  try {
    run = parseRunJson(text);
  } catch (e) {
    throw new TwbError('io', `"${args.positionals[0]}": ${(e as Error).message}`, 'twb report reads the Run document that twb profile --json writes.');
  }
  const out = path.resolve(io.cwd, (args.options.out as string | undefined) ?? input.replace(/\.json$/i, '') + '.html');
  const html = renderRunReport(run);
  await writeFileAtomic(out, html);
  io.stdout(`Report written to ${out} (${formatBytes(html.length)}; opens offline in any browser)`);
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
    process.stderr.write('\ntwb: stopping after the current run (Ctrl-C again to quit now)\n');
    controller.abort();
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
