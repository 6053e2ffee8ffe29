// The extension in a real VS Code (code-server, offline) driven by headless chromium: the command
// palette, the profiler panel and its views, the Runs view, Export Report through VS Code's save
// dialog (the report then opened from disk), the .onnx custom editor on a corrupt and a real model,
// and, in a second code-server with workspace trust on, a Restricted Mode folder where nothing
// runs. Screenshots go to test-output/e2e/.
// Run: node --import tsx --test test/e2e/*.e2e.test.ts   (installs code-server into .cache/e2e/ first)
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, promises as fs, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { assertVsixHas, buildVsix, installCodeServer, REPO_ROOT } from './helpers/code-server';
import { checkReportHtml, viewReport } from './helpers/report';
import { closeSession, killSession, Session, startSession, waitForFile } from './helpers/session';
import { answerOpenDialog, answerSaveDialog, AppFrame, expectRestrictedMode, pickQuickItem, quickOpen, runCommand, screenshotWebview, shot, viewText, viewTab, waitForApp } from './helpers/workbench';

const OUT = path.join(REPO_ROOT, 'test-output', 'e2e');
const REAL_MODEL = path.resolve(REPO_ROOT, '../shared/realdata/onnx/optimum/tiny-distilbert-classification/model.onnx');
/** A 2021 Kineto trace with Python frames in `resnet50_profiler_api.py` (PROVENANCE.md). */
const REAL_TRACE = path.resolve(REPO_ROOT, '../shared/realdata/traces/kineto/resnet50_v100_worker0.1623143089861.pt.trace.json.gz');
const MODEL = 'builtin:tiny-gpt';
/** Steps of the training e2e test (the `transformerWorkbench.train.steps` setting of the sandbox). */
const TRAIN_STEPS = 6;
const UNTRUSTED_TEXT = 'Running models is disabled in untrusted workspaces.';

/** Each view's tab label, and text its content shows once rendered with the tiny-gpt run. */
const VIEWS: Array<[label: string, shows: RegExp]> = [
  ['Overview', /p50\D{0,40}\d/],
  ['Ops', /Kernel time[^]*MatMul/],
  ['Timeline', /Reset zoom[^]*MatMul|MatMul[^]*Reset zoom/],
  ['Memory', /Memory in use/],
  ['Toggles', /Run configuration/],
  ['Compare', /Compare needs two runs|B − A/],
];

const timings: Record<string, number> = {};
let vsix = '';
/** The trusted session every test but the last uses. */
const main: Session = {};
/** The Restricted Mode session, alive only during its test. */
let restricted: Session | undefined;
let profiler: AppFrame | undefined;

async function timed<T>(name: string, fn: () => T | Promise<T>): Promise<T> {
  const t0 = Date.now();
  try {
    return await fn();
  } finally {
    timings[name] = (Date.now() - t0) / 1000;
    console.log(`e2e: ${name} took ${timings[name].toFixed(1)} s`);
  }
}

/** Marks the session failed (so closing it prints the logs) and keeps a screenshot of the moment. */
async function step(name: string, fn: () => Promise<void>, session: Session = main): Promise<void> {
  try {
    await fn();
  } catch (e) {
    session.failed = true;
    await session.browser?.page.screenshot({ path: shot(OUT, `failure-${name}`) }).catch(() => undefined);
    throw e;
  }
}

const page = () => {
  if (!main.browser) throw new Error('the browser did not start (see the before hook)');
  return main.browser.page;
};
const ws = () => {
  if (!main.sandbox) throw new Error('no sandbox (see the before hook)');
  return main.sandbox.workspace;
};
const runFiles = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')) : []);

/** Ctrl-C or a CI timeout skips `after`: still stop code-server (its own process group) and remove the sandbox. */
function emergencyCleanup(): void {
  killSession(main);
  killSession(restricted);
}
process.once('exit', emergencyCleanup);
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    emergencyCleanup();
    process.exit(130);
  });

