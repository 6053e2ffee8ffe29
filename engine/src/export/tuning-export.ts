/**
 * What a tuning report exports: its best trial as a twb config that `twb profile --config`
 * reproduces, ONNX Runtime session options for the best model (JSON, Python, JavaScript), the best
 * model as ORT optimizes it, and the HTML report with every trial and the Pareto front. Shared by
 * `twb export` and the engine's `tune/export` (the Tuning view's Export).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { renderTuningReport } from './html-report';
import { jsSnippet, pythonSnippet, sessionOptionsJson } from './ort-session';
import { openSession } from '../runtime/ort';
import type { ExecutionProvider, OptLevel } from '../schema/config';
import type { TuningReport } from '../schema/tuning';
import { parseTwbConfig, TwbConfig } from '../schema/twb-config';
import { writeFileAtomic } from '../util/atomic-write';
import { TwbError } from '../util/errors';
import { formatBytes } from '../util/format';
import type { TuningExportFormat } from './tuning-formats';

/** The best trial's kept config; `base` resolves a relative `bestConfig` (the report's folder). */
async function bestConfig(report: TuningReport, base: string): Promise<{ file: string; config: TwbConfig }> {
  if (!report.bestConfig || !report.best) throw new TwbError('bad-input', `tuning ${report.id} has no best trial within its budget, so there is no tuned config to export`, 'loosen the budget or try other candidates, then tune again');
  const file = path.resolve(base, report.bestConfig);
  const text = await fs.readFile(file, 'utf8').catch(() => {
    throw new TwbError('io', `the best config "${file}" named by tuning ${report.id} cannot be read`, 'it is written by twb tune beside best.onnx; was the output folder moved or deleted?');
  });
  return { file, config: parseTwbConfig(text) };
}

/**
 * Writes `format` of `report` to `out` (atomically) and returns what to tell the user. `base` is
 * the folder the report file is in, for reports whose paths are relative.
 */
export async function exportTuning(report: TuningReport, format: TuningExportFormat, out: string, base: string): Promise<string> {
  if (format === 'report') {
    await writeFileAtomic(out, renderTuningReport(report));
    return `Wrote the tuning report (${report.trials.length} trial(s)) to ${out}`;
  }
  const { file, config } = await bestConfig(report, base);
  const modelFile = path.resolve(path.dirname(file), config.model);
  if (format === 'ort-model') {
    // ORT writes the graph it runs after its own fusions at this optimization level and provider.
    const session = await openSession(modelFile, { executionProvider: config.config.executionProvider as ExecutionProvider, threads: 1, optLevel: config.config.optLevel as OptLevel, optimizedModelPath: out }, path.basename(modelFile));
    await session.release();
    return `Wrote the best model (${report.best}) as ONNX Runtime optimizes it (opt level ${config.config.optLevel}, ${config.config.executionProvider}) to ${out}: ${formatBytes((await fs.stat(out)).size)}`;
  }
  const model = path.relative(path.dirname(out), modelFile) || path.basename(modelFile);
  const text = format === 'twb' ? `${JSON.stringify({ ...config, model }, null, 2)}\n` : format === 'ort' ? sessionOptionsJson(config.config, model) : format === 'ort-python' ? pythonSnippet(config.config, model) : jsSnippet(config.config, model);
  await writeFileAtomic(out, text);
  return `Wrote ${format} for the best trial (${report.best}) to ${out}`;
}
