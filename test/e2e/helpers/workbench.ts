import { BrowserContext, chromium, Frame, Locator, Page } from 'playwright-core';
import * as path from 'node:path';

/** Debian's chromium; playwright-core downloads no browser. */
const CHROMIUM = process.env.TWB_E2E_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'];

/** Headless chromium with its profile under `profileDir`, and what its pages reported. */
export class Browser {
  readonly problems: string[] = [];

  private constructor(
    readonly context: BrowserContext,
    readonly page: Page,
  ) {}

  /** `env` should point HOME and XDG_* somewhere temporary: chromium writes crash reports and dconf there. */
  static async launch(profileDir: string, env: NodeJS.ProcessEnv): Promise<Browser> {
    const context = await chromium.launchPersistentContext(profileDir, { executablePath: CHROMIUM, headless: true, viewport: { width: 1400, height: 900 }, args: CHROMIUM_ARGS, env: env as Record<string, string> });
    const page = context.pages()[0] ?? (await context.newPage());
    const b = new Browser(context, page);
    watchPage(page, b.problems);
    return b;
  }

  /**
   * Another tab, with its own list of problems: console errors, uncaught exceptions, and every
   * Content-Security-Policy violation (reported through an init script, which CSP does not block).
   */
  async newPage(): Promise<{ page: Page; problems: string[] }> {
    const page = await this.context.newPage();
    const problems: string[] = [];
    watchPage(page, problems);
    await page.addInitScript({ content: CSP_REPORTER });
    return { page, problems };
  }

  async close(): Promise<void> {
    await this.context.close().catch(() => undefined);
  }
}

