import * as vscode from 'vscode';
import * as path from 'node:path';
import type { CompressForm } from '../../engine/src/protocol/webview';
import { InferenceRun } from '../../engine/src/schema/run';
import { askPruning, askQuantization } from './compress-prompts';
import { CompressionService } from './compress-service';
import { EngineClient } from './engine-client';
import { ONNX_EDITOR_VIEW_TYPE, OnnxEditorProvider } from './onnx-editor';
import { describeFailure, ProfilerService } from './profiler-service';
import { exportReport } from './report-export';
import { modelsDir, RunStore, runsDir, StoredEntry, workspaceDir } from './run-store';
import { askSweep, askTraining } from './training-prompts';
import { TrainingService } from './training-service';
import { ParallelService } from './parallel-service';
import { askMemoryPlan, askPipeline } from './parallel-prompts';
import { exportDistributedConfig } from './distributed-export';
import { planMemory } from '../../engine/src/analysis/zero-memory';
import { AdviceService } from './advice-service';
import { TuneService, UNTRUSTED_TUNE_MESSAGE } from './tune-service';
import { askTuning } from './tune-prompts';
import { exportTunedConfig } from './tuning-export';
import { importTraceFile, TRACE_EDITOR_VIEW_TYPE, TraceEditorProvider } from './trace-editor';
import { openSourceFrame } from './source-open';
import { JobGate, RefusedError } from './job-gate';
import { RunsTreeProvider } from './runs-tree';
import { formFromSettings } from './settings';
import { WorkbenchPanel } from './workbench-panel';
import { SessionDeps } from './workbench-session';

