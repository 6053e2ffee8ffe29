import { runCli } from '../../../engine/src/cli';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  status: string[];
}

/** Runs `twb` in this process with `cwd` as its folder; `onStatus` sees every status line (and may abort). */
export async function runTwb(cwd: string, args: string[], opts: { signal?: AbortSignal; onStatus?: (line: string) => void } = {}): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const status: string[] = [];
  const io = {
    stdout: (s: string) => out.push(s),
    stderr: (s: string) => err.push(s),
    status: (line: string | null) => {
      if (line === null) return;
      status.push(line);
      opts.onStatus?.(line);
    },
    cwd,
  };
  const code = await runCli(args, io, opts.signal);
  return { code, stdout: out.join('\n'), stderr: err.join('\n'), status };
}
