import { TwbError, choices } from '../util/errors';

export type OptionKind = 'int' | 'number' | 'string' | 'flag' | 'list';

export interface OptionSpec {
  kind: OptionKind;
  /** Placeholder shown in help, e.g. `N` or `FILE`. */
  arg?: string;
  help: string;
}

export interface ParsedArgs {
  positionals: string[];
  options: Record<string, number | string | boolean | string[]>;
}

/**
 * Parses `--name value`, `--name=value` and flags against a fixed table; anything else is a usage
 * error that names the option and lists the valid ones.
 */
export function parseArgs(argv: readonly string[], spec: Record<string, OptionSpec>, command: string): ParsedArgs {
  const out: ParsedArgs = { positionals: [], options: {} };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--') || a === '--') {
      if (a !== '--') out.positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    const o = spec[name];
    if (!o) throw new TwbError('usage', `unknown option --${name} for "twb ${command}"; ${choices(Object.keys(spec).map((k) => `--${k}`))}`);
    if (o.kind === 'flag') {
      if (eq > 0) throw new TwbError('usage', `--${name} takes no value`);
      out.options[name] = true;
      continue;
    }
    let value: string | undefined = eq > 0 ? a.slice(eq + 1) : argv[++i];
    if (value === undefined || (eq < 0 && value.startsWith('--'))) throw new TwbError('usage', `--${name} needs a value (${o.arg ?? 'VALUE'})`);
    value = value.trim();
    if (o.kind === 'int') {
      if (!/^\d+$/.test(value)) throw new TwbError('usage', `--${name} expects a non-negative integer, got "${value}"`);
      out.options[name] = Number(value);
    } else if (o.kind === 'number') {
      if (!/^(\d+\.?\d*|\.\d+)(e-?\d+)?$/i.test(value)) throw new TwbError('usage', `--${name} expects a non-negative number, got "${value}"`);
      out.options[name] = Number(value);
    } else if (o.kind === 'list') {
      out.options[name] = [...((out.options[name] as string[] | undefined) ?? []), value];
    } else {
      out.options[name] = value;
    }
  }
  return out;
}

/** Help lines for an option table, aligned. */
export function formatOptions(spec: Record<string, OptionSpec>): string {
  const rows = Object.entries(spec).map(([name, o]) => [`--${name}${o.arg ? ` ${o.arg}` : ''}`, o.help]);
  const width = Math.max(...rows.map((r) => r[0].length));
  return rows.map(([l, r]) => `  ${l.padEnd(width)}  ${r}`).join('\n');
}