before(
  () =>
    step('setup', async () => {
      await fs.rm(OUT, { recursive: true, force: true });
      await fs.mkdir(OUT, { recursive: true });
      await timed('install code-server', installCodeServer);
      vsix = await timed('npm run package', buildVsix);
      // Without them the panel stays blank and the profile wait below would only time out.
      assertVsixHas(vsix, ['dist/extension.js', 'dist/engine-server.js', 'dist/pipeline-worker.js', 'dist/trace-worker.js', 'dist/webview/main.js']);
      const prepare = async (workspace: string) => {
        // Not a model: 100 bytes of text. The editor must say so instead of spinning.
        await fs.writeFile(path.join(workspace, 'broken.onnx'), 'this is not an ONNX model, only text '.repeat(3).slice(0, 100));
        await fs.copyFile(REAL_MODEL, path.join(workspace, 'distilbert.onnx'));
        // The trace and the script its frames point into, as a user's project would hold them.
        await fs.copyFile(REAL_TRACE, path.join(workspace, 'resnet50.pt.trace.json.gz'));
        await fs.writeFile(path.join(workspace, 'resnet50_profiler_api.py'), Array.from({ length: 60 }, (_, i) => `# line ${i + 1}`).join('\n'));
        // 24 labelled examples for builtin:tiny-bert (seq 16, two classes).
        const rows = Array.from({ length: 24 }, (_, i) => Array.from({ length: 16 }, (_, j) => 1 + ((i * 31 + j * 7) % 500)));
        await fs.writeFile(path.join(workspace, 'eval.json'), JSON.stringify({ inputs: { input_ids: rows, attention_mask: rows.map((r) => r.map(() => 1)) }, labels: rows.map((_, i) => i % 2) }));
      };
      await startSession(main, vsix, { prepare, timed });
    }),
  { timeout: 20 * 60_000 },
);

after(
  async () => {
    await closeSession(main, path.join(OUT, 'logs'));
    await fs.writeFile(path.join(OUT, 'timings.json'), JSON.stringify(timings, null, 2)).catch(() => undefined);
  },
  { timeout: 2 * 60_000 },
);

test('Open Profiler from the command palette profiles builtin:tiny-gpt and draws its Overview', { timeout: 5 * 60_000 }, () =>
  step('open-profiler', async () => {
    await timed('command palette', () => runCommand(page(), 'Transformer Workbench: Open Profiler'));
    const t0 = Date.now();
    const runsDir = path.join(ws(), '.twb', 'runs');
    let kept = false;
    const watch = setInterval(() => {
      if (!kept && existsSync(runsDir) && readdirSync(runsDir).some((f) => f.endsWith('.json'))) {
        kept = true;
        timings['run kept'] = (Date.now() - t0) / 1000;
        console.log(`e2e: run kept in .twb/runs after ${timings['run kept'].toFixed(1)} s`);
      }
    }, 250);
    try {
      // First activation starts the engine process, then profiles: allow minutes on 2 cores.
      profiler = await timed('profile drawn', () =>
        waitForApp(page(), (t) => t.includes(MODEL) && /p50\D{0,40}\d+(\.\d+)?\s*ms/.test(t), `the Overview of ${MODEL} with its p50 latency`, 4 * 60_000),
      );
    } finally {
      clearInterval(watch);
    }
    await page().screenshot({ path: shot(OUT, 'workbench') });
  }),
);

test('every view of the profiler renders', { timeout: 3 * 60_000 }, () =>
  step('views', async () => {
    assert.ok(profiler, 'needs the profile drawn by the previous test');
    const { frame } = profiler;
    for (const [label, shows] of VIEWS) {
      await (await viewTab(frame, label)).click();
      let text = '';
      const deadline = Date.now() + 20_000;
      while (!shows.test((text = await viewText(frame))) && Date.now() < deadline) await frame.page().waitForTimeout(200);
      assert.match(text, shows, `${label} view: ${JSON.stringify(text.slice(0, 800))}`);
      await screenshotWebview(page(), frame, shot(OUT, label.toLowerCase()));
      console.log(`e2e: ${label} view shows: ${JSON.stringify(text.slice(0, 200))}`);
    }
  }),
);

