/**
 * (h) the advisor's speed estimates against the measured change, on builtin:tiny-bert at batch 8:
 * INT8 dynamic and INT4 weights (estimates from kernels timed here at the run's shapes) and threads
 * (from the dominant product timed at 1 and at all cores). Stated tolerance: ±20% of the speedup.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { adviseRun } from '../engine/src/advisor/advise';
import { applySuggestion } from '../engine/src/advisor/apply';
import { calibrateKernels, defaultCalibrationDeps } from '../engine/src/advisor/calibrate';
import { defaultDeps, profileInference } from '../engine/src/profile/profiler';
import type { BenchRow } from './timeline';

export async function runAdvisorBench(): Promise<BenchRow[]> {
  const cwd = mkdtempSync(path.join(os.tmpdir(), 'twb-bench-advisor-'));
  const cores = os.availableParallelism();
  const rows: BenchRow[] = [];
  try {
    const cases: Array<{ id: string; threads: number }> = [
      { id: 'int8-dynamic', threads: cores },
      { id: 'int4-weight', threads: cores },
      ...(cores > 1 ? [{ id: 'threads', threads: 1 }] : []),
    ];
    for (const c of cases) {
      const run = await profileInference({ model: 'builtin:tiny-bert', batch: 8, seq: 128, threads: c.threads, runs: 20, profiledRuns: 5 }, defaultDeps());
      const calibration = await calibrateKernels(run, defaultCalibrationDeps());
      const report = adviseRun({ kind: 'inference', run }, calibration, { cores, providers: [], now: new Date() });
      const s = report.suggestions.find((x) => x.id === c.id);
      if (!s || s.estimate.speedup === null) {
        rows.push({ name: `(h) ${c.id}: measured / estimated speedup`, value: 'n/a', goal: '0.8–1.2', detail: `no estimate (${report.quiet.find((q) => q.rule.endsWith(c.id))?.why ?? 'rule did not fire'})` });
        continue;
      }
      const applied = await applySuggestion(run, s, { cwd, out: path.join(cwd, `${c.id}.onnx`) }, { now: () => new Date() });
      const measured = applied.measured.speedup ?? NaN;
      rows.push({
        name: `(h) ${c.id}: measured / estimated speedup`,
        value: (measured / s.estimate.speedup).toFixed(3),
        goal: '0.8–1.2',
        detail: `tiny-bert b8×s128, ${c.threads} thread(s): estimated ${s.estimate.speedup.toFixed(2)}×, measured ${measured.toFixed(2)}×; size ${applied.error.sizeBytes === null ? '—' : `${(applied.error.sizeBytes * 100).toFixed(1)}%`} off`,
      });
    }
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
  return rows;
}
