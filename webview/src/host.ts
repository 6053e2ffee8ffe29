/**
 * The app's transport. Inside VS Code the webview API carries envelopes both ways; in the offline
 * HTML report there is no host, so the boot data in the page answers the `ui/ready` handshake as if
 * the host had sent `session/init`. Both hosts check every incoming envelope with `parseEnvelope`,
 * report malformed ones with `ui/error` and drop them.
 */
import { Envelope, parseEnvelope } from '../../engine/src/protocol/envelope';
import type { HostEvents, RunForm } from '../../engine/src/protocol/webview';

/** The webview API object VS Code hands out once per page. */
export interface VsCodeApi {
  postMessage(message: unknown): void;
}

/** What the hosts need from the page; injectable so tests can run them without a browser. */
export interface HostWindow {
  addEventListener(type: 'message', listener: (e: { data: unknown }) => void): void;
  acquireVsCodeApi?: () => VsCodeApi;
}

export interface Host {
  /** `vscode` inside the editor, `static` in the offline report. */
  readonly kind: 'vscode' | 'static';
  /** Sends an envelope to the host. */
  post(message: Envelope): void;
  /** Delivers every well-formed envelope from the host to `handler`. */
  listen(handler: (message: Envelope) => void): void;
}

const uiError = (message: string): Envelope => ({ kind: 'event', event: 'ui/error', params: { message } });

export class VsCodeHost implements Host {
  readonly kind = 'vscode';

  constructor(
    private readonly api: VsCodeApi,
    private readonly win: HostWindow,
  ) {}

  post(message: Envelope): void {
    this.api.postMessage(message);
  }

  listen(handler: (message: Envelope) => void): void {
    this.win.addEventListener('message', (e) => {
      const m = parseEnvelope(e.data);
      if (typeof m === 'string') this.post(uiError(`dropped a malformed message from the host: ${m}`));
      else handler(m);
    });
  }
}

/** The form shown when a report carries no boot data (it has no controls that use it). */
const EMPTY_FORM: RunForm = { model: '', executionProvider: 'cpu', threads: 0, optLevel: 'all', batch: 1, seq: 128, past: 0, warmup: 5, runs: 30, profiledRuns: 10 };

/**
 * The offline report's host: `bootJson` is the text of `<script type="application/json" id="twb-boot">`
 * (the `session/init` params). Requests are answered with an error: nothing can run offline.
 */
export class StaticHost implements Host {
  readonly kind = 'static';
  private handler: ((message: Envelope) => void) | undefined;

  constructor(
    private readonly bootJson: string | null | undefined,
    private readonly log: (message: string) => void = () => {},
    private readonly schedule: (fn: () => void) => void = (fn) => queueMicrotask(fn),
  ) {}

  post(message: Envelope): void {
    if (message.kind === 'event' && message.event === 'ui/ready') this.deliver({ kind: 'event', event: 'session/init', params: this.boot() });
    else if (message.kind === 'event' && message.event === 'ui/error') this.log((message.params as { message?: string }).message ?? 'error');
    else if (message.kind === 'request') {
      this.deliver({ kind: 'response', id: message.id, err: { code: 'usage', message: `"${message.method}" is not available in an offline report`, hint: 'Open the run in VS Code to run or export it.' } });
    }
  }

  listen(handler: (message: Envelope) => void): void {
    this.handler = handler;
  }

  private deliver(raw: unknown): void {
    this.schedule(() => {
      const m = parseEnvelope(raw);
      if (typeof m === 'string') this.log(`dropped a malformed boot message: ${m}`);
      else this.handler?.(m);
    });
  }

  private boot(): HostEvents['session/init'] {
    const missing = (message: string): HostEvents['session/init'] => ({
      mode: 'report',
      trusted: false,
      form: EMPTY_FORM,
      providers: [],
      runs: [],
      error: { code: 'io', message, hint: 'Export the report again with "twb report" or the Export Report command.' },
    });
    if (!this.bootJson) return missing('This report has no run data (its twb-boot block is missing).');
    try {
      const data: unknown = JSON.parse(this.bootJson);
      if (typeof data !== 'object' || data === null || Array.isArray(data)) return missing('This report\'s run data is not an object.');
      return { ...(data as HostEvents['session/init']), mode: 'report', trusted: false };
    } catch (e) {
      return missing(`This report's run data is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}

/** The VS Code host when the page runs in a webview, else the offline report's host. */
export function createHost(win: HostWindow, bootJson: () => string | null | undefined, log: (message: string) => void): Host {
  if (typeof win.acquireVsCodeApi === 'function') return new VsCodeHost(win.acquireVsCodeApi(), win);
  return new StaticHost(bootJson(), log);
}