test('the run is kept in .twb/runs and listed in the Runs view', { timeout: 2 * 60_000 }, () =>
  step('runs', async () => {
    const dir = path.join(ws(), '.twb', 'runs');
    const files = existsSync(dir) ? (await fs.readdir(dir)).filter((f) => f.endsWith('.json')) : [];
    assert.ok(files.length >= 1, `no run document in ${dir}`);
    const run = JSON.parse(await fs.readFile(path.join(dir, files[0]), 'utf8'));
    assert.equal(run.schemaVersion, 1);
    assert.equal(run.model.name, MODEL);

    const p = page();
    await p.locator('.part.activitybar .action-item a[aria-label^="Transformer Workbench"], .part.activitybar .action-item [aria-label^="Transformer Workbench"]').first().click();
    const row = p.locator('.part.sidebar .monaco-list-row', { hasText: MODEL });
    await row.first().waitFor({ timeout: 30_000 });
    assert.match(await row.first().innerText(), /p50 \d+\.\d\d ms/);
    await p.screenshot({ path: shot(OUT, 'runs-view') });
  }),
);

test('Export Report… writes a self-contained report through the save dialog, and it renders offline', { timeout: 2 * 60_000 }, () =>
  step('export-report', async () => {
    assert.ok(profiler, 'needs the profile drawn by the first test');
    const target = path.join(ws(), 'report.html');
    await timed('export report', async () => {
      await runCommand(page(), 'Transformer Workbench: Export Report…');
      await answerSaveDialog(page(), target, (meanwhile) => waitForFile(target, 30_000, meanwhile));
    });
    checkReportHtml(await fs.readFile(target, 'utf8'), MODEL);
    const b = main.browser;
    assert.ok(b);
    const { text, problems } = await timed('report rendered', () => viewReport(b, target, shot(OUT, 'report')));
    assert.deepEqual(problems, [], `the report page reported problems; it shows ${JSON.stringify(text.slice(0, 300))}`);
    console.log(`e2e: report shows: ${JSON.stringify(text.slice(0, 200))}`);
  }),
);

test('Toggles: Re-run with 1 thread keeps a second run, and Compare shows both', { timeout: 4 * 60_000 }, () =>
  step('rerun-compare', async () => {
    assert.ok(profiler, 'needs the profile drawn by the first test');
    const { frame } = profiler;
    const runsDir = path.join(ws(), '.twb', 'runs');
    const before = (await fs.readdir(runsDir)).filter((f) => f.endsWith('.json'));
    await (await viewTab(frame, 'Toggles')).click();
    await frame.locator('#field-threads input').fill('1');
    await frame.locator('#twb-rerun').click();
    await waitForApp(page(), (t) => t.includes('Toggles') && /\n2\nbuiltin:tiny-gpt/.test(t), 'a second run in the Toggles run list', 3 * 60_000);
    const added = (await fs.readdir(runsDir)).filter((f) => f.endsWith('.json') && !before.includes(f));
    assert.equal(added.length, 1, `one new run document in ${runsDir}`);
    const run = JSON.parse(await fs.readFile(path.join(runsDir, added[0]), 'utf8'));
    assert.equal(run.config.threads, 1, 'the re-run used the threads set in Toggles');

    await (await viewTab(frame, 'Compare')).click();
    let text = '';
    const deadline = Date.now() + 20_000;
    while (!/Kernel time by op type \(B − A\)[^]*MatMul/.test((text = await viewText(frame))) && Date.now() < deadline) await page().waitForTimeout(200);
    assert.match(text, /A \(base\)[^]*B \(compared\)[^]*Kernel time by op type \(B − A\)[^]*MatMul/, `Compare view: ${JSON.stringify(text.slice(0, 800))}`);
    await screenshotWebview(page(), frame, shot(OUT, 'compare-two-runs'));
  }),
);