function watchPage(page: Page, problems: string[]): void {
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error (${m.location().url.slice(0, 100)}): ${m.text().slice(0, 300)}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${String(e).slice(0, 300)}`));
}

/** Turns each CSP violation of a page into a console error. */
const CSP_REPORTER = `document.addEventListener('securitypolicyviolation', (e) => {
  console.error('CSP violation: ' + e.violatedDirective + ' blocked ' + (e.blockedURI || '(inline)') + ' at ' + e.sourceFile + ':' + e.lineNumber);
});`;

/** Opens the workbench on `folder` and waits until the window is usable. */
export async function openWorkbench(page: Page, url: string, folder: string): Promise<void> {
  await page.goto(`${url}/?folder=${encodeURIComponent(folder)}`, { waitUntil: 'domcontentloaded', timeout: 60_000 });
  await page.locator('.monaco-workbench').waitFor({ timeout: 90_000 });
  await page.locator('.part.statusbar').waitFor({ timeout: 60_000 });
  // The explorer shows the folder's files once the workbench has restored its views, and the
  // activity bar shows the extension's container once the extension host has registered it.
  await page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ timeout: 60_000 });
  await page.locator('.part.activitybar [aria-label^="Transformer Workbench"]').first().waitFor({ timeout: 60_000 });
}

/** Gives keyboard focus back to the workbench (a webview may hold it): a click on empty status bar. */
async function focusWorkbench(page: Page): Promise<void> {
  const bar = page.locator('.part.statusbar');
  const box = await bar.boundingBox();
  await bar.click({ position: { x: Math.round((box?.width ?? 800) / 2), y: Math.round((box?.height ?? 22) / 2) } });
}

/**
 * Opens a quick input with `open`, types `text` and presses Enter once the focused row is
 * `rowLabel`. A quick input lists what was registered when it opened, and right after the
 * workbench loads the extension's commands (or the file index) may still be on their way, so it
 * closes and reopens until the row shows up.
 */
async function quickInput(page: Page, open: string, text: string, rowLabel: string, timeoutMs = 60_000): Promise<void> {
  const input = page.locator('.quick-input-widget input');
  const row = page.locator(`.quick-input-list .monaco-list-row.focused[aria-label*=${JSON.stringify(rowLabel)}]`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await focusWorkbench(page);
    await page.keyboard.press(open);
    await input.waitFor({ state: 'visible', timeout: 20_000 });
    await input.fill(text);
    try {
      await row.waitFor({ timeout: 5000 });
      break;
    } catch (e) {
      if (Date.now() > deadline) {
        const rows = await page.locator('.quick-input-list .monaco-list-row').evaluateAll((els) => els.map((el) => el.getAttribute('aria-label')));
        throw new Error(`"${rowLabel}" is not the first row after ${open} "${text}"; rows: ${JSON.stringify(rows)}`, { cause: e });
      }
      await page.keyboard.press('Escape');
    }
  }
  await page.keyboard.press('Enter');
}

/** F1, the command's title, Enter. */
export async function runCommand(page: Page, title: string): Promise<void> {
  await quickInput(page, 'F1', `>${title}`, title);
}

/**
 * Chooses `label` in the quick pick a command is opening: waits until the list offers it (the
 * palette's own list may still be showing), types it as the filter, and presses Enter once it is
 * the focused row.
 */
export async function pickQuickItem(page: Page, label: string, timeoutMs = 30_000): Promise<void> {
  const input = page.locator('.quick-input-widget input').filter({ visible: true });
  const offered = page.locator(`.quick-input-list .monaco-list-row[aria-label*=${JSON.stringify(label)}]`);
  try {
    await offered.first().waitFor({ timeout: timeoutMs });
  } catch (e) {
    const rows = await page.locator('.quick-input-list .monaco-list-row').evaluateAll((els) => els.map((el) => el.getAttribute('aria-label')));
    throw new Error(`no quick pick offered "${label}"; rows: ${JSON.stringify(rows)}`, { cause: e });
  }
  await input.fill(label);
  await page.locator(`.quick-input-list .monaco-list-row.focused[aria-label*=${JSON.stringify(label)}]`).waitFor({ timeout: 10_000 });
  await page.keyboard.press('Enter');
}

/** Ctrl+P, the file's name, Enter: opens it with its default editor. */
export async function quickOpen(page: Page, fileName: string): Promise<void> {
  await quickInput(page, 'Control+P', fileName, fileName);
}

/** The modal dialog VS Code shows over the workbench, if any. */
const modalDialog = (page: Page) => page.locator('.monaco-dialog-box').filter({ visible: true });

/**
 * With workspace trust on, a fresh folder is untrusted. VS Code may ask "Do you trust the authors
 * of the files in this folder?" (answered "No"), or open it in Restricted Mode without asking; either
 * way this returns once the status bar shows "Restricted Mode" and no modal is left.
 */
export async function expectRestrictedMode(page: Page, timeoutMs = 60_000): Promise<void> {
  const indicator = page.locator('.part.statusbar').getByText('Restricted Mode');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const dialog = modalDialog(page);
    if ((await dialog.count()) > 0) {
      const text = (await dialog.first().innerText()).replace(/\s+/g, ' ');
      if (!/trust/i.test(text)) throw new Error(`unexpected dialog: ${text.slice(0, 300)}`);
      await dialog.first().locator('.monaco-button', { hasText: /don.t trust/i }).first().click();
    } else if (await indicator.first().isVisible()) return;
    if (Date.now() > deadline) throw new Error(`no "Restricted Mode" in the status bar after ${timeoutMs / 1000} s; it shows ${JSON.stringify(await page.locator('.part.statusbar').innerText())}`);
    await page.waitForTimeout(250);
  }
}

/**
 * Answers a save dialog that is opening: code-server's "simple file dialog" is a quick input holding
 * a path. Waits for it to show the suggested `*.html` path, types `target` (absolute) and presses
 * Enter; `whenWritten` is then polled, and an "already exists, replace?" confirmation answered.
 */
export async function answerSaveDialog(page: Page, target: string, whenWritten: (meanwhile: () => Promise<void>) => Promise<boolean>, suggested: RegExp = /^\/.*\.html$/): Promise<void> {
  const input = page.locator('.quick-input-widget input').filter({ visible: true });
  const deadline = Date.now() + 30_000;
  let value = '';
  // The palette's quick input closes and the dialog's opens in the same widget: wait for a path.
  while (!suggested.test((value = await input.inputValue().catch(() => ''))) && Date.now() < deadline) await page.waitForTimeout(200);
  if (!value.startsWith('/')) throw new Error(`no save dialog with a path; the quick input holds ${JSON.stringify(value)}`);
  await input.fill(target);
  await page.waitForTimeout(300); // the dialog completes typed paths asynchronously
  await page.keyboard.press('Enter');
  const replace = async () => {
    const dialog = modalDialog(page);
    if ((await dialog.count()) > 0 && /exists/i.test(await dialog.first().innerText())) await dialog.first().locator('.monaco-button', { hasText: /replace|overwrite|yes|ok/i }).first().click();
  };
  if (!(await whenWritten(replace))) {
    const left = await input.inputValue().catch(() => '(closed)');
    throw new Error(`${target} was not written; the quick input holds ${JSON.stringify(left)}, dialogs: ${JSON.stringify(await modalDialog(page).allInnerTexts())}`);
  }
}

/**
 * Answers an open-file dialog that is opening (code-server's simple file dialog: a quick input
 * holding a folder path): types the file's absolute path and presses Enter.
 */
export async function answerOpenDialog(page: Page, file: string): Promise<void> {
  const input = page.locator('.quick-input-widget input').filter({ visible: true });
  const deadline = Date.now() + 30_000;
  let value = '';
  while (!/^\/.*\/$/.test((value = await input.inputValue().catch(() => ''))) && Date.now() < deadline) await page.waitForTimeout(200);
  if (!value.startsWith('/')) throw new Error(`no open dialog with a folder path; the quick input holds ${JSON.stringify(value)}`);
  await input.fill(file);
  await page.waitForTimeout(300); // the dialog completes typed paths asynchronously
  await page.keyboard.press('Enter');
}

/** A webview frame of the extension (the inner `#active-frame` holding `#app`) and its text. */
export interface AppFrame {
  frame: Frame;
  text: string;
}

/**
 * Text of `#app`, including what custom elements render in their shadow roots. A string, not a
 * function: tsx would compile a function with `__name` helpers that do not exist in the page.
 */
const textScript = (selector: string) => `(() => {
  const app = document.querySelector(${JSON.stringify(selector)});
  if (!app) return undefined;
  const parts = [];
  const visit = (n) => {
    if (n.nodeType === Node.TEXT_NODE) parts.push(n.textContent || '');
    if (n instanceof Element) {
      if (n.tagName === 'STYLE' || n.tagName === 'SCRIPT' || getComputedStyle(n).display === 'none') return;
      if (n.shadowRoot) n.shadowRoot.childNodes.forEach(visit);
    }
    n.childNodes.forEach(visit);
    if (n instanceof Element && getComputedStyle(n).display !== 'inline') parts.push('\\n');
  };
  visit(app);
  return parts.join(' ').replace(/[ \\t]+/g, ' ').replace(/\\s*\\n\\s*/g, '\\n').trim();
})()`;

async function appText(frame: Frame, selector = '#app'): Promise<string | undefined> {
  return (await frame.evaluate(textScript(selector))) as string | undefined;
}

/** Error notifications the extension raised ("Transformer Workbench: …"). */
export async function extensionErrors(page: Page): Promise<string[]> {
  const toasts = page.locator('.notifications-toasts .notification-list-item').filter({ has: page.locator('.codicon-error') });
  return (await toasts.allInnerTexts().catch(() => [])).map((t) => t.replace(/\s+/g, ' ').trim()).filter((t) => t.includes('Transformer Workbench'));
}

/**
 * Waits for an extension webview whose `#app` text satisfies `ok`. On timeout the error lists what
 * every webview showed instead (a stuck spinner, an error), so failures say what happened.
 */
export async function waitForApp(page: Page, ok: (text: string) => boolean, what: string, timeoutMs: number): Promise<AppFrame> {
  const deadline = Date.now() + timeoutMs;
  const earlier = new Set(await extensionErrors(page));
  let seen: string[] = [];
  for (;;) {
    seen = [];
    for (const frame of page.frames()) {
      const text = await appText(frame).catch(() => undefined);
      if (text === undefined) continue;
      if (ok(text)) return { frame, text };
      seen.push(text);
    }
    // An error from the extension will not turn into the expected view: say so now, not at the timeout.
    const errors = (await extensionErrors(page)).filter((e) => !earlier.has(e));
    if (errors.length) throw new Error(`waiting for ${what}, the extension reported: ${errors.join(' | ')}`);
    if (Date.now() > deadline) {
      const shown = seen.length ? seen.map((t, i) => `webview ${i + 1}: ${JSON.stringify(t.slice(0, 600))}`).join('\n') : 'no webview with #app';
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}; ${page.frames().length} frames; ${shown}`);
    }
    await page.waitForTimeout(250);
  }
}

/** Text of the app's active view (`#twb-view`), or of the whole app where there is none. */
export async function viewText(frame: Frame): Promise<string> {
  return (await appText(frame, '#twb-view')) ?? (await appText(frame)) ?? '';
}

/** The control that switches the app to view `label` (a tab, a button, or a tab header element). */
export async function viewTab(frame: Frame, label: string): Promise<Locator> {
  const app = frame.locator('#app');
  const candidates = [
    app.locator(`vscode-tab-header[data-view="${label.toLowerCase()}"]`),
    app.getByRole('tab', { name: label, exact: true }),
    app.getByRole('button', { name: label, exact: true }),
    app.locator('vscode-tab-header', { hasText: label }),
    app.getByText(label, { exact: true }),
  ];
  for (const c of candidates) if ((await c.count()) > 0 && (await c.first().isVisible())) return c.first();
  throw new Error(`no tab or button "${label}" in the webview; it shows: ${JSON.stringify(((await appText(frame)) ?? '').slice(0, 600))}`);
}

/** Screenshot of just the webview (the iframe element that holds `frame` in the page). */
export async function screenshotWebview(page: Page, frame: Frame, file: string): Promise<void> {
  let outer: Frame = frame;
  while (outer.parentFrame() && outer.parentFrame() !== page.mainFrame()) outer = outer.parentFrame() as Frame;
  const el = await outer.frameElement();
  await el.screenshot({ path: file });
}

export const shot = (dir: string, name: string) => path.join(dir, `${name}.png`);
