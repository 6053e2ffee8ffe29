/**
 * Where a quantized or pruned model goes and the engine request that writes it. Free of `vscode`,
 * so the naming rules are unit-tested: beside the model as `<name>.<mode>.onnx` (pruning:
 * `<name>.<method>-<amount>.onnx`), built-in models under `.twb/models/`, never the input itself.
 */
import * as path from 'node:path';
import type { CompressForm } from '../../engine/src/protocol/webview';
import type { CompressRunRequest } from '../../engine/src/protocol/compress';
import { PRUNE_METHODS } from '../../engine/src/schema/compression';

const BUILTIN = 'builtin:';

export const isPruning = (mode: string): boolean => (PRUNE_METHODS as readonly string[]).includes(mode);

/** The part of the file name that says what was done: `int8-dynamic`, `magnitude-0.5`, `2of4-0.5`. */
export function outputSuffix(form: Pick<CompressForm, 'mode' | 'amount'>): string {
  const mode = form.mode.replace(':', 'of');
  return isPruning(form.mode) ? `${mode}-${form.amount ?? (form.mode === '2:4' ? 0.5 : 0)}` : mode;
}

/** A model reference made absolute: built-ins stay as they are, relative paths resolve against `baseDir`. */
export function resolveModelRef(model: string, baseDir: string): string {
  return model.startsWith(BUILTIN) || path.isAbsolute(model) ? model : path.resolve(baseDir, model);
}

/**
 * The output file for `form`: beside a model file, or in `modelsDir` for a built-in. Throws when the
 * name would be the input itself (the original is never overwritten).
 */
export function outputFileFor(form: Pick<CompressForm, 'model' | 'mode' | 'amount'>, modelsDir: string): string {
  const suffix = outputSuffix(form);
  const out = form.model.startsWith(BUILTIN)
    ? path.join(modelsDir, `${form.model.slice(BUILTIN.length).replace(/[^A-Za-z0-9._-]+/g, '-')}.${suffix}.onnx`)
    : path.join(path.dirname(form.model), `${path.basename(form.model).replace(/\.onnx$/i, '')}.${suffix}.onnx`);
  if (!form.model.startsWith(BUILTIN) && path.resolve(out) === path.resolve(form.model)) {
    throw new Error(`the output file would be the model itself (${form.model}); the original is never overwritten`);
  }
  return out;
}

/** The engine's `compress/run` request for a form whose model is already absolute. */
export function compressRequestOf(form: CompressForm, out: string, executionProvider: string): CompressRunRequest {
  return { ...form, exclude: [...form.exclude], out, executionProvider };
}

/** `int8-dynamic tiny-bert`, `magnitude 50% distilbert`: how a job is named in progress and the status bar. */
export function jobLabel(form: Pick<CompressForm, 'model' | 'mode' | 'amount'>): string {
  const name = form.model.startsWith(BUILTIN) ? form.model.slice(BUILTIN.length) : path.basename(form.model).replace(/\.onnx$/i, '');
  const amount = isPruning(form.mode) && form.mode !== '2:4' && form.amount !== undefined ? ` ${+(form.amount * 100).toFixed(1)}%` : '';
  return `${form.mode}${amount} ${name}`;
}

/** `0.5`, `.3` or `50%` as a fraction in [0, 1); undefined otherwise. */
export function parseAmount(text: string): number | undefined {
  const t = text.trim();
  const m = /^(\d*\.?\d+)\s*(%?)$/.exec(t);
  if (!m) return undefined;
  const v = Number(m[1]) / (m[2] ? 100 : 1);
  return Number.isFinite(v) && v >= 0 && v < 1 ? v : undefined;
}