test('Quantize Model… on builtin:tiny-bert keeps a report, writes the model and shows the Quantization view', { timeout: 4 * 60_000 }, () =>
  step('quantize', async () => {
    const runsDir = path.join(ws(), '.twb', 'runs');
    const before = runFiles(runsDir);
    await timed('quantize command', async () => {
      await runCommand(page(), 'Transformer Workbench: Quantize Model…');
      await pickQuickItem(page(), 'builtin:tiny-bert');
      await pickQuickItem(page(), 'int8-dynamic');
      await pickQuickItem(page(), 'Per channel');
    });
    const { frame, text } = await timed('quantization drawn', () =>
      waitForApp(page(), (t) => t.includes('Quantization: int8-dynamic per-channel · tiny-bert') && t.includes('Before and after'), 'the Quantization view of the new int8-dynamic report', 3 * 60_000),
    );
    assert.match(text, /latency p50[^]*\d+\.\d\d ms[^]*speedup[^]*\d+\.\d\d×[^]*output SQNR/, `the before/after table: ${JSON.stringify(text.slice(0, 600))}`);
    const added = runFiles(runsDir).filter((f) => !before.includes(f));
    assert.equal(added.length, 1, `one report kept in ${runsDir}`);
    const report = JSON.parse(await fs.readFile(path.join(runsDir, added[0]), 'utf8'));
    assert.equal(report.kind, 'quantization');
    assert.equal(report.config.mode, 'int8-dynamic');
    assert.equal(report.config.perChannel, true);
    const model = path.join(ws(), '.twb', 'models', 'tiny-bert.int8-dynamic.onnx');
    assert.equal(report.outFile, model, 'a built-in model is written under .twb/models/');
    assert.ok(existsSync(model), `${model} was written`);
    assert.equal(await frame.locator('tr.twb-layer-row').count(), report.layers.length, 'one row per rewritten node');
    await frame.locator('tr.twb-layer-row td.twb-layer-node').nth(1).click();
    await frame.locator('svg.twb-hist').nth(1).waitFor({ timeout: 10_000 });
    await screenshotWebview(page(), frame, shot(OUT, 'quantization'));

    const p = page();
    const row = p.locator('.part.sidebar .monaco-list-row', { hasText: 'int8-dynamic tiny-bert' });
    // An earlier test may have left the Runs view open; clicking its icon again would close it.
    if (!(await row.first().isVisible())) await p.locator('.part.activitybar [aria-label^="Transformer Workbench"]').first().click();
    await row.first().waitFor({ timeout: 30_000 });
    assert.match(await row.first().innerText(), /\d+\.\d\d× · \d+\.\d dB/);
    await p.screenshot({ path: shot(OUT, 'runs-view-quantization') });
  }),
);

test('Train Built-in Model… trains builtin:tiny-bert with window attention and ALBERT sharing, keeps the run and draws the Training view', { timeout: 5 * 60_000 }, () =>
  step('train', async () => {
    const runsDir = path.join(ws(), '.twb', 'runs');
    const before = runFiles(runsDir);
    await timed('train command', async () => {
      await runCommand(page(), 'Transformer Workbench: Train Built-in Model…');
      await pickQuickItem(page(), 'builtin:tiny-bert');
      await pickQuickItem(page(), 'count-compare');
      const attention = page().locator('.quick-input-widget input').filter({ visible: true });
      await attention.fill('window:8');
      await page().keyboard.press('Enter');
      await pickQuickItem(page(), 'all');
    });
    const { frame, text } = await timed('training drawn', () =>
      waitForApp(page(), (t) => t.includes('Training: tiny-bert') && t.includes('tokens / s'), 'the Training view of the new run', 4 * 60_000),
    );
    assert.match(text, /window:8/, `the view names the variant: ${JSON.stringify(text.slice(0, 400))}`);
    const added = runFiles(runsDir).filter((f) => !before.includes(f));
    assert.equal(added.length, 1, `one training run kept in ${runsDir}`);
    const run = JSON.parse(await fs.readFile(path.join(runsDir, added[0]), 'utf8'));
    assert.equal(run.kind, 'training');
    assert.deepEqual(run.variant, { attention: 'window:8', shareLayers: 'all' });
    assert.equal(run.config.steps, TRAIN_STEPS, 'the train.steps setting reached the engine');
    assert.equal(run.loss.length, TRAIN_STEPS);
    assert.ok(run.phases.some((p: { phase: string }) => p.phase === 'backward'), 'the step profile has a backward phase');
    await frame.locator('svg.twb-loss-curve').first().waitFor({ timeout: 10_000 });
    await screenshotWebview(page(), frame, shot(OUT, 'training'));
  }),
);

