/**
 * The imported-trace renderers (issue #8) in headless Chromium under the webview's CSP: Overview,
 * Ops (sort, filter, selection, source frames, launched kernels, "Show all"), Timeline (painting,
 * tooltip, zoom, click-to-source, 200,000 events), Memory (peak, devices, counters, empty state)
 * and Compare (headline, added/removed, flags, per step). The page is a test-only entry
 * (trace-harness-entry.ts) bundled with the webview's build options; the app's wiring of these
 * renderers is tested with the app.
 *
 * Fixtures: see test/unit/webview-trace.test.ts. The 200,000-event document is made here.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { build } from 'esbuild';
import { mkdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import type { TraceFrame, TraceRun, TraceTimeline } from '../../engine/src/schema/trace';
import { validateTraceRun } from '../../engine/src/schema/validate-trace';
import { formatBytes, formatPercent } from '../../engine/src/util/format';
import { diffOps } from '../../webview/src/model/trace-diff';
import { gpuTotals, topHostOps } from '../../webview/src/model/trace-summary';
import { kernelsLaunchedBy } from '../../webview/src/model/trace-tables';
import { launchBrowser, OUTPUT_DIR, REPO_ROOT } from './harness';
import type { TraceViewName } from './trace-harness-entry';

const ORIGIN = 'http://twb.test';
const NONCE = 'dHJhY2UtdGVzdA==';
const fixture = (name: string) => JSON.parse(readFileSync(path.join(REPO_ROOT, 'test/fixtures/traces', name), 'utf8')) as TraceRun;
const resnet = fixture('resnet50-v100.run.json');
const nccl = fixture('nccl-a100-rank0.run.json');
const tfDemo = fixture('tf-viewer-demo.run.json');
const cpuOnly = fixture('cpu-only-rank34.run.json');

/** resnet50 "after a change": one op twice as slow, one gone, one new, two more steps. */
function changedResnet(): TraceRun {
  const t = structuredClone(resnet) as TraceRun;
  t.id = 'resnet50-changed';
  t.source = { ...t.source, name: 'resnet50-changed.pt.trace.json.gz' };
  const conv = t.opTypes.find((o) => o.opType === 'aten::cudnn_convolution') as TraceRun['opTypes'][number];
  conv.selfUs *= 2;
  conv.totalUs *= 2;
  t.opTypes = t.opTypes.filter((o) => o.opType !== 'aten::zero_');
  t.opTypes.push({ opType: 'aten::scaled_dot_product_attention', calls: 12, selfUs: 900, totalUs: 900, selfShare: 0 });
  return t;
}

/** A trace whose timeline holds `events` events: 4 CPU threads nested 4 deep and 2 GPU streams; 260 op names and 40 kernel names. */
function syntheticTrace(events: number): TraceRun {
  const names = Array.from({ length: 300 }, (_, i) => (i < 260 ? `aten::op_${i}` : `kernel_${i}`));
  const tl: TraceTimeline = { lanes: [...[0, 1, 2, 3].map((i) => ({ name: `python · thread ${i}`, kind: 'cpu' as const })), { name: 'GPU 0 · stream 7', kind: 'gpu' }, { name: 'GPU 0 · stream 20', kind: 'gpu' }], names, lane: [], startUs: [], durUs: [], name: [], depth: [], frame: [], dropped: 0 };
  let seed = 7;
  const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const perLane = Math.floor(events / 6);
  let spanUs = 0;
  for (let lane = 0; lane < 6; lane++) {
    let now = 0;
    const gpu = lane >= 4;
    const quota = lane < 5 ? perLane : events - tl.lane.length;
    for (let n = 0; n < quota; ) {
      // A CPU op of 4 nested levels (parent and three children at decreasing depth), or one kernel.
      const levels = Math.min(gpu ? 1 : 4, quota - n);
      const dur = 20 + Math.floor(rnd() * 200);
      for (let d = 0; d < levels; d++) {
        tl.lane.push(lane);
        tl.startUs.push(now + d * 2);
        tl.durUs.push(Math.max(1, dur - d * 4));
        tl.name.push(gpu ? 260 + Math.floor(rnd() * 40) : Math.floor(rnd() * 260));
        tl.depth.push(d);
        tl.frame.push(-1);
        n++;
      }
      now += dur + Math.floor(rnd() * 10);
    }
    spanUs = Math.max(spanUs, now);
  }
  const calls = new Map<number, number>();
  tl.name.forEach((n) => calls.set(n, (calls.get(n) ?? 0) + 1));
  const opTypes = names.slice(0, 260).map((opType, i) => ({ opType, calls: calls.get(i) ?? 0, selfUs: 100 + i, totalUs: 200 + i, selfShare: 0.005 }));
  const t: TraceRun = {
    schemaVersion: 1,
    kind: 'trace',
    id: 'synthetic-200k',
    createdAt: '2026-11-29T12:00:00Z',
    source: { file: '/home/user/traces/synthetic.json', name: 'synthetic.json', format: 'kineto', fileBytes: 1, jsonBytes: 1, gzip: false, events },
    meta: { devices: [{ id: 0, name: 'Synthetic GPU' }] },
    spanUs,
    opTypes,
    kernels: [],
    gpu: null,
    communication: null,
    steps: Array.from({ length: 10 }, (_, i) => ({ name: `ProfilerStep#${i}`, step: i, startUs: (i * spanUs) / 10, durUs: spanUs / 10 })),
    timeline: tl,
    frames: [],
    warnings: [],
  };
  return validateTraceRun(t);
}

