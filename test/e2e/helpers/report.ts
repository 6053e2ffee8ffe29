import assert from 'node:assert/strict';
import { pathToFileURL } from 'node:url';
import { Browser, waitForApp } from './workbench';

/**
 * URL-shaped strings the inlined webview bundle contains that load nothing: XML namespace names
 * (createElementNS, setAttributeNS) and the docs link in a vscode-elements console warning.
 */
const INERT_URLS = new Set([
  'http://www.w3.org/2000/svg',
  'http://www.w3.org/1999/xhtml',
  'http://www.w3.org/1999/xlink',
  'http://www.w3.org/2000/xmlns/',
  'http://www.w3.org/XML/1998/namespace',
  'https://vscode-elements.github.io/components/icon/',
]);

/**
 * Checks an exported report: one complete HTML document whose CSP forbids everything but its own
 * inline blocks, whose `twb-boot` JSON holds exactly one run of `model` in report mode, and that
 * names no URL (beyond the bundle's inert ones; none at all in the run data). Returns the boot data.
 */
export function checkReportHtml(html: string, model: string): { mode: string; runs: Array<{ model: { name: string } }> } {
  assert.match(html, /^<!DOCTYPE html>\s*<html[^>]*>[^]*<\/html>\s*$/i, 'a complete HTML document');
  const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(html)?.[1];
  assert.ok(csp, 'a Content-Security-Policy meta tag');
  assert.match(csp, /(^|;\s*)default-src 'none'(;|$)/, `CSP: ${csp}`);
  const bootText = /<script type="application\/json" id="twb-boot">([^]*?)<\/script>/.exec(html)?.[1];
  assert.ok(bootText, 'a <script type="application/json" id="twb-boot"> block');
  const boot = JSON.parse(bootText);
  assert.equal(boot.mode, 'report');
  assert.equal(boot.runs?.length, 1, 'one run in the report');
  assert.equal(boot.runs[0].model.name, model);
  assert.deepEqual(bootText.match(/https?:\/\//g) ?? [], [], 'no URL in the run data');
  const urls = [...new Set(html.match(/https?:\/\/[^\s"'`<>)\\]*/g) ?? [])];
  assert.deepEqual(urls.filter((u) => !INERT_URLS.has(u)), [], 'no URL in the report beyond XML namespace names');
  return boot;
}

/**
 * Opens the report `file` from disk in a new tab of `browser`, waits for its Overview with a p50,
 * screenshots the page to `screenshot`, and returns the console errors, page errors and CSP
 * violations seen (none expected).
 */
export async function viewReport(browser: Browser, file: string, screenshot: string): Promise<{ text: string; problems: string[] }> {
  const { page, problems } = await browser.newPage();
  try {
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load', timeout: 30_000 });
    const { text } = await waitForApp(page, (t) => t.includes('Overview') && /p50\D{0,40}\d/.test(t), 'the report to show its Overview with p50', 30_000);
    await page.waitForTimeout(500); // late errors (fonts, styles) still count
    await page.screenshot({ path: screenshot, fullPage: true });
    return { text, problems };
  } finally {
    await page.close().catch(() => undefined);
  }
}
