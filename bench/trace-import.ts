/**
 * Trace import benchmark (issue #8 point 7): `importTrace` of the 51 MiB realdata Kineto trace
 * against a plain `JSON.parse` of the same unzipped bytes, alternated over rounds in one process
 * (goal ≤ 1.5×). Both sides start from the unzipped JSON file on disk: the import streams, parses,
 * collects and analyses it; the baseline is `JSON.parse(readFileSync(file, 'utf8'))`. Beside it,
 * for judging: the import of the original .gz (gunzip included), the baseline without the read
 * and decode (JSON.parse of a string already in memory), and the stream reader alone (no-op
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
  const text = readFileSync(json, 'utf8');
  const ms = { parseFile: [] as number[], parseText: [] as number[], importJson: [] as number[], importGz: [] as number[], read: [] as number[] };
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
    await timed(ms.importGz, () => importTrace(TRACE));
    await timed(ms.read, () => readTraceEvents(json, { onEvents: () => undefined }));
  }
  const median = (xs: number[]) => percentile(xs, 50);
  const per = (xs: number[], base: number[]) => (median(xs) / median(base)).toFixed(2);
  const ratio = median(ms.importJson) / median(ms.parseFile);
  const rounds = (xs: number[]) => xs.map((x) => x.toFixed(0)).join('/');
  const [imported, parsed, idle] = (['import', 'parse', 'idle'] as const).map(peakRss);
  return [
    {
      name: '(i) trace import / JSON.parse, 51 MiB Kineto trace',
      value: ratio.toFixed(3),
      goal: '≤ 1.5',
      detail:
        `import of the unzipped file ${median(ms.importJson).toFixed(0)} ms (${events} events, streamed, analysed) vs JSON.parse(readFileSync) of it ${median(ms.parseFile).toFixed(0)} ms; ` +
        `against JSON.parse of the text already in memory (${median(ms.parseText).toFixed(0)} ms) the import is ${per(ms.importJson, ms.parseText)}×, the import of the .gz (gunzip included, ${median(ms.importGz).toFixed(0)} ms) ${per(ms.importGz, ms.parseText)}×, the stream reader alone (${median(ms.read).toFixed(0)} ms) ${per(ms.read, ms.parseText)}×; ` +
        `medians of ${ROUNDS} rounds, full GC before each; rounds import ${rounds(ms.importJson)} vs parse ${rounds(ms.parseFile)} ms`,
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
