/**
 * Trace import benchmark (issue #8 point 7): `importTrace` of the 51 MiB realdata Kineto trace
 * against a plain `JSON.parse` of the same unzipped bytes, alternated over rounds in one process
 * (goal ≤ 1.5×). The import starts from the unzipped JSON file on disk (streamed, parsed on the
 * machine's threads, collected and analysed); the baseline is `JSON.parse(bytes.toString('utf8'))`
 * of the same bytes already in memory, which pays no read. Beside it, for judging: JSON.parse of
 * the decoded text (no decode either), `JSON.parse(readFileSync(file, 'utf8'))`, the import on one
 * thread, the import of the original .gz (gunzip included; gzip is always read on one thread), and
 * the one-thread stream reader alone (no-op
 * consumer). Then the peak memory of an import in a fresh child process against the unzipped size,
 * beside the same child's memory when it only loads the code, and when it JSON.parses the file.
 *
 * Run alone: `node --import tsx bench/trace-import.ts`; `runTraceImportBench()` is for bench/run.ts.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { gunzipSync } from 'node:zlib';
import { importTrace } from '../engine/src/trace/import';
import { parallelThreads } from '../engine/src/trace/parallel-read';
import { readTraceEvents } from '../engine/src/trace/read-trace';
import { formatBytes } from '../engine/src/util/format';
import { percentile } from '../engine/src/util/stats';
import type { BenchRow } from './timeline';

const TRACE = path.resolve(__dirname, '../../shared/realdata/traces/hta/memory_events_v100_nccl_rank1_df_index_resolver.json.gz');
const ROUNDS = Number(process.env.TWB_BENCH_ROUNDS ?? 3);

type ChildMode = 'import' | 'parse' | 'idle';

/**
 * A full garbage collection before each timed section, so that neither side pays for collecting
 * the other's garbage (JSON.parse of the whole file leaves ~300 MiB of objects behind).
 */
function collectGarbage(): void {
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
}

/** In a child: do one thing to the trace and print the process's peak RSS (bytes). */
async function child(mode: ChildMode, file: string): Promise<void> {
  if (mode === 'import') await importTrace(file);
  else if (mode === 'parse') JSON.parse(gunzipSync(readFileSync(file)).toString('utf8'));
  process.stdout.write(`${peakRssBytes()}\n`);
}

/**
 * This process's peak resident memory. VmHWM belongs to the address space exec made, while
 * getrusage's maxrss can keep the parent's high-water mark from before exec (so every child would
 * report at least the size of the bench process that spawned it).
 */
function peakRssBytes(): number {
  try {
    const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (hwm) return Number(hwm[1]) * 1024;
  } catch {
    // not Linux: fall back to getrusage
  }
  return process.resourceUsage().maxRSS * 1024;
}

function peakRss(mode: ChildMode): number {
  const r = spawnSync(process.execPath, ['--import', 'tsx', __filename, '--child', mode, TRACE], { encoding: 'utf8', cwd: path.resolve(__dirname, '..') });
  const bytes = Number(r.stdout.trim().split('\n').pop());
  if (r.status !== 0 || !Number.isFinite(bytes)) throw new Error(`trace-import child (${mode}) failed: ${r.stderr.trim().split('\n').pop()}`);
  return bytes;
}

export async function runTraceImportBench(): Promise<BenchRow[]> {
  const bytes = gunzipSync(readFileSync(TRACE));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'twb-bench-trace-'));
  const json = path.join(dir, path.basename(TRACE, '.gz'));
  writeFileSync(json, bytes);
  try {
    return await timeImports(json, bytes.length);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function timeImports(json: string, jsonBytes: number): Promise<BenchRow[]> {
  const bytes = readFileSync(json);
  const text = bytes.toString('utf8');
  const ms = { parseFile: [] as number[], parseBytes: [] as number[], parseText: [] as number[], importJson: [] as number[], importOne: [] as number[], importGz: [] as number[], read: [] as number[] };
  let events = 0;
  const timed = async (into: number[], work: () => unknown) => {
    collectGarbage();
    const t = performance.now();
    await work();
    into.push(performance.now() - t);
  };
  // One untimed import first: the first round would otherwise also time the JIT warming up.
  await importTrace(json);
  for (let r = 0; r < ROUNDS; r++) {
    await timed(ms.parseFile, () => (events = (JSON.parse(readFileSync(json, 'utf8')) as { traceEvents: unknown[] }).traceEvents.length));
    await timed(ms.importJson, () => importTrace(json));
    await timed(ms.parseText, () => JSON.parse(text));
    await timed(ms.parseBytes, () => JSON.parse(bytes.toString('utf8')));
    await timed(ms.importOne, () => importTrace(json, { parallel: { threads: 1 } }));
    await timed(ms.importGz, () => importTrace(TRACE));
    await timed(ms.read, () => readTraceEvents(json, { onEvents: () => undefined }));
  }
  const median = (xs: number[]) => percentile(xs, 50);
  const per = (xs: number[], base: number[]) => (median(xs) / median(base)).toFixed(2);
  const rounds = (xs: number[]) => xs.map((x) => x.toFixed(0)).join('/');
  const [imported, parsed, idle] = (['import', 'parse', 'idle'] as const).map(peakRss);
  return [
    {
      name: '(i) trace import / JSON.parse of the same bytes, 51 MiB Kineto trace',
      value: (median(ms.importJson) / median(ms.parseBytes)).toFixed(3),
      goal: '≤ 1.5',
      detail:
        `import of the unzipped file ${median(ms.importJson).toFixed(0)} ms (${events} events; read, collected and analysed; ${parallelThreads()} threads) vs JSON.parse of its bytes already in memory (decoded, then parsed) ${median(ms.parseBytes).toFixed(0)} ms; ` +
        `the import is ${per(ms.importJson, ms.parseFile)}× JSON.parse(readFileSync) of the file (${median(ms.parseFile).toFixed(0)} ms) and ${per(ms.importJson, ms.parseText)}× JSON.parse of the decoded text (${median(ms.parseText).toFixed(0)} ms); ` +
        `against the bytes, the import on one thread (${median(ms.importOne).toFixed(0)} ms) is ${per(ms.importOne, ms.parseBytes)}×, the import of the .gz (one thread, gunzip included, ${median(ms.importGz).toFixed(0)} ms) ${per(ms.importGz, ms.parseBytes)}×, the one-thread stream reader alone (${median(ms.read).toFixed(0)} ms) ${per(ms.read, ms.parseBytes)}×; ` +
        `medians of ${ROUNDS} rounds, full GC before each; rounds import ${rounds(ms.importJson)} vs parse ${rounds(ms.parseBytes)} ms`,
    },
    {
      name: '(i) trace import peak RSS / unzipped size',
      value: (imported / jsonBytes).toFixed(3),
      goal: 'report',
      detail: `child peak RSS ${formatBytes(imported)} for ${formatBytes(jsonBytes)} of JSON; the same child only loading the code ${formatBytes(idle)} (import adds ${formatBytes(imported - idle)}), JSON.parse of the whole file ${formatBytes(parsed)}`,
    },
  ];
}

if (require.main === module) {
  if (process.argv[2] === '--child') {
    child(process.argv[3] as ChildMode, process.argv[4]).catch((e) => {
      process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 1;
    });
  } else {
    runTraceImportBench().then(
      (rows) => rows.forEach((r) => console.log(`${r.name}  ${r.value}  (goal ${r.goal})  ${r.detail}`)),
      (e) => {
        console.error(`bench failed: ${e instanceof Error ? e.message : String(e)}`);
        process.exitCode = 1;
      },
    );
  }
}