/** Waits for the input box asking `prompt`, optionally types `value`, and accepts it. */
async function answerInput(prompt: RegExp, value?: string): Promise<void> {
  await page().locator('.quick-input-widget').filter({ visible: true }).getByText(prompt).first().waitFor({ timeout: 30_000 });
  if (value !== undefined) await page().locator('.quick-input-widget input').filter({ visible: true }).fill(value);
  await page().keyboard.press('Enter');
}

test('Plan Pipeline… measures a real 2-stage pipeline of builtin:tiny-gpt, keeps the plan and draws the Pipeline view', { timeout: 4 * 60_000 }, () =>
  step('pipeline', async () => {
    const runsDir = path.join(ws(), '.twb', 'runs');
    const before = runFiles(runsDir);
    await runCommand(page(), 'Transformer Workbench: Plan Pipeline…');
    await pickQuickItem(page(), 'builtin:tiny-gpt');
    await answerInput(/^Schedule:/);
    await answerInput(/^Pipeline stages P/);
    await answerInput(/^Micro-batches per step M/, '4');
    await pickQuickItem(page(), 'Simulate and measure');
    const { frame, text } = await waitForApp(page(), (t) => t.includes('Pipeline: tiny-gpt') && /measured[^]*simulated/i.test(t), 'the Pipeline view with its measurement', 3 * 60_000);
    assert.match(text, /P = 2 · M = 4/, `the view shows the shape asked for: ${JSON.stringify(text.slice(0, 300))}`);
    const added = runFiles(runsDir).filter((f) => !before.includes(f));
    assert.equal(added.length, 1, `one pipeline plan kept in ${runsDir}`);
    const plan = JSON.parse(await fs.readFile(path.join(runsDir, added[0]), 'utf8'));
    assert.equal(plan.kind, 'pipeline');
    assert.equal(plan.measured.timeline.length, 2 * 4, 'the measured pipeline ran every forward block');
    assert.ok(plan.measured.maxAbsDiff <= 1e-4);
    await frame.locator('svg.twb-gantt-measured').first().waitFor({ timeout: 10_000 });
    await screenshotWebview(page(), frame, shot(OUT, 'pipeline'));
  }),
);

test('Plan Memory (ZeRO)… reproduces the ZeRO paper\'s 7.5B × 64 GPUs figure in the Memory-plan view', { timeout: 2 * 60_000 }, () =>
  step('memory-plan', async () => {
    await runCommand(page(), 'Transformer Workbench: Plan Memory (ZeRO)…');
    await answerInput(/^Parameters/);
    await answerInput(/^Data-parallel GPUs N/);
    await pickQuickItem(page(), '1');
    await answerInput(/^Activations:/);
    const { frame } = await waitForApp(page(), (t) => t.includes('Memory plan') && t.includes('ZeRO 3'), 'the Memory-plan view', 60_000);
    // 31.4 GB (10⁹ bytes) per GPU at stage 1 is 29.2 GiB.
    await frame.getByText('29.2 GiB').first().waitFor({ timeout: 10_000 });
    await screenshotWebview(page(), frame, shot(OUT, 'memory-plan'));
  }),
);

