/**
 * Child process of trace-big.test.ts: reads the trace named by argv[2] with readTraceEvents, keeping
 * nothing but counts, and prints what it read and its peak memory as one line of JSON. Run with a
 * small --max-old-space-size so that holding the events (or the text) would fail here.
 */
import { importTrace } from '../../../engine/src/trace/import';
import { readTraceEvents } from '../../../engine/src/trace/read-trace';

/** `import` as argv[3]: the whole import (reader, columns, analyses), reporting what the document counts. */
async function importAll(file: string, startRssKiB: number): Promise<void> {
  const r = await importTrace(file);
  const calls = r.opTypes.reduce((n, o) => n + o.calls, 0);
  process.stdout.write(`${JSON.stringify({ events: r.source.events, calls, names: r.opTypes.length, warnings: r.warnings, maxRssKiB: process.resourceUsage().maxRSS, startRssKiB })}\n`);
}

async function main(): Promise<void> {
  const startRssKiB = Math.round(process.memoryUsage().rss / 1024);
  if (process.argv[3] === 'import') return importAll(process.argv[2], startRssKiB);
  let events = 0;
  /** Sum of args["External id"]: shows the events were parsed, not just counted. */
  let idSum = 0;
  const result = await readTraceEvents(process.argv[2], {
    onEvents: (batch) => {
      events += batch.length;
      for (const e of batch) idSum += ((e as { args?: Record<string, number> }).args?.['External id'] ?? 0);
    },
  });
  process.stdout.write(`${JSON.stringify({ events, idSum, result, maxRssKiB: process.resourceUsage().maxRSS, startRssKiB, heapUsedBytes: process.memoryUsage().heapUsed })}\n`);
}

main().catch((e: Error) => {
  process.stderr.write(`${e.message}\n`);
  process.exit(1);
});
