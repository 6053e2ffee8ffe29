import { TwbError } from '../util/errors';

export interface OrtErrorContext {
  stage: 'load' | 'run';
  /** How the user named the model (path or builtin:NAME). */
  model: string;
  ep: string;
}

/**
 * Turns an ONNX Runtime exception into a one-line `TwbError` that names the cause. ORT messages
 * carry source paths, status codes and colour escapes; users need the op, the node and what to try.
 */
export function classifyOrtError(e: unknown, ctx: OrtErrorContext): TwbError {
  const raw = e instanceof Error ? e.message : String(e);
  const text = clean(raw);

  const noKernel = /Could not find an implementation for (\w+)\((\d+)\) node with name '([^']*)'/.exec(text);
  if (noKernel) {
    const [, op, version, node] = noKernel;
    return new TwbError(
      'unsupported-op',
      `${ctx.model}: no ${ctx.ep} kernel for op ${op} (opset ${version})${node ? `, node "${node}"` : ''}`,
      ctx.ep === 'cpu' ? `${op} has no CPU implementation in ONNX Runtime; it needs a GPU execution provider (--ep cuda) or a model exported without it.` : `Try --ep cpu, or a model exported without ${op}.`,
    );
  }
  if (/protobuf parsing failed|Protobuf parsing failed|ModelProto does not have a graph|No graph was found/i.test(text)) {
    return new TwbError('invalid-model', `${ctx.model}: not a valid ONNX model (${text})`);
  }
  if (/Load model from .* failed|Failed to load model|Invalid model|model_load_utils|Unsupported model IR version|opset .* not supported|is not a registered function\/op|Unrecognized attribute|Node \(.*\) has input size/i.test(text)) {
    return new TwbError('invalid-model', `${ctx.model}: ONNX Runtime cannot load the model: ${text}`);
  }
  const nodeFail = /Non-zero status code returned while running (\w+) node\. Name:'([^']*)' Status Message: (.*)/s.exec(text);
  if (nodeFail) {
    const [, op, node, why] = nodeFail;
    const outOfBounds = /out of (data )?bounds|out of range/i.test(why);
    return new TwbError(
      'run-failed',
      `${ctx.model}: op ${op} (node "${node}") failed on ${ctx.ep}: ${firstLine(stripSourcePath(why))}`,
      outOfBounds
        ? 'An index went past a table in the model (often positions past the longest sequence it supports): lower --seq or --past, or set --dim NAME=N.'
        : 'The inputs may not match what the model expects: set symbolic dimensions with --batch, --seq or --dim NAME=N.',
    );
  }
  if (/Got invalid dimensions|Unexpected input data type|input .* is missing|Missing Input|invalid input/i.test(text)) {
    return new TwbError('bad-input', `${ctx.model}: ${text}`, 'Set symbolic dimensions with --batch, --seq or --dim NAME=N.');
  }
  return new TwbError(ctx.stage === 'load' ? 'invalid-model' : 'run-failed', `${ctx.model}: ONNX Runtime failed to ${ctx.stage === 'load' ? 'load' : 'run'} the model: ${text}`);
}

/** Drops ANSI colours, ORT's `[ONNXRuntimeError] : N : CODE :` prefix and source locations. */
function clean(message: string): string {
  const noAnsi = message.replace(/\x1b\[[0-9;]*m/g, '');
  const noPrefix = noAnsi.replace(/\[ONNXRuntimeError\]\s*:\s*\d+\s*:\s*\w+\s*:\s*/g, '');
  return firstLine(stripSourcePath(noPrefix)).trim();
}

/**
 * Removes the `file.cc:123 <C++ signature>` that ORT puts before the text of a failed check, and
 * the check's condition (`x == y was false.`), keeping the sentence meant for people.
 */
function stripSourcePath(s: string): string {
  const signature = /\S*\.(?:cc|h|cpp|hpp):\d+\s+(?:[\w:<>~*&]+\s+)*?[\w:<>~]+\([^()]*\)(?:::<lambda\(\)>)?(?:\s+const)?\s*(?:[^\n]*? was false\.\s*)?/g;
  return s.replace(signature, '').replace(/\S*\.(?:cc|h|cpp|hpp):\d+\s*/g, '');
}

function firstLine(s: string): string {
  const line = s.split('\n').find((l) => l.trim().length > 0) ?? s;
  return line.length > 400 ? `${line.slice(0, 400)}…` : line;
}
