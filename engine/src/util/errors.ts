/**
 * Errors the engine raises on purpose. Each carries a stable `code` so that the CLI can pick an exit
 * status and the extension can show the right message; the message names the thing that was wrong
 * and, where there is a fixed set of choices, lists them.
 */
export type ErrorCode =
  | 'usage' // bad arguments: the caller can fix the call
  | 'invalid-model' // the file is not a loadable ONNX model
  | 'unsupported-op' // no kernel for an op on the chosen execution provider
  | 'unavailable-ep' // the execution provider cannot be used on this machine
  | 'bad-input' // an input could not be built or fed
  | 'run-failed' // ONNX Runtime failed while running
  | 'cancelled'
  | 'io'
  | 'internal';

export class TwbError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Extra lines of advice shown under the message. */
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'TwbError';
  }
}

/** `expected one of: a, b, c` — the tail every "unknown choice" message ends with. */
export function choices(values: readonly string[]): string {
  return `expected one of: ${values.join(', ')}`;
}

/** A boundary-safe result: errors are values once they leave a layer. */
export type Result<T> = { ok: T } | { err: { code: ErrorCode; message: string; hint?: string } };

/** Turns anything thrown into a `{code, message}` that can cross a process boundary. */
export function toErrorValue(e: unknown): { code: ErrorCode; message: string; hint?: string } {
  if (e instanceof TwbError) return { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) };
  const message = e instanceof Error ? e.message : String(e);
  return { code: 'internal', message };
}
