/**
 * Requests, responses, cancellation and events over a Host: request ids increase from 1 (0 is the
 * id the host uses for progress of runs it started itself), each request resolves with its
 * response, and host events reach listeners only after their params have been checked.
 */
import type { Envelope, ErrorValue } from '../../engine/src/protocol/envelope';
import type { WebviewEvents, WebviewRequests } from '../../engine/src/protocol/webview';
import type { Host } from './host';
import { HostEvent, parseHostEvent } from './messages';

export type Reply<T> = { ok: T } | { err: ErrorValue };

export class HostClient {
  private nextId = 1;
  private readonly pending = new Map<number, (reply: Reply<unknown>) => void>();
  private readonly listeners = new Set<(e: HostEvent) => void>();

  constructor(private readonly host: Host) {
    host.listen((m) => this.receive(m));
  }

  get hostKind(): Host['kind'] {
    return this.host.kind;
  }

  /** Sends a request; `reply` settles with the host's response. */
  request<M extends keyof WebviewRequests>(method: M, params: WebviewRequests[M]['params']): { id: number; reply: Promise<Reply<WebviewRequests[M]['result']>> } {
    const id = this.nextId++;
    const reply = new Promise<Reply<WebviewRequests[M]['result']>>((resolve) => this.pending.set(id, resolve as (r: Reply<unknown>) => void));
    this.host.post({ kind: 'request', id, method, params });
    return { id, reply };
  }

  /** Asks the host to stop request `id`; its response still arrives (with code `cancelled` if it stopped). */
  cancel(id: number): void {
    this.host.post({ kind: 'cancel', id });
  }

  emit<E extends keyof WebviewEvents>(event: E, params: WebviewEvents[E]): void {
    this.host.post({ kind: 'event', event, params });
  }

  /** Reports an error inside the webview to the host's log. */
  reportError(message: string): void {
    this.emit('ui/error', { message });
  }

  onEvent(listener: (e: HostEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private receive(m: Envelope): void {
    switch (m.kind) {
      case 'response': {
        const resolve = this.pending.get(m.id);
        if (!resolve) return this.reportError(`response to unknown request ${m.id}`);
        this.pending.delete(m.id);
        resolve('err' in m ? { err: m.err } : { ok: m.ok });
        return;
      }
      case 'event': {
        const e = parseHostEvent(m.event, m.params);
        if (typeof e === 'string') return this.reportError(`dropped an event from the host: ${e}`);
        for (const l of this.listeners) l(e);
        return;
      }
      case 'request':
        // Every request gets a reply, even one this side does not serve.
        this.host.post({ kind: 'response', id: m.id, err: { code: 'usage', message: `the webview answers no requests (got "${m.method}")` } });
        return;
      case 'cancel':
        return;
    }
  }
}
