import { ChildProcess, fork } from 'node:child_process';
import { Envelope, ErrorValue, parseEnvelope } from '../../engine/src/protocol/envelope';
import { EngineEvents, EngineMethod, EngineRequests } from '../../engine/src/protocol/engine';

/** A failed engine request, with the engine's error code. */
export class EngineError extends Error {
  constructor(readonly value: ErrorValue) {
    super(value.message);
    this.name = 'EngineError';
  }
}

export interface EngineClientOptions {
  /** Path of dist/engine-server.js. */
  serverPath: string;
  /** Receives the engine's log lines and its stderr. */
  log: (level: 'info' | 'warn' | 'error', message: string) => void;
  /** Told when the engine process died while requests were pending or idle. */
  onCrash?: (reason: string) => void;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  onEvent?: (event: string, params: unknown) => void;
}

/**
 * The extension's handle on the engine child process (DESIGN.md: like a language server). Starts
 * it on first use with the editor's own runtime (`process.execPath` + ELECTRON_RUN_AS_NODE), so
 * onnxruntime never loads into the extension host; if it dies, pending requests fail with a clear
 * message and the next request starts a fresh engine. Free of `vscode`, so it is unit-tested.
 */
export class EngineClient {
  private child: ChildProcess | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private stopping = false;

  constructor(private readonly options: EngineClientOptions) {}

  /** Sends a request; `onProgress` receives the events tagged with its id. Honours `signal` by sending `cancel`. */
  request<M extends EngineMethod>(
    method: M,
    params: EngineRequests[M]['params'],
    opts: { signal?: AbortSignal; onEvent?: <E extends keyof EngineEvents>(event: E, params: EngineEvents[E]) => void } = {},
  ): Promise<EngineRequests[M]['result']> {
    const child = this.ensureStarted();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, onEvent: opts.onEvent as Pending['onEvent'] });
      const onAbort = () => this.send({ kind: 'cancel', id });
      if (opts.signal) {
        if (opts.signal.aborted) queueMicrotask(onAbort);
        else opts.signal.addEventListener('abort', onAbort, { once: true });
      }
      this.send({ kind: 'request', id, method, params }, child);
    });
  }

  /** Whether an engine process is running now. */
  get running(): boolean {
    return this.child !== undefined;
  }

  /** The engine's process id, when running (tests use it to simulate a crash). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  dispose(): void {
    this.stopping = true;
    this.child?.kill();
    this.child = undefined;
  }

  private ensureStarted(): ChildProcess {
    if (this.child) return this.child;
    this.stopping = false;
    const child = fork(this.options.serverPath, [], {
      execPath: process.execPath,
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1', ORT_DISABLE_TELEMETRY: '1' },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    child.stdout?.on('data', (d: Buffer) => this.options.log('info', d.toString().trimEnd()));
    child.stderr?.on('data', (d: Buffer) => this.options.log('warn', d.toString().trimEnd()));
    child.on('message', (m) => this.receive(m));
    child.on('exit', (code, signal) => this.onExit(child, code, signal));
    child.on('error', (e) => this.options.log('error', `engine process error: ${e.message}`));
    this.child = child;
    return child;
  }

  private send(e: Envelope, child = this.child): void {
    if (child?.connected) child.send(e);
  }

  private receive(raw: unknown): void {
    const msg = parseEnvelope(raw);
    if (typeof msg === 'string') {
      this.options.log('warn', `engine sent a malformed message: ${msg}`);
      return;
    }
    if (msg.kind === 'event') {
      if (msg.event === 'log/write') {
        const p = msg.params as EngineEvents['log/write'];
        this.options.log(p.level, p.message);
        return;
      }
      const requestId = (msg.params as { requestId?: unknown })?.requestId;
      if (typeof requestId === 'number') this.pending.get(requestId)?.onEvent?.(msg.event, msg.params);
      return;
    }
    if (msg.kind !== 'response') return;
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if ('err' in msg) p.reject(new EngineError(msg.err));
    else p.resolve(msg.ok);
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child === child) this.child = undefined;
    if (this.stopping) return;
    const reason = signal ? `the engine process was killed by ${signal}` : `the engine process exited with code ${code}`;
    this.options.log('error', `${reason}; it will restart on the next request`);
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.reject(new EngineError({ code: 'internal', message: `${reason} (a native crash in ONNX Runtime?); the request was lost — run it again`, hint: 'The engine restarts on the next request.' }));
    this.options.onCrash?.(reason);
  }
}
