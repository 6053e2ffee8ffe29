/**
 * Runs the webview bundle in headless Chromium against a fake VS Code host, under the same strict
 * CSP as the real webview (nonce'd script, no inline styles, nothing remote). The page is served
 * from a fake origin through `page.route`, so nothing touches the network. Every console error,
 * page error and CSP violation is collected in `problems` for the tests to assert on.
 */
import assert from 'node:assert/strict';
import { build } from 'esbuild';
import { pathToFileURL } from 'node:url';
import { mkdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Browser, BrowserContextOptions, chromium, Page } from 'playwright-core';
import { renderReportHtml } from '../../engine/src/export/html-report';
import type { Envelope } from '../../engine/src/protocol/envelope';
import type { HostEvents } from '../../engine/src/protocol/webview';
import type { InferenceRun } from '../../engine/src/schema/run';

export const REPO_ROOT = path.resolve(__dirname, '../..');
export const OUTPUT_DIR = path.join(REPO_ROOT, 'test-output/browser');
const ORIGIN = 'http://twb.test';
const NONCE = 'dGVzdC1ub25jZQ==';

export interface Bundle {
  js: string;
  css: string;
}

let bundle: Promise<Bundle> | undefined;

/**
 * Builds the webview bundle from source with the options scripts/build.mjs uses (build-config.mjs),
 * into test-output/ so that tests never run a stale dist/ and never race a concurrent build.
 */
export function webviewBundle(): Promise<Bundle> {
  bundle ??= (async () => {
    const outdir = path.join(REPO_ROOT, 'test-output/bundle');
    const { webviewBuildOptions } = await import(pathToFileURL(path.join(REPO_ROOT, 'scripts/build-config.mjs')).href);
    await build({ ...webviewBuildOptions(outdir), absWorkingDir: REPO_ROOT });
    return { js: readFileSync(path.join(outdir, 'main.js'), 'utf8'), css: readFileSync(path.join(outdir, 'main.css'), 'utf8') };
  })();
  return bundle;
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.TWB_CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A dark theme's variables, as VS Code sets them on the webview's root. */
const DARK_THEME = `
:root {
  --vscode-font-family: system-ui, "Segoe UI", "Ubuntu", sans-serif; --vscode-font-size: 13px; --vscode-font-weight: normal;
  --vscode-editor-font-family: "Droid Sans Mono", monospace;
  --vscode-foreground: #cccccc; --vscode-editor-foreground: #d4d4d4; --vscode-editor-background: #1e1e1e;
  --vscode-descriptionForeground: #9d9d9d; --vscode-errorForeground: #f48771; --vscode-focusBorder: #007fd4;
  --vscode-panel-border: #80808059; --vscode-widget-border: #303031; --vscode-editorWidget-background: #252526;
  --vscode-charts-foreground: #cccccc; --vscode-charts-lines: #cccccc80; --vscode-charts-red: #f14c4c; --vscode-charts-blue: #3794ff;
  --vscode-charts-yellow: #cca700; --vscode-charts-orange: #d18616; --vscode-charts-green: #89d185; --vscode-charts-purple: #b180d7;
  --vscode-button-background: #0e639c; --vscode-button-foreground: #ffffff; --vscode-button-hoverBackground: #1177bb;
  --vscode-button-secondaryBackground: #3a3d41; --vscode-button-secondaryForeground: #cccccc;
  --vscode-input-background: #3c3c3c; --vscode-input-foreground: #cccccc; --vscode-settings-textInputBackground: #292929;
  --vscode-list-hoverBackground: #2a2d2e; --vscode-testing-iconPassed: #73c991; --vscode-editorWarning-foreground: #cca700;
  --vscode-inputValidation-errorBackground: #5a1d1d; --vscode-inputValidation-errorBorder: #be1100;
  --vscode-editorHoverWidget-background: #252526; --vscode-editorHoverWidget-border: #454545; --vscode-widget-shadow: #0000005c;
  --vscode-progressBar-background: #0e70c0;
}
body { padding: 0 20px; }`;

function workbenchHtml(): string {
  const csp = [`default-src 'none'`, `script-src 'nonce-${NONCE}'`, `style-src ${ORIGIN} 'nonce-${NONCE}'`, `img-src ${ORIGIN} data:`, `font-src ${ORIGIN}`].join('; ');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<style nonce="${NONCE}">${DARK_THEME}</style>
<link rel="stylesheet" nonce="${NONCE}" href="${ORIGIN}/main.css">
</head><body class="vscode-dark"><div id="app"></div>
<script nonce="${NONCE}" src="${ORIGIN}/main.js"></script>
</body></html>`;
}

/** Records what the page sends the host and every CSP violation, before any page script runs. */
const FAKE_HOST = `
window.__posted = [];
window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') + ' at ' + e.sourceFile + ':' + e.lineNumber));
let acquired = false;
window.acquireVsCodeApi = () => {
  if (acquired) throw new Error('An instance of the VS Code API has already been acquired');
  acquired = true;
  return { postMessage: (m) => window.__posted.push(JSON.parse(JSON.stringify(m))), getState: () => undefined, setState: () => {} };
};`;

const CSP_PROBE = `
window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline')));`;

export interface Workbench {
  page: Page;
  /** Console errors, uncaught page errors and CSP violations so far. */
  problems(): Promise<string[]>;
  /** Delivers an envelope as the host would (a `message` event on the window). */
  send(message: Envelope | Record<string, unknown>): Promise<void>;
  /** Sends a host event. */
  event<E extends keyof HostEvents>(event: E, params: HostEvents[E]): Promise<void>;
  /** Everything the page posted to the host so far. */
  posted(): Promise<Array<Record<string, unknown>>>;
  /** Waits until a posted message matches; returns it. */
  waitForPosted(match: (m: Record<string, unknown>) => boolean, what: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Saves a screenshot (full page unless told otherwise) as test-output/browser/NAME.png. */
  screenshot(name: string, opts?: { fullPage?: boolean }): Promise<string>;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** `vscode` (default): the fake VS Code host; `report`: the offline HTML report of `reportInit`. */
  host?: 'vscode' | 'report';
  reportInit?: HostEvents['session/init'];
  context?: BrowserContextOptions;
}

/** Opens the workbench page; in `vscode` mode waits for the app's `ui/ready`. */
export async function openWorkbench(browser: Browser, opts: OpenOptions = {}): Promise<Workbench> {
  const { js, css } = await webviewBundle();
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, deviceScaleFactor: 1, ...opts.context });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  const report = opts.host === 'report';
  const html = report ? renderReportHtml(opts.reportInit as HostEvents['session/init'], { script: js, style: css }, 'report') : workbenchHtml();
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (url === `${ORIGIN}/index.html`) return route.fulfill({ contentType: 'text/html', body: html });
    if (url === `${ORIGIN}/main.js`) return route.fulfill({ contentType: 'text/javascript', body: js });
    if (url === `${ORIGIN}/main.css`) return route.fulfill({ contentType: 'text/css', body: css });
    errors.push(`unexpected request: ${url}`);
    return route.abort();
  });
  await page.addInitScript(report ? CSP_PROBE : FAKE_HOST);
  await page.goto(`${ORIGIN}/index.html`);
  const wb: Workbench = {
    page,
    async problems() {
      const violations = await page.evaluate(() => (window as unknown as { __violations: string[] }).__violations);
      return [...errors, ...violations.map((v) => `CSP: ${v}`)];
    },
    send: (message) => page.evaluate((m) => window.postMessage(m, '*'), message as Record<string, unknown>),
    event: (event, params) => wb.send({ kind: 'event', event, params }),
    posted: () => page.evaluate(() => (window as unknown as { __posted: Array<Record<string, unknown>> }).__posted),
    async waitForPosted(match, what, timeoutMs = 5000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const found = (await wb.posted()).find(match);
        if (found) return found;
        if (Date.now() > until) throw new Error(`timed out waiting for the page to post ${what}; it posted: ${JSON.stringify(await wb.posted()).slice(0, 600)}`);
        await page.waitForTimeout(15);
      }
    },
    async screenshot(name, opts) {
      mkdirSync(OUTPUT_DIR, { recursive: true });
      const file = path.join(OUTPUT_DIR, `${name}.png`);
      await page.screenshot({ path: file, fullPage: opts?.fullPage ?? true });
      return file;
    },
    close: () => context.close(),
  };
  if (!report) await wb.waitForPosted((m) => m.kind === 'event' && m.event === 'ui/ready', 'ui/ready');
  return wb;
}

