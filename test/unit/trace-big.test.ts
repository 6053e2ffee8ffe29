/**
 * Streaming a trace larger than the memory the reader is allowed (issue #8 points 2 and 8): a
 * synthetic Kineto-like trace of 512 MiB is written to a temporary folder, plain and gzip, then each
 * is read in a child process whose V8 heap is capped at 64 MiB. The child must read every event, and
 * its peak resident memory must stay well below the size of the JSON (a reader that held the text
 * or the events could not). The whole import (columns and analyses) of the same file runs in a child
 * too, plain (read on several threads) and gzip, with every event in its operator table and its
 * peak below three quarters of the file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { REPO_ROOT } from './helpers/paths';

/** Bytes of JSON: the child's baseline (node + tsx) is ~75 MB, so the file is made big enough that a third of it is well above that. */
const TARGET_BYTES = 512 * 1024 * 1024;
const dir = mkdtempSync(path.join(os.tmpdir(), 'twb-trace-big-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

/** One event in Kineto's layout (two-space indent, one key group per line), ~330 bytes. */
function event(k: number): string {
  return `  {
    "ph": "X", "cat": "cpu_op", "name": "aten::addmm ${k % 97} \\"µs\\"", "pid": 783658, "tid": ${785244 + (k % 3)},
    "ts": ${1669783687464181 + k * 7}.${k % 1000}, "dur": ${k % 50},
    "args": {
      "External id": ${k},"Ev Idx": ${k % 4096}, "Input Dims": [[8, 512], [512, 512], []], "Sequence number": ${k % 1573}
    }
  }`;
}

const EVENTS_PER_BLOCK = 10_000;

/**
 * Writes the trace twice, plain and gzip, one block of events at a time (the test process must not
 * hold it either). Building the text is the slow part, so one block is built and written again and
 * again; the gzip file is then one gzip member per block, which gunzip must follow too.
 */
function writeTrace(plainFile: string, gzipFile: string): { events: number; idSum: number } {
  const plain = openSync(plainFile, 'w');
  const gz = openSync(gzipFile, 'w');
  const write = (bytes: Buffer, zipped = gzipSync(bytes, { level: 1 })) => {
    writeSync(plain, bytes);
    writeSync(gz, zipped);
    return bytes.length;
  };
  const body = Array.from({ length: EVENTS_PER_BLOCK }, (_, k) => event(k)).join(',\n');
  const first = Buffer.from(body);
  const next = Buffer.from(`,\n${body}`);
  const nextZipped = gzipSync(next, { level: 1 });
  let written = write(Buffer.from('{\n  "schemaVersion": 1,\n  "distributedInfo": {"backend": "nccl", "rank": 0, "world_size": 8},\n  "traceEvents": [\n'));
  written += write(first);
  let blocks = 1;
  for (; written < TARGET_BYTES; blocks++) written += write(next, nextZipped);
  write(Buffer.from('\n  ],\n  "traceName": "synthetic"\n}\n'));
  closeSync(plain);
  closeSync(gz);
  return { events: blocks * EVENTS_PER_BLOCK, idSum: (blocks * EVENTS_PER_BLOCK * (EVENTS_PER_BLOCK - 1)) / 2 };
}

interface ChildReport {
  events: number;
  idSum: number;
  maxRssKiB: number;
  startRssKiB: number;
  result: { gzip: boolean; jsonBytes: number; truncated?: unknown; warnings: string[] };
}

function readInChild(file: string, mode: 'read' | 'import' = 'read'): ChildReport {
  const out = execFileSync(process.execPath, ['--max-old-space-size=64', '--import', 'tsx', path.join(__dirname, 'helpers/trace-big-child.ts'), file, mode], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  return JSON.parse(out) as ChildReport;
}

test('a trace larger than the memory allowed streams through with every event, plain and gzip', (t) => {
  const plainFile = path.join(dir, 'big.pt.trace.json');
  const gzipFile = path.join(dir, 'big.pt.trace.json.gz');
  const { events, idSum } = writeTrace(plainFile, gzipFile);
  const jsonBytes = statSync(plainFile).size;
  for (const file of [plainFile, gzipFile]) {
    const got = readInChild(file);
    assert.equal(got.result.gzip, file === gzipFile);
    assert.equal(got.events, events);
    assert.equal(got.idSum, idSum, 'the sum of the events\' "External id"');
    assert.equal(got.result.jsonBytes, jsonBytes);
    assert.equal(got.result.truncated, undefined);
    assert.deepEqual(got.result.warnings, []);
    const mib = (kib: number) => `${(kib / 1024).toFixed(0)} MiB`;
    const what = `${path.basename(file)}: peak RSS ${mib(got.maxRssKiB)} (${mib(got.startRssKiB)} before reading) for ${mib(jsonBytes / 1024)} of JSON`;
    t.diagnostic(what);
    assert.ok(got.maxRssKiB * 1024 < jsonBytes / 3, what);
  }
  // The whole import keeps ~40 bytes of columns per event and the analyses' indices: it grows with
  // the events, not with the text, and stays well below the file.
  // The plain file is read on several threads (parallel-read.ts): each holds a range's columns until
  // they are appended, in file order, so memory still grows with the events only.
  for (const file of [gzipFile, plainFile]) {
    const imported = readInChild(file, 'import') as unknown as { events: number; calls: number; names: number; maxRssKiB: number; startRssKiB: number };
    assert.equal(imported.events, events);
    assert.equal(imported.calls, events, 'every cpu_op counted once in the operator table');
    assert.equal(imported.names, 97);
    const what = `whole import of ${path.basename(file)}: peak RSS ${(imported.maxRssKiB / 1024).toFixed(0)} MiB for ${(jsonBytes / 2 ** 20).toFixed(0)} MiB of JSON`;
    t.diagnostic(what);
    assert.ok(imported.maxRssKiB * 1024 < jsonBytes * 0.75, what);
  }
});