test('Suggest Optimizations times kernels, shows ranked cards, and Apply measures a pass beside its estimate', { timeout: 5 * 60_000 }, () =>
  step('suggestions', async () => {
    const runsDir = path.join(ws(), '.twb', 'runs');
    await runCommand(page(), 'Transformer Workbench: Suggest Optimizations');
    const { frame } = await waitForApp(page(), (t) => /Suggestions: tiny-gpt/.test(t) && /ESTIMATE/.test(t), 'the Suggestions view with its cards', 2 * 60_000);
    const kept = runFiles(runsDir).map((f) => JSON.parse(readFileSync(path.join(runsDir, f), 'utf8')) as { kind: string });
    assert.ok(kept.some((d) => d.kind === 'suggestions'), 'the suggestions are kept in .twb/runs');
    const card = frame.locator('.twb-suggestion[data-change="pass"]').first();
    const id = await card.getAttribute('data-suggestion');
    await card.locator('vscode-button.twb-apply').click();
    await card.locator('.twb-measured-value').first().waitFor({ timeout: 3 * 60_000 });
    const log = await fs.readFile(path.join(ws(), '.twb', 'estimates.jsonl'), 'utf8');
    assert.match(log, new RegExp(`"suggestion":"${id}"`), 'the estimate and the measurement are recorded');
    await screenshotWebview(page(), frame, shot(OUT, 'suggestions'));
  }),
);

test('Tune Model… searches under an accuracy budget, keeps the report, draws the Tuning view, and Export writes the tuned config', { timeout: 6 * 60_000 }, () =>
  step('tuning', async () => {
    const runsDir = path.join(ws(), '.twb', 'runs');
    const before = runFiles(runsDir);
    await runCommand(page(), 'Transformer Workbench: Tune Model…');
    await pickQuickItem(page(), 'builtin:tiny-bert');
    await answerOpenDialog(page(), path.join(ws(), 'eval.json'));
    // A budget every trial meets (the labels are arbitrary), so the search keeps a best to export.
    await answerInput(/^Largest accuracy drop/, '100');
    await answerInput(/^Trials at most/, '2');
    const { frame } = await waitForApp(page(), (t) => t.includes('Tuning: builtin:tiny-bert') && /Best configuration: /.test(t), 'the Tuning view with its best configuration', 5 * 60_000);
    const added = runFiles(runsDir).filter((f) => !before.includes(f));
    const kept = added.map((f) => JSON.parse(readFileSync(path.join(runsDir, f), 'utf8')) as { kind: string; trials: unknown[]; best: string; bestConfig: string });
    const tuning = kept.find((d) => d.kind === 'tuning');
    assert.ok(tuning, `the tuning report is kept in .twb/runs (added: ${added.join(', ')})`);
    assert.equal(tuning.trials.length, 2, 'the trial budget of 2');
    assert.ok(existsSync(tuning.bestConfig), 'the best config is kept under .twb/tuned/');
    assert.equal(await frame.locator('svg.twb-pareto circle.twb-pareto-point').count(), 3, 'two trials and the original on the Pareto plot');
    const target = path.join(ws(), 'tuned.twb.json');
    await frame.locator('#twb-tuning-export').click();
    await pickQuickItem(page(), 'twb');
    await answerSaveDialog(page(), target, (meanwhile) => waitForFile(target, 30_000, meanwhile), /^\/.*\.json$/);
    const config = JSON.parse(await fs.readFile(target, 'utf8'));
    assert.equal(config.kind, 'twb-config');
    assert.equal(path.resolve(ws(), config.model), path.join(path.dirname(tuning.bestConfig), 'best.onnx'), 'the exported config names the kept best model');
    await screenshotWebview(page(), frame, shot(OUT, 'tuning'));
  }),
);

test('a PyTorch profiler trace opens in its editor; an operator\'s source frame opens the script at its line', { timeout: 3 * 60_000 }, () =>
  step('trace', async () => {
    await quickOpen(page(), 'resnet50.pt.trace.json.gz');
    const { frame, text } = await waitForApp(page(), (t) => t.includes('resnet50.pt.trace.json.gz') && /aten::/.test(t), 'the trace editor\'s Overview', 90_000);
    assert.match(text, /Tesla V100/, `the devices of the trace: ${JSON.stringify(text.slice(0, 300))}`);
    await (await viewTab(frame, 'Ops')).click();
    await frame.locator('.twb-trace-ops tr[data-op="aten::add_"] button.twb-trace-select').click();
    const link = frame.locator('.twb-trace-sources button.twb-trace-frame[data-line="51"]');
    await link.waitFor({ timeout: 10_000 });
    await link.click();
    await page().locator('.tab.active', { hasText: 'resnet50_profiler_api.py' }).waitFor({ timeout: 30_000 });
    await page().locator('.statusbar-item', { hasText: /Ln 51, Col 1/ }).first().waitFor({ timeout: 10_000 });
    await page().screenshot({ path: shot(OUT, 'trace-source') });
  }),
);

