import { promises as fs, rmSync } from 'node:fs';
import * as path from 'node:path';
import { CodeServer, REPO_ROOT, Sandbox } from './code-server';
import { Browser, openWorkbench } from './workbench';

/**
 * One code-server, its sandbox and the chromium that shows it. The fields are set as each part
 * starts, so `closeSession` and `killSession` also clean up a session that failed half-way.
 */
export interface Session {
  sandbox?: Sandbox;
  server?: CodeServer;
  browser?: Browser;
  /** Set by the test when a step failed: `closeSession` then prints the logs. */
  failed?: boolean;
}

type Timed = <T>(name: string, fn: () => T | Promise<T>) => Promise<T>;

export interface SessionOptions {
  /** VS Code's workspace trust on: a fresh folder opens in Restricted Mode. */
  enableWorkspaceTrust?: boolean;
  /** Writes the workspace's files before code-server starts (the explorer needs at least one). */
  prepare: (workspace: string) => Promise<void>;
  /** Measures each phase (install extension, code-server start, workbench load). */
  timed?: Timed;
  /** Prefix of the phase names given to `timed`. */
  label?: string;
}

/** Fills `s`: a sandbox, the extension installed, code-server, chromium, the workbench on the workspace. */
export async function startSession(s: Session, vsix: string, opts: SessionOptions): Promise<void> {
  const timed: Timed = opts.timed ?? (async (_name, fn) => fn());
  const label = opts.label ? `${opts.label} ` : '';
  const sandbox = (s.sandbox = await Sandbox.create({ enableWorkspaceTrust: opts.enableWorkspaceTrust }));
  await opts.prepare(sandbox.workspace);
  await timed(`${label}install extension`, () => sandbox.installExtension(vsix));
  const server = (s.server = await timed(`${label}code-server start`, () => sandbox.startCodeServer()));
  const browser = (s.browser = await Browser.launch(path.join(sandbox.root, 'chromium-profile'), sandbox.env));
  await timed(`${label}workbench load`, () => openWorkbench(browser.page, server.url, sandbox.workspace));
}

/** Closes chromium, stops code-server, keeps the logs in `logsDir` (printing them when the session failed), removes the sandbox. */
export async function closeSession(s: Session, logsDir: string): Promise<void> {
  await s.browser?.close();
  await s.server?.stop();
  if (!s.sandbox) return;
  await s.sandbox.saveLogs(logsDir).catch(() => undefined);
  if (s.failed) {
    console.log(`e2e failed; logs follow (all of them are in ${path.relative(REPO_ROOT, logsDir)}/)\n${s.sandbox.logs()}`);
    if (s.browser?.problems.length) console.log(`----- browser console -----\n${s.browser.problems.slice(-40).join('\n')}`);
  }
  await s.sandbox.dispose();
  s.sandbox = s.server = s.browser = undefined;
}

/** For exit and signal handlers: kills code-server's process group and removes the sandbox, synchronously. */
export function killSession(s: Session | undefined): void {
  s?.server?.kill();
  if (s?.sandbox) rmSync(s.sandbox.root, { recursive: true, force: true });
}

/** Waits until `file` exists, calling `meanwhile` between looks (to answer a dialog, say). */
export async function waitForFile(file: string, timeoutMs: number, meanwhile: () => Promise<void> = async () => {}): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await fs.stat(file).then((st) => st.isFile() && st.size > 0, () => false)) return true;
    if (Date.now() > deadline) return false;
    await meanwhile();
    await new Promise((r) => setTimeout(r, 250));
  }
}
