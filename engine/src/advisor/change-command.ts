/**
 * The exact `twb` command that makes a suggested change and measures it, with the options that
 * reproduce the source's own setting (shape, threads, provider), so the measured figure compares
 * with the estimate; for a code change (advice on an imported trace), where to edit and how to
 * check. Pure string building.
 */
import * as path from 'node:path';
import type { Change, CodeChange, PassChange } from '../schema/advice';
import type { RunConfig } from '../schema/run';
import type { AdvisableDocument } from './rules/types';
import { TwbError } from '../util/errors';

/** Quotes an argument for a POSIX shell when it needs it. */
export function shellArg(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

const line = (parts: Array<string | number | undefined | false>) =>
  parts.filter((p): p is string | number => p !== undefined && p !== false).map((p) => shellArg(String(p))).join(' ');

/** `tiny-bert.int8-dynamic.onnx` beside a file model, or in the current folder for a built-in. */
function outName(source: string, mode: string): string {
  const base = source.startsWith('builtin:') ? source.slice('builtin:'.length) : path.basename(source).replace(/\.onnx$/i, '');
  return `${base}.${mode.replace(':', '-')}.onnx`;
}

/** The `twb profile` options of a run config (defaults left out). */
function profileOptions(c: RunConfig): Array<string | number> {
  const o: Array<string | number> = [];
  if (c.executionProvider !== 'cpu') o.push('--ep', c.executionProvider);
  if (c.threads > 0) o.push('--threads', c.threads);
  if (c.optLevel !== 'all') o.push('--opt-level', c.optLevel);
  if (c.batch !== 1) o.push('--batch', c.batch);
  if (c.seq !== 128) o.push('--seq', c.seq);
  if (c.past !== 0) o.push('--past', c.past);
  for (const [name, v] of Object.entries(c.dims ?? {})) o.push('--dim', `${name}=${v}`);
  if (c.attention && c.attention !== 'dense') o.push('--attention', c.attention);
  if (c.shareLayers && c.shareLayers !== 'none') o.push('--share-layers', c.shareLayers);
  return o;
}

function passCommand(source: string, c: RunConfig, change: PassChange): string {
  const p = change.config;
  const prune = p.mode === 'magnitude' || p.mode === '2:4' || p.mode === 'heads';
  return line([
    'twb',
    prune ? 'prune' : 'quantize',
    source,
    prune ? '--method' : '--mode',
    p.mode,
    p.perChannel && '--per-channel',
    p.calibrate && '--calibrate',
    p.calibrate,
    p.method && '--method',
    p.method,
    p.blockSize !== undefined && '--block-size',
    p.blockSize,
    p.amount !== undefined && '--amount',
    p.amount,
    c.executionProvider !== 'cpu' && '--ep',
    c.executionProvider !== 'cpu' && c.executionProvider,
    c.threads > 0 && '--threads',
    c.threads > 0 && c.threads,
    '--batch',
    c.batch,
    '--seq',
    c.seq,
    '--out',
    outName(source, p.mode),
  ]);
}

/**
 * A change to the user's own program has nothing to run: the command says where to edit and how
 * to check the result (record again, then read the new trace the same way).
 */
function codeCommand(change: CodeChange): string {
  return `edit ${change.where} (paste the snippet), record the trace again, then: twb suggest NEW_TRACE`;
}

export function commandFor(doc: AdvisableDocument, change: Change): string {
  if (change.kind === 'code') return codeCommand(change);
  if (doc.kind === 'inference') {
    const run = doc.run;
    if (change.kind === 'pass') return passCommand(run.model.source, run.config, change);
    if (change.kind === 'config') return line(['twb', 'profile', run.model.source, ...profileOptions({ ...run.config, ...change.patch })]);
  }
  if (doc.kind === 'training' && change.kind === 'config') {
    const r = doc.run;
    const attention = change.patch.attention ?? r.variant.attention;
    const share = change.patch.shareLayers ?? r.variant.shareLayers;
    return line([
      'twb', 'train', r.model,
      ...(r.config.textFile ? ['--text', r.config.textFile] : ['--task', r.config.task]),
      '--steps', r.config.steps,
      '--batch', change.patch.batch ?? r.config.batch,
      '--seq', change.patch.seq ?? r.config.seq,
      attention !== 'dense' && '--attention', attention !== 'dense' && attention,
      share !== 'none' && '--share-layers', share !== 'none' && share,
    ]);
  }
  if (doc.kind === 'pipeline' && change.kind === 'pipeline') {
    const p = doc.plan;
    const schedule = change.schedule === 'interleaved' ? `interleaved:${change.chunks}` : change.schedule;
    // The source of the costs: the model to profile again, or the kept run the plan was made from.
    const source = p.modelSource ?? p.model;
    return line([
      'twb', 'pipeline', source,
      '--stages', change.stages, '--microbatches', change.microbatches, '--schedule', schedule,
      p.costSource.kind === 'uniform' && '--uniform',
      p.commUs > 0 && '--comm-us', p.commUs > 0 && Math.round(p.commUs),
      p.batch !== 1 && '--batch', p.batch !== 1 && p.batch,
      p.seq !== 128 && '--seq', p.seq !== 128 && p.seq,
    ]);
  }
  if (doc.kind === 'memory-plan' && change.kind === 'zero') {
    const i = doc.plan.input;
    return line([
      'twb', 'memory-plan', '--params', i.params, '--gpus', change.gpus, '--zero', change.zeroStage,
      i.microBatch !== undefined && '--micro-batch', i.microBatch,
      i.seq !== undefined && '--seq', i.seq,
      i.hidden !== undefined && '--hidden', i.hidden,
      i.layers !== undefined && '--layers', i.layers,
      i.heads !== undefined && '--heads', i.heads,
      i.checkpointing && '--checkpointing',
    ]);
  }
  // A rule pairs each change kind with the document kinds above; anything else is a bug in a rule.
  throw new TwbError('internal', `no command for a ${change.kind} change of ${doc.kind === 'inference' || doc.kind === 'training' ? `a ${doc.kind} run` : `a ${doc.kind}`}`);
}
