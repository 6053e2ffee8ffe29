/**
 * `twb import` end to end in this process (issue #8 point 6): the printed report, the TraceRun JSON
 * it writes (which validates and carries what the issue asks for), one clear line and exit 1 for
 * files that are not traces, usage errors, and cancellation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseTraceRun, validateTraceRun } from '../../engine/src/schema/validate-trace';
import { runTwb } from './helpers/cli';
import { REALDATA } from './helpers/paths';

const dir = mkdtempSync(path.join(os.tmpdir(), 'twb-trace-cli-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const twb = (...args: string[]) => runTwb(dir, args);
const TRACES = path.join(REALDATA, 'traces');

test('twb import prints the report and writes a TraceRun that validates', async () => {
  const r = await twb('import', path.join(TRACES, 'hta/nccl_a100_rank0_nccl_data.json.gz'), '--json', 'nccl.json', '--top', '3', '--save');
  assert.equal(r.code, 0, r.stderr);
  for (const line of [/^Trace nccl_a100_rank0_nccl_data\.json\.gz: PyTorch profiler \(Kineto\) trace, .* gzip \(9\.33 MiB JSON\), 40573 events$/m, /^Devices: 8 × NVIDIA A100-PG509-200$/m, /^Distributed: rank 0 of 2, backend nccl$/m, /^Span .*; 3 steps \(mean .*\)$/m, /^Host ops by self time:$/m, /^GPU kernels by time:$/m, /^ncclKernel_AllReduce.* communication .* nccl:all_reduce$/m, /^GPU 0: \d+\.\d% busy over/m, /^Communication .* of communication overlapped with computation/m]) {
    assert.match(r.stdout, line);
  }
  const doc = parseTraceRun(readFileSync(path.join(dir, 'nccl.json'), 'utf8'));
  assert.equal(doc.kind, 'trace');
  assert.equal(doc.source.file, path.join(TRACES, 'hta/nccl_a100_rank0_nccl_data.json.gz'));
  assert.ok(doc.opTypes.length > 0 && doc.opTypes.every((o) => typeof o.opType === 'string' && o.calls > 0 && o.totalUs >= 0 && typeof o.selfUs === 'number'));
  assert.ok(doc.kernels.length > 0 && doc.kernels.every((k) => k.calls > 0 && k.totalUs >= 0));
  assert.deepEqual(doc.distributed, { rank: 0, worldSize: 2, backend: 'nccl' });
  const kept = readdirSync(path.join(dir, '.twb', 'runs'));
  assert.deepEqual(kept, [`${doc.id}.json`]);
  // --top bounds the printed tables.
  const hostRows = r.stdout.split('Host ops by self time:')[1].split('\n\n')[0].trim().split('\n');
  assert.equal(hostRows.length, 2 + 3);
});

test('a trace with memory events reports the peak; its JSON carries memory.peakBytes and the timeline', async () => {
  const r = await twb('import', path.join(TRACES, 'hta/memory_events_v100_nccl_rank1_df_index_resolver.json.gz'), '--json', 'mem.json', '--quiet');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Memory peak 6\.17 GiB on cuda:1 at /m);
  assert.deepEqual(r.status, [], '--quiet: no progress');
  const doc = validateTraceRun(JSON.parse(readFileSync(path.join(dir, 'mem.json'), 'utf8')));
  assert.equal(doc.memory!.peakBytes, 6629508096);
  assert.ok(doc.memory!.timeline.length > 100);
});

test('progress appears for big files and cancellation stops the import with exit 130', async () => {
  const big = path.join(TRACES, 'kineto/resnet50_v100_worker0.1623143089861.pt.trace.json.gz');
  const controller = new AbortController();
  const r = await runTwb(dir, ['import', big], { signal: controller.signal, onStatus: () => controller.abort() });
  assert.equal(r.code, 130, r.stderr);
  assert.ok(r.status.length >= 1 && /^reading resnet50_v100_worker0\.1623143089861\.pt\.trace\.json\.gz \d+\.\d%/.test(r.status[0]), r.status.join('\n'));
  assert.match(r.stderr, /cancelled/);
  assert.equal(r.stdout, '');
});

test('a file that is not a trace: exit 1 and one line saying what it is', async () => {
  for (const [file, what] of [
    ['hta/not_chrome_trace/simple_add_execution_trace_et.json.gz', /PyTorch execution trace/],
    ['hta/not_chrome_trace/memory_timeline.raw.gz', /memory-timeline export/],
  ] as const) {
    const r = await twb('import', path.join(TRACES, file), '--json', 'never.json');
    assert.equal(r.code, 1, file);
    assert.equal(r.stderr.split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^twb: ".*" is not a trace: /);
    assert.match(r.stderr, what);
    assert.equal(r.stdout, '');
  }
  writeFileSync(path.join(dir, 'notes.json'), JSON.stringify({ hello: 'world' }));
  const obj = await twb('import', 'notes.json');
  assert.equal(obj.code, 1);
  assert.match(obj.stderr, /without a "traceEvents" array \(top-level keys: "hello"\)/);
  assert.ok(!readdirSync(dir).includes('never.json'), 'nothing written');
});

test('usage errors exit 2 and name the problem', async () => {
  const none = await twb('import');
  assert.equal(none.code, 2);
  assert.match(none.stderr, /twb import needs one trace file/);
  const missing = await twb('import', 'nope.pt.trace.json');
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /nope\.pt\.trace\.json/);
  const help = await twb('help');
  assert.match(help.stdout, /twb import <trace> \[--json FILE\] \[--top N\]/);
  assert.match(help.stdout, /twb import options:/);
  assert.match(help.stdout, /--threads N/);
  const threads = await twb('import', 'nope.pt.trace.json', '--threads', '0');
  assert.equal(threads.code, 2);
  assert.match(threads.stderr, /--threads must be at least 1, got 0/);
});