const synthetic = syntheticTrace(200_000);
/** Document indices in the page. */
const DOC = { resnet: 0, nccl: 1, tfDemo: 2, cpuOnly: 3, changed: 4, synthetic: 5 };
const docs = [resnet, nccl, tfDemo, cpuOnly, changedResnet(), synthetic];

async function bundle(): Promise<{ js: string; css: string }> {
  const outdir = path.join(REPO_ROOT, 'test-output/trace-bundle');
  const { webviewBuildOptions } = await import(pathToFileURL(path.join(REPO_ROOT, 'scripts/build-config.mjs')).href);
  await build({ ...webviewBuildOptions(outdir), entryPoints: { trace: 'test/browser/trace-harness-entry.ts' }, absWorkingDir: REPO_ROOT });
  return { js: readFileSync(path.join(outdir, 'trace.js'), 'utf8'), css: readFileSync(path.join(outdir, 'trace.css'), 'utf8') };
}

/** The page: the webview's CSP (nonce'd script, no inline style), a dark theme, the documents as a JSON block. */
function pageHtml(): string {
  const csp = [`default-src 'none'`, `script-src 'nonce-${NONCE}'`, `style-src ${ORIGIN} 'nonce-${NONCE}'`, `img-src ${ORIGIN} data:`, `font-src ${ORIGIN}`].join('; ');
  const theme = `:root { --vscode-font-family: system-ui, sans-serif; --vscode-font-size: 13px; --vscode-editor-font-family: monospace; --vscode-foreground: #cccccc; --vscode-editor-foreground: #d4d4d4; --vscode-editor-background: #1e1e1e; --vscode-descriptionForeground: #9d9d9d; --vscode-focusBorder: #007fd4; --vscode-panel-border: #80808059; --vscode-editorWidget-background: #252526; --vscode-charts-lines: #cccccc80; --vscode-charts-red: #f14c4c; --vscode-charts-blue: #3794ff; --vscode-charts-yellow: #cca700; --vscode-charts-orange: #d18616; --vscode-charts-green: #89d185; --vscode-charts-purple: #b180d7; --vscode-button-background: #0e639c; --vscode-button-foreground: #ffffff; --vscode-button-secondaryBackground: #3a3d41; --vscode-button-secondaryForeground: #cccccc; --vscode-input-background: #3c3c3c; --vscode-input-foreground: #cccccc; --vscode-textLink-foreground: #3794ff; }
body { padding: 0 20px; }`;
  // `<` escaped so that no document text can close the block.
  const data = JSON.stringify(docs).replace(/</g, '\\u003c');
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<style nonce="${NONCE}">${theme}</style>
<link rel="stylesheet" nonce="${NONCE}" href="${ORIGIN}/trace.css">
</head><body class="vscode-dark"><div id="app"></div>
<script type="application/json" id="twb-trace-docs">${data}</script>
<script nonce="${NONCE}" src="${ORIGIN}/trace.js"></script>
</body></html>`;
}

const CSP_PROBE = `window.__violations = []; document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline')));`;

let browser: Browser;
let page: Page;
const errors: string[] = [];

before(async () => {
  const { js, css } = await bundle();
  const html = pageHtml();
  browser = await launchBrowser();
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, deviceScaleFactor: 1 });
  page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (url === `${ORIGIN}/index.html`) return route.fulfill({ contentType: 'text/html', body: html });
    if (url === `${ORIGIN}/trace.js`) return route.fulfill({ contentType: 'text/javascript', body: js });
    if (url === `${ORIGIN}/trace.css`) return route.fulfill({ contentType: 'text/css', body: css });
    errors.push(`unexpected request: ${url}`);
    return route.abort();
  });
  await page.addInitScript(CSP_PROBE);
  await page.goto(`${ORIGIN}/index.html`);
  await page.locator('body[data-ready="true"]').waitFor({ state: 'attached' });
});

