import { Envelope, parseEnvelope } from '../protocol/envelope';
import { EngineEvents, EngineMethod, engineParamValidators, EngineRequests } from '../protocol/engine';
import { TwbError, toErrorValue } from '../util/errors';

/** What a handler gets besides its params. */
export interface HandlerContext {
  requestId: number;
  /** Aborted when the client sends `cancel` for this request. */
  signal: AbortSignal;
  emit<E extends keyof EngineEvents>(event: E, params: EngineEvents[E]): void;
}

export type Handlers = { [M in EngineMethod]: (params: EngineRequests[M]['params'], ctx: HandlerContext) => Promise<EngineRequests[M]['result']> };

/**
 * Dispatches envelopes to handlers. Every request gets exactly one response, also when its params
 * are invalid or its handler throws; `cancel` aborts the handler's signal.
 */
export class EngineServer {
  private readonly running = new Map<number, AbortController>();

  constructor(
    private readonly handlers: Handlers,
    private readonly send: (e: Envelope) => void,
  ) {}

  async receive(raw: unknown): Promise<void> {
    const msg = parseEnvelope(raw);
    if (typeof msg === 'string') {
      this.log('warn', `dropped a malformed message: ${msg}`);
      return;
    }
    if (msg.kind === 'cancel') {
      this.running.get(msg.id)?.abort();
      return;
    }
    if (msg.kind !== 'request') return;
    const { id, method } = msg;
    const controller = new AbortController();
    this.running.set(id, controller);
    try {
      const validate = Object.hasOwn(engineParamValidators, method) ? (engineParamValidators as Record<string, (v: unknown, at: string) => unknown>)[method] : undefined;
      if (!validate) throw new TwbError('usage', `unknown engine method "${method}"; expected one of: ${Object.keys(engineParamValidators).join(', ')}`);
      const params = validate(msg.params, method);
      const handler = this.handlers[method as EngineMethod] as (p: unknown, c: HandlerContext) => Promise<unknown>;
      const ok = await handler(params, {
        requestId: id,
        signal: controller.signal,
        emit: (event, p) => this.send({ kind: 'event', event, params: p }),
      });
      this.send({ kind: 'response', id, ok });
    } catch (e) {
      this.send({ kind: 'response', id, err: toErrorValue(e) });
    } finally {
      this.running.delete(id);
    }
  }

  log(level: EngineEvents['log/write']['level'], message: string): void {
    this.send({ kind: 'event', event: 'log/write', params: { level, message } });
  }
}