test('a corrupt .onnx file opens with an error that names the problem', { timeout: 2 * 60_000 }, () =>
  step('broken-onnx', async () => {
    await quickOpen(page(), 'broken.onnx');
    const app = await waitForApp(page(), (t) => /not a valid ONNX model/i.test(t), 'the editor of broken.onnx to say "not a valid ONNX model"', 60_000);
    assert.match(app.text, /broken\.onnx/, `the error names the file: ${JSON.stringify(app.text.slice(0, 400))}`);
    const spinners = app.frame.locator('vscode-progress-ring, vscode-progress-bar, .codicon-loading').filter({ visible: true });
    assert.equal(await spinners.count(), 0, 'no progress indicator left spinning beside the error');
    await page().screenshot({ path: shot(OUT, 'broken-onnx') });
  }),
);

test('a real model opens with its summary', { timeout: 2 * 60_000 }, () =>
  step('model-summary', async () => {
    await quickOpen(page(), 'distilbert.onnx');
    const app = await waitForApp(page(), (t) => t.includes('input_ids') && !t.includes(MODEL), 'the summary of distilbert.onnx (input input_ids)', 60_000);
    assert.match(app.text, /attention_mask/, `both inputs are listed: ${JSON.stringify(app.text.slice(0, 400))}`);
    await page().screenshot({ path: shot(OUT, 'model-summary') });
  }),
);

test('in a Restricted Mode folder the profiler opens but runs nothing', { timeout: 3 * 60_000 }, async () => {
  const s: Session = (restricted = {});
  const t0 = Date.now();
  try {
    await step(
      'untrusted',
      async () => {
        const prepare = (workspace: string) => fs.writeFile(path.join(workspace, 'notes.txt'), 'an untrusted folder\n');
        await startSession(s, vsix, { enableWorkspaceTrust: true, prepare, timed, label: 'untrusted' });
        const p = s.browser?.page;
        const workspace = s.sandbox?.workspace;
        assert.ok(p && workspace);
        await expectRestrictedMode(p);
        await runCommand(p, 'Transformer Workbench: Open Profiler');
        const { frame } = await waitForApp(p, (t) => /Overview[^]*Toggles/.test(t), 'the profiler panel', 60_000);
        await (await viewTab(frame, 'Toggles')).click();
        await waitForApp(p, (t) => t.includes('Run configuration') && t.includes(UNTRUSTED_TEXT), `Toggles to say "${UNTRUSTED_TEXT}"`, 20_000);
        assert.equal(await frame.locator('#twb-rerun').evaluate((el) => (el as HTMLElement & { disabled: boolean }).disabled), true, 'Re-run is disabled');
        // The host refuses too, not only the webview: the Re-run command ends in an error that says why.
        await runCommand(p, 'Transformer Workbench: Re-run');
        await p.locator('.notifications-toasts').getByText(UNTRUSTED_TEXT).first().waitFor({ timeout: 20_000 });
        await p.waitForTimeout(600); // let the toast finish sliding in before the screenshot
        await p.screenshot({ path: shot(OUT, 'untrusted') });
        const runsDir = path.join(workspace, '.twb', 'runs');
        for (const deadline = Date.now() + 15_000; Date.now() < deadline; await p.waitForTimeout(500)) assert.deepEqual(runFiles(runsDir), [], `no run kept in ${runsDir}`);
      },
      s,
    );
  } finally {
    await closeSession(s, path.join(OUT, 'logs-untrusted'));
    restricted = undefined;
    timings['untrusted total'] = (Date.now() - t0) / 1000;
  }
});