/** A session/init for the fake host. */
export function initParams(runs: InferenceRun[], over: Partial<HostEvents['session/init']> = {}): HostEvents['session/init'] {
  const form = runs.length ? { ...runs[runs.length - 1].config, model: runs[runs.length - 1].model.source } : { model: 'builtin:tiny-gpt', executionProvider: 'cpu', threads: 0, optLevel: 'all', batch: 1, seq: 128, past: 0, warmup: 5, runs: 30, profiledRuns: 10 };
  const { executionProvider, threads, optLevel, batch, seq, past, warmup, runs: n, profiledRuns } = form as HostEvents['session/init']['form'];
  return {
    mode: 'profiler',
    trusted: true,
    form: { model: form.model, executionProvider, threads, optLevel, batch, seq, past, warmup, runs: n, profiledRuns },
    providers: [
      { name: 'cpu', available: true },
      { name: 'webgpu', available: false, reason: 'no Vulkan adapter (libvulkan.so.1 not found)' },
      { name: 'cuda', available: false, reason: 'the CUDA add-on is not installed' },
    ],
    runs,
    ...over,
  };
}

export function loadFixture(name: string): InferenceRun {
  return JSON.parse(readFileSync(path.join(REPO_ROOT, 'test/fixtures', name), 'utf8')) as InferenceRun;
}

/** Fails on any console error, page error or CSP violation seen so far. */
export async function assertClean(wb: Workbench): Promise<void> {
  assert.deepEqual(await wb.problems(), [], 'no console errors, page errors or CSP violations');
}

/** Number of elements matching `selector`. */
export const count = (wb: Workbench, selector: string): Promise<number> => wb.page.locator(selector).count();

/** Clicks a view's tab. */
export const openTab = (wb: Workbench, view: string): Promise<void> => wb.page.click(`vscode-tab-header[data-view="${view}"]`);

/** Requests the page posted with `method`. */
export const requestsOf = async (wb: Workbench, method: string): Promise<Array<Record<string, unknown>>> => (await wb.posted()).filter((m) => m.kind === 'request' && m.method === method);
