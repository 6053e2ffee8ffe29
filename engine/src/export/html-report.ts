import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { TwbError } from '../util/errors';
import { HostEvents, RunForm } from '../protocol/webview';
import { InferenceRun } from '../schema/run';
import { CompressionReport } from '../schema/compression';
import { defaultConfig } from '../schema/config';
import { TrainingRun, VariantsReport } from '../schema/training';
import { MemoryPlan, PipelinePlan } from '../schema/parallel';
import type { SuggestionsReport } from '../schema/advice';
import type { ApplyResult } from '../schema/apply';
import type { TuningReport } from '../schema/tuning';
import type { TraceRun } from '../schema/trace';
import { WorkbenchDocument } from '../schema/validate-document';

export interface ReportAssets {
  /** The webview bundle (dist/webview/main.js). */
  script: string;
  /** Its stylesheet (dist/webview/main.css). */
  style: string;
}

/**
 * One self-contained HTML file that renders runs offline with the same webview code the extension
 * uses: the bundle and stylesheet are inlined, the runs travel as a JSON data block the app reads
 * when no VS Code host is present. A CSP with the hashes of exactly these inline blocks forbids
 * everything else (no network, no other script).
 */
export function renderReportHtml(init: HostEvents['session/init'], assets: ReportAssets, title: string): string {
  const boot = JSON.stringify({ ...init, mode: 'report' })
    // Inside a <script> block "</script" would end it early; \u003c keeps the JSON identical.
    .replace(/</g, '\\u003c');
  // The hashes must cover the exact text inlined, after escaping any closing tag inside it.
  const script = assets.script.replace(/<\/script/gi, '<\\/script');
  const style = assets.style.replace(/<\/style/gi, '<\\/style');
  const scriptHash = sha256(script);
  const styleHash = sha256(style);
  const csp = [
    "default-src 'none'",
    `script-src 'sha256-${scriptHash}'`,
    `style-src 'sha256-${styleHash}'`,
    'img-src data:',
    'font-src data:',
  ].join('; ');
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${csp}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${style}</style>`,
    '</head>',
    '<body class="twb-report">',
    '<div id="app"></div>',
    `<script type="application/json" id="twb-boot">${boot}</script>`,
    `<script>${script}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('base64');
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/**
 * Reads the webview bundle. Bundled code runs from dist/ (assets in dist/webview); code run from
 * source (tests, tsx) finds them in the repository's dist/.
 */
export function loadReportAssets(): ReportAssets {
  const candidates = [path.join(__dirname, 'webview'), path.resolve(__dirname, '../../../dist/webview')];
  for (const dir of candidates) {
    const js = path.join(dir, 'main.js');
    if (existsSync(js)) return { script: readFileSync(js, 'utf8'), style: readFileSync(path.join(dir, 'main.css'), 'utf8') };
  }
  throw new TwbError('io', `the webview bundle is missing (looked in ${candidates.join(', ')}); run "npm run build"`);
}

/** The report of one run, as `twb report` and the extension's Export Report write it. */
export function renderRunReport(run: InferenceRun, assets: ReportAssets = loadReportAssets()): string {
  const form = { ...run.config, model: run.model.source };
  return renderReportHtml({ mode: 'report', trusted: false, form, providers: [], runs: [run] }, assets, `${run.model.name} — Transformer Workbench`);
}

/** The run form a report shows for a document that is not an inference run: defaults, with its model. */
function defaultForm(model: string, overrides: Partial<RunForm> = {}): RunForm {
  const { dims: _dims, seed: _seed, ...config } = defaultConfig();
  void _dims;
  void _seed;
  return { ...config, ...overrides, model };
}

/** The report of one quantization or pruning result, opened on the Quantization view. */
export function renderCompressionReport(report: CompressionReport, assets: ReportAssets = loadReportAssets()): string {
  const form = defaultForm(report.model.source, { executionProvider: report.env.executionProvider, threads: report.config.threads });
  const init: HostEvents['session/init'] = { mode: 'report', trusted: false, form, providers: [], runs: [], compressions: [report], view: 'quantization' };
  return renderReportHtml(init, assets, `${report.model.name} ${report.config.mode} — Transformer Workbench`);
}

/** The report of one training run, opened on the Training view. */
export function renderTrainingReport(run: TrainingRun, assets: ReportAssets = loadReportAssets()): string {
  const init: HostEvents['session/init'] = { mode: 'report', trusted: false, form: defaultForm(run.model), providers: [], runs: [], trainings: [run], view: 'training' };
  return renderReportHtml(init, assets, `${run.model} trained on ${run.config.task} (${run.variant.attention}) — Transformer Workbench`);
}

/** The report of one variants comparison, opened on the Variants view. */
export function renderVariantsReport(report: VariantsReport, assets: ReportAssets = loadReportAssets()): string {
  const init: HostEvents['session/init'] = { mode: 'report', trusted: false, form: defaultForm(report.model), providers: [], runs: [], variants: [report], view: 'variants' };
  return renderReportHtml(init, assets, `${report.model} variants — Transformer Workbench`);
}

/**
 * The report of one pipeline plan, opened on the Pipeline view. Its controls still re-simulate (the
 * simulator is part of the bundle); measuring needs VS Code.
 */
export function renderPipelineReport(plan: PipelinePlan, assets: ReportAssets = loadReportAssets()): string {
  const init: HostEvents['session/init'] = { mode: 'report', trusted: false, form: defaultForm(plan.model), providers: [], runs: [], pipelines: [plan], view: 'pipeline' };
  return renderReportHtml(init, assets, `${plan.model} pipeline (${plan.schedule}, ${plan.stages} stages) — Transformer Workbench`);
}

/** The report of one memory plan, opened on the Memory-plan view (its controls recompute offline). */
export function renderMemoryPlanReport(plan: MemoryPlan, assets: ReportAssets = loadReportAssets()): string {
  const init: HostEvents['session/init'] = { mode: 'report', trusted: false, form: defaultForm(plan.model), providers: [], runs: [], memoryPlans: [plan], view: 'memory-plan' };
  return renderReportHtml(init, assets, `${plan.model} memory plan (${plan.input.gpus} GPUs, ZeRO ${plan.input.zeroStage}) — Transformer Workbench`);
}

/**
 * The report of one suggestions report, opened on the Suggestions view: the cards with their
 * estimates, and beside them the measured results of the suggestions already applied. Apply is off.
 */
export function renderSuggestionsReport(report: SuggestionsReport, assets: ReportAssets = loadReportAssets(), applied: ApplyResult[] = []): string {
  const init: HostEvents['session/init'] = { mode: 'report', trusted: false, form: defaultForm(report.source.model), providers: [], runs: [], suggestions: [report], applied, view: 'suggestions' };
  return renderReportHtml(init, assets, `${report.source.model} suggestions — Transformer Workbench`);
}

/**
 * The report of one tuning, opened on the Tuning view: every trial, the Pareto plot, the best and
 * its held-back check. Export is off (it needs the kept files).
 */
export function renderTuningReport(report: TuningReport, assets: ReportAssets = loadReportAssets()): string {
  const init: HostEvents['session/init'] = { mode: 'report', trusted: false, form: defaultForm(report.model.source), providers: [], runs: [], tunings: [report], view: 'tuning' };
  return renderReportHtml(init, assets, `${report.model.name} tuning (${report.trials.length} trials) — Transformer Workbench`);
}

/** The report of one imported trace, opened on its Overview (Ops, Timeline and Memory beside it). */
export function renderTraceReport(trace: TraceRun, assets: ReportAssets = loadReportAssets()): string {
  const init: HostEvents['session/init'] = { mode: 'report', trusted: false, form: defaultForm('builtin:tiny-gpt'), providers: [], runs: [], traces: [trace], view: 'overview' };
  return renderReportHtml(init, assets, `${trace.source.name} — Transformer Workbench`);
}

/** The report of any kept document, on the view that shows its kind. */
export function renderDocumentReport(doc: WorkbenchDocument, assets: ReportAssets = loadReportAssets()): string {
  switch (doc.kind) {
    case 'inference':
      return renderRunReport(doc.run, assets);
    case 'compression':
      return renderCompressionReport(doc.report, assets);
    case 'training':
      return renderTrainingReport(doc.run, assets);
    case 'variants':
      return renderVariantsReport(doc.report, assets);
    case 'pipeline':
      return renderPipelineReport(doc.plan, assets);
    case 'memory-plan':
      return renderMemoryPlanReport(doc.plan, assets);
    case 'suggestions':
      return renderSuggestionsReport(doc.report, assets);
    case 'tuning':
      return renderTuningReport(doc.report, assets);
    case 'trace':
      return renderTraceReport(doc.run, assets);
  }
}
