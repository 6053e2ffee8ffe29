import { TwbError } from '../util/errors';

/**
 * Tiny structural validators for documents that cross a boundary (files, IPC). A validator either
 * returns its input typed or throws naming the JSON path that is wrong.
 */
export type Validator<T> = (v: unknown, at: string) => T;

const fail = (at: string, what: string, v: unknown): never => {
  const got = v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
  throw new TwbError('io', `${at}: expected ${what}, got ${got}`);
};

export const num: Validator<number> = (v, at) => (typeof v === 'number' && !Number.isNaN(v) ? v : fail(at, 'a number', v));
export const str: Validator<string> = (v, at) => (typeof v === 'string' ? v : fail(at, 'a string', v));
export const bool: Validator<boolean> = (v, at) => (typeof v === 'boolean' ? v : fail(at, 'a boolean', v));

export function literal<T extends string | number>(value: T): Validator<T> {
  return (v, at) => (v === value ? value : fail(at, JSON.stringify(value), v));
}

export function nullable<T>(inner: Validator<T>): Validator<T | null> {
  return (v, at) => (v === null ? null : inner(v, at));
}

export function optional<T>(inner: Validator<T>): Validator<T | undefined> {
  return (v, at) => (v === undefined ? undefined : inner(v, at));
}

export function arrayOf<T>(item: Validator<T>): Validator<T[]> {
  return (v, at) => {
    if (!Array.isArray(v)) return fail(at, 'an array', v);
    v.forEach((x, i) => item(x, `${at}[${i}]`));
    return v as T[];
  };
}

export function recordOf<T>(item: Validator<T>): Validator<Record<string, T>> {
  return (v, at) => {
    if (!v || typeof v !== 'object' || Array.isArray(v)) return fail(at, 'an object', v);
    for (const [k, x] of Object.entries(v)) item(x, `${at}.${k}`);
    return v as Record<string, T>;
  };
}

/** Checks the listed fields; extra fields are allowed so that newer minor versions still load. */
export function object<T>(fields: { [K in keyof T]-?: Validator<T[K]> }): Validator<T> {
  return (v, at) => {
    if (!v || typeof v !== 'object' || Array.isArray(v)) return fail(at, 'an object', v);
    const o = v as Record<string, unknown>;
    for (const [k, check] of Object.entries(fields) as Array<[string, Validator<unknown>]>) check(o[k], `${at}.${k}`);
    return v as T;
  };
}

export const numOrString: Validator<number | string> = (v, at) => (typeof v === 'number' || typeof v === 'string' ? v : fail(at, 'a number or string', v));

/** One of a fixed set of strings; the message lists them. */
export function oneOf<T extends string>(values: readonly T[]): Validator<T> {
  return (v, at) => {
    if (typeof v === 'string' && (values as readonly string[]).includes(v)) return v as T;
    throw new TwbError('io', `${at}: expected one of: ${values.join(', ')}, got ${typeof v === 'string' ? JSON.stringify(v) : v === null ? 'null' : typeof v}`);
  };
}

/** A finite number in [lo, hi]; with `integer`, a whole one. */
export function numberIn(lo: number, hi: number, integer = false): Validator<number> {
  return (v, at) => {
    const n = typeof v === 'number' ? v : num(v, at);
    if (!Number.isFinite(n) || n < lo || n > hi || (integer && !Number.isInteger(n))) {
      throw new TwbError('io', `${at}: expected ${integer ? 'an integer' : 'a number'} in [${lo}, ${hi}], got ${n}`);
    }
    return n;
  };
}

/** An array of at most `max` items. */
export function arrayUpTo<T>(item: Validator<T>, max: number): Validator<T[]> {
  const all = arrayOf(item);
  return (v, at) => {
    if (Array.isArray(v) && v.length > max) throw new TwbError('io', `${at}: ${v.length} items, more than the ${max} allowed`);
    return all(v, at);
  };
}

/** A string of at most `max` characters. */
export function strUpTo(max: number): Validator<string> {
  return (v, at) => {
    const s = str(v, at);
    if (s.length > max) throw new TwbError('io', `${at}: ${s.length} characters, more than the ${max} allowed`);
    return s;
  };
}

/** JSON.parse with the engine's error: an io error saying the text is not JSON. */
export function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new TwbError('io', `the text is not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
}