const DEFAULT_MODEL = 'builtin:tiny-gpt';

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('Transformer Workbench', { log: true });
  const engine = new EngineClient({
    serverPath: path.join(context.extensionPath, 'dist', 'engine-server.js'),
    log: (level, message) => (level === 'error' ? output.error(message) : level === 'warn' ? output.warn(message) : output.info(message)),
    onCrash: (reason) => void vscode.window.showErrorMessage(`Transformer Workbench: ${reason}. It restarts on the next request.`, 'Show Log').then((a) => a && output.show()),
  });
  const store = new RunStore(() => runsDir(context), (m) => output.warn(m));
  const statusBar = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 50);
  // Profiling, compression and training share one gate: one job at a time, as they skew each other's timings.
  const gate = new JobGate();
  const profiler = new ProfilerService(engine, store, statusBar, gate);
  const compressor = new CompressionService(
    engine,
    store,
    statusBar,
    () => modelsDir(context),
    () => formFromSettings(DEFAULT_MODEL).executionProvider,
    gate,
  );
  const trainer = new TrainingService(engine, store, statusBar, gate);
  const parallel = new ParallelService(engine, store, statusBar, gate);
  const advisor = new AdviceService(engine, store, statusBar, gate, () => workspaceDir(context));
  const tuner = new TuneService(engine, store, statusBar, gate);
  const deps: SessionDeps = {
    profiler,
    providers: () => engine.request('providers/list', {}),
    exportReport: (run) => exportReport(engine, run),
    compress: (form, opts) => compressor.run(form, opts),
    train: (request, opts) => trainer.train(request, opts),
    sweep: (request) => trainer.sweep(request),
    planPipeline: (request, opts) => parallel.plan(request, opts),
    suggest: async (run, opts) => {
      const report = await advisor.suggest(run, opts);
      await store.save(report);
      return report;
    },
    apply: async (run, report, suggestionId, opts) => {
      const result = await advisor.apply(run, report, suggestionId, opts);
      if (result.suggestion.change.kind === 'config') void advisor.offerConfig(run, result).catch((e: unknown) => output.warn(`twb config diff: ${describeFailure(e).message}`));
      return result;
    },
    tune: (request, opts) => tuner.run(request, opts),
    exportTuning: (report) => exportTunedConfig(engine, report, vscode.workspace.workspaceFolders?.[0]?.uri.fsPath),
    openSource: (file, line) => openSourceFrame(file, line),
    log: (m) => output.warn(m),
  };
  const tree = new RunsTreeProvider(store);
  const panel = (model = DEFAULT_MODEL) => WorkbenchPanel.show(context.extensionUri, formFromSettings(model), deps);

  /** A command's failure as one error message with the engine's hint; a cancellation is only logged. */
  const failed = (what: string, e: unknown): void => {
    const f = describeFailure(e);
    if (f.code === 'cancelled') return output.info(`${what} cancelled${f.message ? `: ${f.message}` : ''}`);
    output.error(`${what} failed: ${f.message}${f.hint ? ` (${f.hint})` : ''}`);
    void vscode.window.showErrorMessage(`Transformer Workbench: ${f.message}${f.hint ? ` — ${f.hint}` : ''}`);
  };

  /** Runs a profile from a command; failures become one error message with the engine's hint. */
  const profileIn = async (p: WorkbenchPanel, model: string): Promise<void> => {
    try {
      await p.session.profile({ ...formFromSettings(model), ...(p.session.form.model === model ? p.session.form : {}) });
    } catch (e) {
      const f = describeFailure(e);
      if (f.code === 'cancelled') return output.info(`profile of ${model} cancelled`);
      output.error(`profile of ${model} failed: ${f.message}${f.hint ? ` (${f.hint})` : ''}`);
      void vscode.window.showErrorMessage(`Transformer Workbench: ${f.message}${f.hint ? ` — ${f.hint}` : ''}`);
    }
  };

  /** Quantizes or prunes from a command: questions first, then the panel's Quantization view shows progress and the report. */
  const compressIn = async (ask: () => Promise<CompressForm | undefined>): Promise<void> => {
    try {
      compressor.checkTrusted();
      const form = await ask();
      if (!form) return;
      await panel(form.model).session.compress(form);
    } catch (e) {
      failed('compression', e);
    }
  };

  /** Trains or sweeps from a command: questions first, then the panel shows progress and the result. */
  const trainIn = async (go: () => Promise<void>): Promise<void> => {
    try {
      trainer.checkTrusted();
      await go();
    } catch (e) {
      failed('training', e);
    }
  };

  const pickRuns = async (title: string, count: 1 | 2): Promise<InferenceRun[] | undefined> => {
    const runs = await store.runs();
    if (runs.length < count) {
      void vscode.window.showInformationMessage(`Transformer Workbench: ${count === 2 ? 'comparing needs two kept runs' : 'no runs kept yet'}; profile a model first.`);
      return undefined;
    }
    const items = runs.map((s) => ({ label: `${s.run.model.name} · ${s.run.env.executionProvider} · opt ${s.run.config.optLevel}`, description: `p50 ${s.run.latencyMs.p50.toFixed(2)} ms`, detail: new Date(s.run.createdAt).toLocaleString(), run: s.run }));
    if (count === 1) {
      const one = await vscode.window.showQuickPick(items, { title });
      return one ? [one.run] : undefined;
    }
    const picked = await vscode.window.showQuickPick(items, { title, canPickMany: true });
    if (!picked) return undefined;
    if (picked.length !== 2) {
      void vscode.window.showWarningMessage('Transformer Workbench: pick exactly two runs to compare.');
      return undefined;
    }
    return picked.map((p) => p.run).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  };

  const activeOnnxUri = (): vscode.Uri | undefined => {
    const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
    const uri = input instanceof vscode.TabInputCustom || input instanceof vscode.TabInputText ? input.uri : vscode.window.activeTextEditor?.document.uri;
    return uri && uri.fsPath.toLowerCase().endsWith('.onnx') ? uri : undefined;
  };

  const command = (id: string, fn: (...args: never[]) => unknown) => context.subscriptions.push(vscode.commands.registerCommand(`transformerWorkbench.${id}`, fn));

  command('openProfiler', async () => {
    const p = panel();
    if (vscode.workspace.isTrusted && !p.session.hasRunOf(DEFAULT_MODEL) && !profiler.busy) await profileIn(p, DEFAULT_MODEL);
  });
  command('profileModel', async () => {
    const files = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'ONNX models': ['onnx'] }, openLabel: 'Profile' });
    if (files?.[0]) await profileIn(panel(files[0].fsPath), files[0].fsPath);
  });
  command('profileActiveFile', async () => {
    const uri = activeOnnxUri();
    if (!uri) return void vscode.window.showWarningMessage('Transformer Workbench: the active editor is not an .onnx file.');
    await profileIn(panel(uri.fsPath), uri.fsPath);
  });
  command('rerun', async () => {
    const p = WorkbenchPanel.active;
    if (!p) return void vscode.window.showInformationMessage('Transformer Workbench: open the profiler first.');
    await profileIn(p, p.session.form.model);
  });
  command('quantizeModel', (uri?: vscode.Uri) => compressIn(() => askQuantization(uri instanceof vscode.Uri ? uri : undefined, activeOnnxUri())));
  command('pruneModel', (uri?: vscode.Uri) => compressIn(() => askPruning(uri instanceof vscode.Uri ? uri : undefined, activeOnnxUri())));
  command('trainModel', () => trainIn(async () => {
    const request = await askTraining();
    if (request) await panel(request.model).session.train(request);
  }));
  command('compareVariants', () => trainIn(async () => {
    const request = await askSweep();
    if (request) await panel(request.model).session.sweep(request);
  }));
  command('planPipeline', () => trainIn(async () => {
    const request = await askPipeline(activeOnnxUri());
    if (request) await panel(/\.onnx$/i.test(request.source) || request.source.startsWith('builtin:') ? request.source : DEFAULT_MODEL).session.planPipeline(request);
  }));
  command('planMemory', async () => {
    const asked = await askMemoryPlan();
    if (!asked) return;
    const plan = planMemory(asked.input, asked.label, new Date());
    await parallel.keepMemoryPlan(plan);
    const p = panel();
    p.session.addMemoryPlan(plan);
    p.session.showView('memory-plan');
  });
  command('exportDistributed', async (item?: StoredEntry) => {
    try {
      await exportDistributedConfig(store, item?.kind === 'pipeline' || item?.kind === 'memory-plan' ? item.plan : undefined);
    } catch (e) {
      void vscode.window.showErrorMessage(`Transformer Workbench: ${describeFailure(e).message}`);
    }
  });
  command('suggestOptimizations', async () => {
    const run = WorkbenchPanel.active?.session.latestRun ?? (await pickRuns('Suggest optimizations for which run?', 1))?.[0];
    if (!run) return;
    try {
      await panel(run.model.source).session.suggest(run);
    } catch (e) {
      failed('suggestions', e);
    }
  });
  command('tuneModel', async (uri?: vscode.Uri) => {
    try {
      if (!vscode.workspace.isTrusted) throw new RefusedError(UNTRUSTED_TUNE_MESSAGE);
      const request = await askTuning(uri instanceof vscode.Uri ? uri : undefined, activeOnnxUri(), path.dirname(runsDir(context)));
      if (request) await panel(request.model).session.tune(request);
    } catch (e) {
      failed('tuning', e);
    }
  });
  command('exportTuning', async (item?: StoredEntry) => {
    try {
      const reports = item?.kind === 'tuning' ? [item.report] : (await store.list()).flatMap((e) => (e.kind === 'tuning' ? [e.report] : []));
      if (reports.length === 0) return void vscode.window.showInformationMessage('Transformer Workbench: no tuning kept yet; run Tune Model… first.');
      const report = reports.length === 1 ? reports[0] : (await vscode.window.showQuickPick(reports.map((r) => ({ label: `Tuning ${r.model.name}`, description: r.best ? `best ${r.best}` : 'no trial within budget', detail: new Date(r.createdAt).toLocaleString(), r })), { title: 'Export Tuned Config', placeHolder: 'From which tuning?' }))?.r;
      if (report) await exportTunedConfig(engine, report, vscode.workspace.workspaceFolders?.[0]?.uri.fsPath);
    } catch (e) {
      failed('export', e);
    }
  });
  command('cancelRun', () => {
    gate.cancel();
  });
  command('compareRuns', async () => {
    const runs = await pickRuns('Compare two runs (pick two)', 2);
    if (runs) panel().session.compare(runs[0], runs[1]);
  });
  command('exportReport', async () => {
    const run = WorkbenchPanel.active?.session.latestRun ?? (await pickRuns('Export which run?', 1))?.[0];
    if (!run) return;
    try {
      await exportReport(engine, run);
    } catch (e) {
      void vscode.window.showErrorMessage(`Transformer Workbench: ${describeFailure(e).message}`);
    }
  });
  command('openRun', async (item?: StoredEntry) => {
    if (item?.kind === 'compression') {
      const p = panel(item.report.model.source);
      p.session.addCompression(item.report);
      p.session.showView('quantization');
      return;
    }
    if (item?.kind === 'training') {
      const p = panel(item.run.model);
      p.session.addTraining(item.run);
      p.session.showView('training');
      return;
    }
    if (item?.kind === 'variants') {
      const p = panel(item.report.model);
      p.session.addVariants(item.report);
      p.session.showView('variants');
      return;
    }
    if (item?.kind === 'pipeline') {
      const p = panel(item.plan.modelSource ?? DEFAULT_MODEL);
      p.session.addPipeline(item.plan);
      p.session.showView('pipeline');
      return;
    }
    if (item?.kind === 'suggestions') {
      const p = panel(item.report.source.model);
      p.session.addSuggestions(item.report);
      p.session.showView('suggestions');
      return;
    }
    if (item?.kind === 'tuning') {
      const p = panel(item.report.model.source);
      p.session.addTuning(item.report);
      p.session.showView('tuning');
      return;
    }
    if (item?.kind === 'memory-plan') {
      const p = panel();
      p.session.addMemoryPlan(item.plan);
      p.session.showView('memory-plan');
      return;
    }
    if (item?.kind === 'trace') {
      const p = panel();
      p.session.addTrace(item.run);
      p.session.showView('overview');
      return;
    }
    const run = item?.run ?? (await pickRuns('Open which run?', 1))?.[0];
    if (!run) return;
    const p = panel(run.model.source);
    p.session.addRun(run);
    p.session.showView('overview');
  });
  command('refreshRuns', () => store.refresh());
  command('importTrace', async (uri?: vscode.Uri) => {
    const file = uri instanceof vscode.Uri ? uri : (await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'Profiler traces': ['json', 'gz'] }, openLabel: 'Import', title: 'PyTorch profiler trace, ONNX Runtime profile or chrome trace' }))?.[0];
    if (file) await vscode.commands.executeCommand('vscode.openWith', file, TRACE_EDITOR_VIEW_TYPE);
  });
  command('compareTraces', async () => {
    const files = await vscode.window.showOpenDialog({ canSelectMany: true, filters: { 'Profiler traces': ['json', 'gz'] }, openLabel: 'Compare', title: 'Pick two traces: the baseline first' });
    if (!files) return;
    if (files.length !== 2) return void vscode.window.showWarningMessage('Transformer Workbench: pick exactly two traces to compare.');
    try {
      const [a, b] = [await importTraceFile(engine, files[0].fsPath), await importTraceFile(engine, files[1].fsPath)];
      panel().session.compareTraces(a, b);
    } catch (e) {
      failed('trace import', e);
    }
  });

  const watcher = vscode.workspace.createFileSystemWatcher('**/.twb/runs/*.json');
  watcher.onDidCreate(() => store.refresh());
  watcher.onDidDelete(() => store.refresh());

  context.subscriptions.push(
    output,
    statusBar,
    store,
    tree,
    watcher,
    { dispose: () => engine.dispose() },
    vscode.window.registerTreeDataProvider('transformerWorkbench.runs', tree),
    vscode.window.registerCustomEditorProvider(ONNX_EDITOR_VIEW_TYPE, new OnnxEditorProvider(context.extensionUri, engine, deps), {
      webviewOptions: { retainContextWhenHidden: true },
      supportsMultipleEditorsPerDocument: true,
    }),
    vscode.window.registerCustomEditorProvider(TRACE_EDITOR_VIEW_TYPE, new TraceEditorProvider(context.extensionUri, engine, deps), {
      webviewOptions: { retainContextWhenHidden: true },
      supportsMultipleEditorsPerDocument: true,
    }),
  );
}

export function deactivate(): void {
  // Disposables registered on the context stop the engine process.
}
