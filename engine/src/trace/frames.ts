/**
 * Python source frames of `with_stack=True` traces: `python_function` events are named
 * `path/file.py(123): fn`, and 2021 traces put a `Call stack` string (innermost frame first, `;`
 * between frames) on each op. Only user frames count: frames inside torch, site-packages or
 * dist-packages, and `<built-in …>` / `<frozen …>` pseudo-files, say nothing about the user's code.
 */
import type { TraceFrame } from '../schema/trace';

const FRAME = /^(.*)\((\d+)\): (.*)$/;

/** True for a frame in the user's code rather than in torch or an installed package. */
export function isUserFile(file: string): boolean {
  if (file === '' || file.startsWith('<')) return false;
  const f = file.replace(/\\/g, '/');
  return !/(^|\/)torch\//.test(f) && !/(site|dist)-packages\//.test(f);
}

/** `path/file.py(123): fn` → its parts; undefined for names of another shape (`nn.Module: Linear_0`, `<built-in method …>`). */
export function parseFrame(text: string): TraceFrame | undefined {
  const m = FRAME.exec(text.trim());
  if (!m) return undefined;
  return { file: m[1], line: Number(m[2]), fn: m[3] };
}

/** Distinct user frames, each stored once, with caches so each distinct string is parsed once. */
export class FrameTable {
  readonly list: TraceFrame[] = [];
  private readonly ids = new Map<string, number>();
  private readonly stacks = new Map<string, number>();

  /** The id of a frame, added if new. */
  intern(f: TraceFrame): number {
    const key = `${f.file}\u0000${f.line}\u0000${f.fn}`;
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.list.length;
      this.list.push(f);
      this.ids.set(key, id);
    }
    return id;
  }

  /** The frame of a python_function event when it is a user frame, else −1; cached by name id. */
  ofPythonFunction(name: string, nameId: number, cache: Map<number, number>): number {
    const f = parseFrame(name);
    const id = f && isUserFile(f.file) ? this.intern(f) : -1;
    cache.set(nameId, id);
    return id;
  }

  /** The innermost user frame of a 2021 `Call stack` string, else −1. */
  ofCallStack(stack: string): number {
    let id = this.stacks.get(stack);
    if (id !== undefined) return id;
    id = -1;
    for (const part of stack.split(';')) {
      const f = parseFrame(part);
      if (f && isUserFile(f.file)) {
        id = this.intern(f);
        break;
      }
    }
    this.stacks.set(stack, id);
    return id;
  }
}
