/**
 * The one message envelope used on both boundaries: extension ⇄ engine process (IPC) and
 * extension ⇄ webview (postMessage). Pure: no Node, no DOM.
 *
 * - request:  `{kind:'request', id, method, params}`; every request gets exactly one response.
 * - response: `{kind:'response', id, ok}` or `{kind:'response', id, err:{code, message, hint?}}`.
 * - event:    `{kind:'event', event, params}`; progress and logs, optionally tied to a request id.
 * - cancel:   `{kind:'cancel', id}` asks the other side to stop request `id`; it still responds
 *             (with `err.code === 'cancelled'` if it stopped in time).
 */
import { ErrorCode } from '../util/errors';

export interface ErrorValue {
  code: ErrorCode;
  message: string;
  hint?: string;
}

export type Envelope =
  | { kind: 'request'; id: number; method: string; params: unknown }
  | { kind: 'response'; id: number; ok: unknown }
  | { kind: 'response'; id: number; err: ErrorValue }
  | { kind: 'event'; event: string; params: unknown }
  | { kind: 'cancel'; id: number };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isId = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
/** `domain/verb`, lower-case words: what every method and event name looks like. */
const NAME = /^[a-z][a-zA-Z]*\/[a-z][a-zA-Z]*$/;

/**
 * Checks the shape of an envelope that arrived from another process or frame. Payloads are checked
 * later, per method, by the receiver. Returns a reason string when the envelope is malformed.
 */
export function parseEnvelope(raw: unknown): Envelope | string {
  if (!isObject(raw)) return 'message is not an object';
  switch (raw.kind) {
    case 'request':
      if (!isId(raw.id)) return 'request without a numeric id';
      if (typeof raw.method !== 'string' || !NAME.test(raw.method)) return `request ${raw.id} has a malformed method name`;
      return { kind: 'request', id: raw.id, method: raw.method, params: raw.params };
    case 'response':
      if (!isId(raw.id)) return 'response without a numeric id';
      if ('err' in raw) {
        const e = raw.err;
        if (!isObject(e) || typeof e.code !== 'string' || typeof e.message !== 'string') return `response ${raw.id} has a malformed error`;
        return { kind: 'response', id: raw.id, err: { code: e.code as ErrorCode, message: e.message, ...(typeof e.hint === 'string' ? { hint: e.hint } : {}) } };
      }
      return { kind: 'response', id: raw.id, ok: raw.ok };
    case 'event':
      if (typeof raw.event !== 'string' || !NAME.test(raw.event)) return 'event with a malformed name';
      return { kind: 'event', event: raw.event, params: raw.params };
    case 'cancel':
      if (!isId(raw.id)) return 'cancel without a numeric id';
      return { kind: 'cancel', id: raw.id };
    default:
      return `unknown message kind ${JSON.stringify(raw.kind)}`;
  }
}
