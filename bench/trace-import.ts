/**
 * Trace import benchmark (issue #8 point 7): `importTrace` on the 51 MiB realdata Kineto trace
 * (gzip, streamed, analysed) against a plain `JSON.parse` of the same JSON text already gunzipped
 * (the gunzip is not counted on that side), alternated over rounds in one process (goal ≤ 1.5×),
 * with the stream reader alone (no-op consumer) beside it to show which part costs what;
 * and the peak memory of an import in a fresh child process against the file's unzipped size,
 * beside the same child's memory when it only loads the code, and when it JSON.parses the file.
 *
 * Run alone: `node --import tsx bench/trace-import.ts`; `runTraceImportBench()` is for bench/run.ts.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
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
  process.stdout.write(`${process.resourceUsage().maxRSS * 1024}\n`);
}

function peakRss(mode: ChildMode): number {
  const r = spawnSync(process.execPath, ['--import', 'tsx', __filename, '--child', mode, TRACE], { encoding: 'utf8', cwd: path.resolve(__dirname, '..') });
  const bytes = Number(r.stdout.trim().split('\n').pop());
  if (r.status !== 0 || !Number.isFinite(bytes)) throw new Error(`trace-import child (${mode}) failed: ${r.stderr.trim().split('\n').pop()}`);
  return bytes;
}

export async function runTraceImportBench(): Promise<BenchRow[]> {
  const text = gunzipSync(readFileSync(TRACE)).toString('utf8');
  const jsonBytes = Buffer.byteLength(text);
  const parseMs: number[] = [];
  const importMs: number[] = [];
  const readMs: number[] = [];
  let events = 0;
  // One untimed import first: the first round would otherwise also time the JIT warming up.
  await importTrace(TRACE);
  for (let r = 0; r < ROUNDS; r++) {
    collectGarbage();
    let t = performance.now();
    events = (JSON.parse(text) as { traceEvents: unknown[] }).traceEvents.length;
    parseMs.push(performance.now() - t);
    collectGarbage();
    t = performance.now();
    await importTrace(TRACE);
    importMs.push(performance.now() - t);
    collectGarbage();
    t = performance.now();
    await readTraceEvents(TRACE, { onEvents: () => undefined });
    readMs.push(performance.now() - t);
  }
  const median = (xs: number[]) => percentile(xs, 50);
  const ratio = median(importMs) / median(parseMs);
  const [imported, parsed, idle] = (['import', 'parse', 'idle'] as const).map(peakRss);
  return [
    {
      name: '(i) trace import / JSON.parse, 51 MiB Kineto trace',
      value: ratio.toFixed(3),
      goal: '≤ 1.5',
      detail: `import ${median(importMs).toFixed(0)} ms (gzip stream, ${events} events, analysed; the stream reader alone ${median(readMs).toFixed(0)} ms = ${(median(readMs) / median(parseMs)).toFixed(2)}×) vs JSON.parse ${median(parseMs).toFixed(0)} ms of the gunzipped text; medians of ${ROUNDS} rounds (best ${Math.min(...importMs).toFixed(0)} vs ${Math.min(...parseMs).toFixed(0)} ms), full GC before each; rounds ${importMs.map((x) => x.toFixed(0)).join('/')} vs ${parseMs.map((x) => x.toFixed(0)).join('/')} ms`,
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