after(async () => {
  await browser?.close();
});

const show = (view: TraceViewName, doc: number, opts: { other?: number; host?: boolean } = {}) => page.evaluate(([v, d, o]) => window.__traceShow(v, d, o), [view, doc, opts] as const);
const count = (selector: string) => page.locator(selector).count();
const opened = () => page.evaluate(() => window.__opened.splice(0));
const shot = async (name: string, fullPage = false) => {
  mkdirSync(OUTPUT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(OUTPUT_DIR, `${name}.png`), fullPage });
};

async function assertClean(): Promise<void> {
  const violations = await page.evaluate(() => (window as unknown as { __violations: string[] }).__violations);
  assert.deepEqual([...errors, ...violations.map((v) => `CSP: ${v}`)], [], 'no console errors, page errors or CSP violations');
}

describe('trace views', () => {
  test('Overview of a distributed GPU trace: figures, devices, communication, top ops and kernels', async () => {
    await show('overview', DOC.nccl);
    const root = page.locator(`.twb-trace-overview[data-trace="${nccl.id}"]`);
    await root.waitFor();
    assert.equal(await page.locator('[data-stat="gpu-utilization"] .twb-stat-value').innerText(), formatPercent(gpuTotals(nccl.gpu)!.utilization));
    assert.equal(await page.locator('[data-stat="overlap"] .twb-stat-value').innerText(), formatPercent(nccl.communication!.overlapShare));
    const text = await root.innerText();
    assert.match(text, /rank 0 of 2 · nccl/);
    assert.match(text, /NVIDIA A100/);
    assert.match(text, /profile_memory=True/, 'the memory card says how to record memory');
    assert.match(text, /ProfilerStep/);
    const labels = await page.locator('.twb-trace-top-ops .twb-bar-row').evaluateAll((els) => els.map((e) => e.getAttribute('data-name')));
    assert.deepEqual(labels, topHostOps(nccl, 10).map((b) => b.label), 'top host ops by self time, in order');
    assert.equal(await count('.twb-trace-top-kernels .twb-bar-row'), 10);
    assert.equal(await count('.twb-trace-comm .twb-trace-overlap'), 1);
    assert.equal(await count(`table.twb-trace-gpu tbody tr`), nccl.gpu!.devices.length);
    await shot('trace-overview', true);
    await assertClean();
  });

  test('Overview with stacks and memory: source links open frames; the offline report shows text', async () => {
    await show('overview', DOC.resnet);
    await page.locator(`.twb-trace-overview[data-trace="${resnet.id}"]`).waitFor();
    assert.equal(await page.locator('[data-stat="memory-peak"] .twb-stat-value').innerText(), formatBytes(resnet.memory!.peakBytes));
    const link = page.locator('.twb-trace-top-ops button.twb-trace-frame').first();
    await link.click();
    const [frame] = await opened();
    assert.ok(frame && resnet.frames.some((f) => f.file === frame.file && f.line === frame.line), `opens a frame of the trace: ${JSON.stringify(frame)}`);
    await show('overview', DOC.resnet, { host: false });
    assert.equal(await count('.twb-trace-top-ops button.twb-trace-frame'), 0, 'no buttons without a host');
    assert.ok((await count('.twb-trace-top-ops span.twb-trace-frame')) > 0, 'frames as plain text');
    await show('overview', DOC.cpuOnly);
    const text = await page.locator('.twb-trace-overview').innerText();
    assert.match(text, /No accelerator/);
    assert.match(text, /rank 34 of 300 · gloo/);
    await assertClean();
  });

  test('Ops: sortable, filtered table; the selected op’s frames and kernels; top launchers select ops', async () => {
    await show('ops', DOC.resnet);
    const rows = page.locator('table.twb-trace-ops-table tbody tr');
    await rows.first().waitFor();
    assert.equal(await rows.count(), resnet.opTypes.length);
    const firstOp = () => rows.first().getAttribute('data-op');
    assert.equal(await firstOp(), resnet.opTypes[0].opType, 'largest self time first');
    await page.click('table.twb-trace-ops-table th[data-key="calls"] button');
    const mostCalls = [...resnet.opTypes].sort((a, b) => b.calls - a.calls || a.opType.localeCompare(b.opType))[0];
    assert.equal(await firstOp(), mostCalls.opType, 'numbers sort largest first on the first click');
    await page.click('table.twb-trace-ops-table th[data-key="calls"] button');
    assert.notEqual(await firstOp(), mostCalls.opType, 'a second click reverses');

    await page.locator('.twb-trace-filter input').fill('convolution');
    const names = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-op') ?? ''));
    assert.ok(names.length > 0 && names.every((n) => n.toLowerCase().includes('convolution')), `filtered, ignoring case: ${names.join(', ')}`);
    assert.match(await page.locator('.twb-count').innerText(), /of 88 operators/);
    await page.locator('.twb-trace-filter input').fill('');

    // An op launched kernels: its detail lists them.
    const launcher = resnet.kernels[0].launchers[0].opType;
    await page.click(`table.twb-trace-ops-table tr[data-op="${launcher}"] .twb-trace-select`);
    assert.equal(await page.locator('.twb-trace-detail-name').innerText(), launcher);
    assert.equal(await count('table.twb-trace-launched tbody tr'), kernelsLaunchedBy(resnet, launcher).length);
    assert.equal(await count(`table.twb-trace-ops-table tr.twb-trace-selected[data-op="${launcher}"]`), 1);

    // An op with frames: they open.
    const withFrames = resnet.opTypes.find((o) => o.sources?.length)!;
    await page.click(`table.twb-trace-ops-table tr[data-op="${withFrames.opType}"] .twb-trace-select`);
    await page.click('.twb-trace-sources button.twb-trace-frame');
    assert.deepEqual(await opened(), [resnet.frames[withFrames.sources![0].frame]] as TraceFrame[]);

    // Kernel table: a top launcher selects that op.
    assert.equal(await count('table.twb-trace-kernels-table tbody tr'), resnet.kernels.length);
    const k = resnet.kernels.find((x) => x.launchers.length && x.launchers[0].opType !== withFrames.opType)!;
    await page.click(`table.twb-trace-kernels-table tr[data-kernel="${k.name}"] button[data-op]`);
    assert.equal(await page.locator('.twb-trace-detail-name').innerText(), [...k.launchers].sort((a, b) => b.totalUs - a.totalUs)[0].opType);
    await page.mouse.move(5, 5);
    await shot('trace-ops');
    await assertClean();
  });

  test('Ops: large tables render 200 rows and "Show all"', async () => {
    await show('ops', DOC.synthetic);
    await page.locator('table.twb-trace-ops-table tbody tr').first().waitFor();
    assert.equal(await count('table.twb-trace-ops-table tbody tr'), 200);
    await page.click('.twb-trace-ops-card vscode-button[data-action="show-all"]');
    assert.equal(await count('table.twb-trace-ops-table tbody tr'), synthetic.opTypes.length);
    assert.match(await page.locator('.twb-trace-kernels-table, .twb-trace-ops').first().innerText(), /No GPU kernels/);
    await assertClean();
  });

  test('Timeline: paints lanes and steps, names events on hover, zooms, and opens a frame on click', async () => {
    await show('timeline', DOC.resnet);
    const canvas = page.locator('canvas.twb-trace-timeline-canvas');
    await canvas.waitFor();
    await page.waitForFunction(() => window.__traceTimelineStats?.firstDrawMs !== undefined);
    const stats = await page.evaluate(() => window.__traceTimelineStats);
    assert.equal(stats?.events, resnet.timeline.lane.length);
    assert.ok((stats?.marks ?? 0) > 0 && (stats?.marks ?? 0) < resnet.timeline.lane.length, `level of detail merges (${stats?.marks} marks)`);
    const painted = await canvas.evaluate((c: HTMLCanvasElement) => {
      const d = (c.getContext('2d') as CanvasRenderingContext2D).getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
      return n / (d.length / 4);
    });
    assert.ok(painted > 0.2, `canvas is painted (${(painted * 100).toFixed(0)}%)`);

    // Row 0 of lane 0 (the main thread) starts under the axis and the step band: ProfilerStep#N, with its frame.
    const box = (await canvas.boundingBox())!;
    const y = box.y + 22 + 16 + 4 + 2 + 4;
    await page.mouse.move(box.x + 190 + (box.width - 190) * 0.3, y);
    const tip = page.locator('.twb-tooltip:not([hidden])');
    await tip.waitFor();
    const tipText = await tip.innerText();
    assert.match(tipText, /ProfilerStep#\d+/);
    assert.match(tipText, /python · thread 25738/);
    assert.match(tipText, /resnet50_profiler_api\.py:54 \(click to open\)/);
    await page.mouse.click(box.x + 190 + (box.width - 190) * 0.3, y);
    assert.deepEqual(await opened(), [resnet.frames[0]]);

    const domainAfter = async (action: () => Promise<void>): Promise<[number, number]> => {
      const prev = (await page.evaluate(() => window.__traceTimelineStats?.domain)) as [number, number];
      await action();
      await page.waitForFunction(([a, b]) => window.__traceTimelineStats?.domain[0] !== a || window.__traceTimelineStats?.domain[1] !== b, prev);
      return (await page.evaluate(() => window.__traceTimelineStats?.domain)) as [number, number];
    };
    const before = stats!.domain;
    await canvas.focus();
    await domainAfter(() => page.keyboard.press('+'));
    const zoomed = await domainAfter(() => page.keyboard.press('+'));
    assert.ok(zoomed[1] - zoomed[0] < (before[1] - before[0]) / 2, 'zoomed in with +');
    const panned = await domainAfter(() => page.keyboard.press('ArrowRight'));
    assert.ok(panned[0] > zoomed[0], 'panned right');
    await page.mouse.move(box.x + box.width / 2, y + 30);
    const wheeled = await domainAfter(() => page.mouse.wheel(0, -600));
    assert.ok(wheeled[1] - wheeled[0] < panned[1] - panned[0], 'the wheel zooms in');
    await page.mouse.move(box.x + box.width * 0.6, y + 40);
    await shot('trace-timeline');
    await page.keyboard.press('0');
    await page.mouse.move(5, 5);
    await assertClean();
  });

  test('Timeline stays bounded with 200,000 events (frame times reported, not asserted)', async () => {
    await show('timeline', DOC.synthetic);
    await page.waitForFunction(() => window.__traceTimelineStats?.firstDrawMs !== undefined, undefined, { timeout: 30_000 });
    const canvas = page.locator('canvas.twb-trace-timeline-canvas');
    const box = (await canvas.boundingBox())!;
    const first = await page.evaluate(() => ({ ...window.__traceTimelineStats! }));
    assert.equal(first.events, 200_000);
    const rows = 4 * 4 + 2;
    const plot = box.width - 190 - 12;
    assert.ok(first.marks <= rows * Math.ceil(plot), `at most one mark per pixel column per row (${first.marks})`);
    const cx = box.x + box.width / 2;
    const cy = box.y + 80;
    await page.mouse.move(cx, cy);
    for (let i = 0; i < 12; i++) await page.mouse.wheel(0, -300);
    for (let i = 0; i < 8; i++) {
      await page.mouse.down();
      await page.mouse.move(cx - 120, cy, { steps: 3 });
      await page.mouse.up();
      await page.mouse.move(cx, cy);
    }
    for (let i = 0; i < 12; i++) await page.mouse.wheel(0, 300);
    await page.waitForTimeout(100);
    const s = await page.evaluate(() => ({ ...window.__traceTimelineStats! }));
    const frames = [...s.frames].sort((a, b) => a - b);
    const q = (p: number) => frames[Math.min(frames.length - 1, Math.floor(p * frames.length))];
    console.log(`# trace timeline, 200,000 events: first frame ${s.firstDrawMs?.toFixed(0)} ms after mount; ${frames.length} frames, p50 ${q(0.5).toFixed(1)} ms, p95 ${q(0.95).toFixed(1)} ms, max ${frames[frames.length - 1].toFixed(1)} ms; ${s.marks} marks in the last frame`);
    assert.ok(frames.length > 5, 'zoom and pan drew frames');
    await assertClean();
  });

  test('Memory: the allocation curve with its peak, peaks per device, counters, and how to record memory', async () => {
    await show('memory', DOC.resnet);
    const label = page.locator('.twb-trace-memory .twb-peak-label');
    await label.waitFor();
    assert.equal(await label.textContent(), 'peak 2.60 GiB on cuda:0 at 122.07 ms');
    assert.deepEqual(await page.locator('table.twb-trace-mem-devices tbody tr').evaluateAll((els) => els.map((e) => e.getAttribute('data-device'))), ['cuda:0', 'cpu']);
    const area = await page.locator('.twb-trace-memory-chart .twb-memory-line').getAttribute('d');
    assert.ok((area ?? '').length > 1000, 'the curve has its points');
    await shot('trace-memory');
    await show('memory', DOC.cpuOnly);
    assert.match(await page.locator('.twb-trace-memory').innerText(), /profile_memory=True/);
    await show('memory', DOC.tfDemo);
    await page.locator('svg.twb-trace-counter-chart').first().waitFor();
    assert.equal(await count('figure.twb-trace-counter'), tfDemo.counters!.length);
    assert.equal(await count('svg.twb-trace-counter-chart path.twb-trace-counter-line'), tfDemo.counters!.length);
    await assertClean();
  });

  test('Compare: headline, per-op deltas sorted by |Δ self|, added and removed flagged, per step', async () => {
    const changed = docs[DOC.changed];
    await show('compare', DOC.resnet, { other: DOC.changed });
    const rows = page.locator('table.twb-trace-compare-ops tbody tr');
    await rows.first().waitFor();
    const want = diffOps(resnet, changed);
    assert.equal(await rows.count(), want.length);
    assert.equal(await rows.first().getAttribute('data-op'), 'aten::cudnn_convolution', 'the largest change first');
    assert.equal(await rows.first().getAttribute('data-flag'), 'regression');
    assert.match(await rows.first().getAttribute('class') ?? '', /twb-regression/);
    assert.equal(await page.locator('tr[data-op="aten::zero_"]').getAttribute('data-status'), 'removed');
    assert.match(await page.locator('tr[data-op="aten::zero_"] .twb-trace-badge').innerText(), /^removed$/i);
    assert.equal(await page.locator('tr[data-op="aten::scaled_dot_product_attention"]').getAttribute('data-status'), 'added');
    assert.equal(await count('table.twb-trace-compare-ops tr[data-flag="regression"]'), want.filter((r) => r.flag === 'regression').length);
    assert.equal(await count('table.twb-trace-compare-kernels tbody tr'), resnet.kernels.length);
    assert.equal(await count('table.twb-trace-compare-kernels tr[data-status="both"]'), resnet.kernels.length, 'same kernels on both sides');
    const headline = await page.locator('table.twb-trace-compare-headline tbody tr').evaluateAll((els) => els.map((e) => e.getAttribute('data-row')));
    assert.ok(headline.includes('GPU utilization') && headline.includes('memory peak') && headline.includes('mean step time'));
    await page.click('vscode-button[data-mode="step"]');
    await page.locator('vscode-button[data-mode="step"][aria-pressed="true"]').waitFor();
    assert.ok((await count('table.twb-trace-compare-headline tr[data-row="host self time per step"]')) === 1, 'per-step figures');
    await page.locator('.twb-trace-filter input').fill('convolution');
    const names = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-op') ?? ''));
    assert.ok(names.length > 0 && names.every((n) => n.toLowerCase().includes('convolution')));
    await page.locator('.twb-trace-filter input').fill('');
    await shot('trace-compare');
    await show('compare', DOC.nccl, { other: DOC.tfDemo });
    assert.ok((await count('table.twb-trace-compare-ops tr[data-status="removed"]')) > 0, 'a CPU trace against a GPU one: mostly removed ops');
    assert.match(await page.locator('.twb-trace-compare').innerText(), /Whole-trace sums/, 'no per-step switch without steps on both sides');
    await assertClean();
  });
});
