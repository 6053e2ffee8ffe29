import { TwbError } from './errors';

/** Throws the engine's cancellation error once `signal` is aborted; `what` names the work stopped. */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new TwbError('cancelled', `${what} was cancelled`);
}
