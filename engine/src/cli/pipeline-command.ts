/** `twb pipeline`: plan, simulate and optionally measure a pipeline-parallel schedule. */
import * as os from 'node:os';
import * as path from 'node:path';
import type { OptionSpec, ParsedArgs } from './args';
import { CliIO, keepDocument, withStatus } from './io';
import { formatPipelinePlan } from './pipeline-report';
import { isBuiltinRef } from '../model/spec';
import { parseSchedule, PipelineProgress, planPipelineRequest } from '../pipeline/planner';
import { TwbError } from '../util/errors';

export const PIPELINE_OPTIONS: Record<string, OptionSpec> = {
  stages: { kind: 'int', arg: 'P', help: 'pipeline stages (default 2)' },
  microbatches: { kind: 'int', arg: 'M', help: 'micro-batches per step (default 8)' },
  schedule: { kind: 'string', arg: 'gpipe|1f1b|interleaved:V|zb-h1', help: 'pipeline schedule (default 1f1b)' },
  'comm-us': { kind: 'number', arg: 'N', help: 'time per hop between stages in the simulation, microseconds (default 0)' },
  uniform: { kind: 'flag', help: 'give every layer the same cost instead of profiling (the textbook setting)' },
  measure: { kind: 'flag', help: 'also run the pipeline for real: each stage a sub-model in its own worker and ORT session (forward only)' },
  batch: { kind: 'int', arg: 'N', help: 'micro-batch size for profiling and --measure (default 1)' },
  seq: { kind: 'int', arg: 'N', help: 'sequence length for profiling and --measure (default 128)' },
  ep: { kind: 'string', arg: 'cpu|webgpu|cuda', help: 'execution provider for profiling and --measure (default cpu)' },
  seed: { kind: 'int', arg: 'N', help: 'seed for inputs and built-in weights (default 0)' },
  json: { kind: 'string', arg: 'FILE', help: 'write the plan (JSON) to FILE' },
  save: { kind: 'flag', help: 'also keep the plan in .twb/runs/ of the current folder' },
  quiet: { kind: 'flag', help: 'print no progress' },
  debug: { kind: 'flag', help: 'print stack traces of failures' },
};

export async function pipelineCommand(args: ParsedArgs, io: CliIO, signal?: AbortSignal): Promise<number> {
  const o = args.options;
  if (args.positionals.length !== 1) throw new TwbError('usage', 'twb pipeline needs one model (builtin:NAME or an .onnx file) or a run written with --json (inference or training)');
  const source = args.positionals[0];
  const { schedule, chunks } = parseSchedule((o.schedule as string | undefined) ?? '1f1b');
  const plan = await withStatus(
    io,
    (onProgress: (p: PipelineProgress) => void) =>
      planPipelineRequest(
        {
          source: isBuiltinRef(source) ? source : path.resolve(io.cwd, source),
          schedule,
          chunks,
          stages: (o.stages as number | undefined) ?? 2,
          microbatches: (o.microbatches as number | undefined) ?? 8,
          commUs: (o['comm-us'] as number | undefined) ?? 0,
          uniform: o.uniform === true,
          measure: o.measure === true,
          batch: (o.batch as number | undefined) ?? 1,
          seq: (o.seq as number | undefined) ?? 128,
          executionProvider: (o.ep as string | undefined) ?? 'cpu',
          seed: (o.seed as number | undefined) ?? 0,
        },
        { now: () => new Date(), cpuCount: os.cpus().length, signal, onProgress: o.quiet ? undefined : onProgress },
      ),
    (p) => `${p.phase} ${Math.round(p.fraction * 100)}% ${p.message}`,
  );
  io.stdout(formatPipelinePlan(plan));
  await keepDocument(plan, o, io, '\nPipeline plan');
  return 0;
}
