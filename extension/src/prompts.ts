/** The quick-pick and input-box questions every command's prompts are made of. */
import * as vscode from 'vscode';
import * as path from 'node:path';
import { BUILTIN_PREFIX, PRESETS } from '../../engine/src/model/spec';
import { toErrorValue } from '../../engine/src/util/errors';

export type Choice<T> = vscode.QuickPickItem & { value: T };

/** Asks one question; undefined when the user dismissed it. */
export async function pick<T>(items: Array<Choice<T>>, title: string, placeHolder: string): Promise<T | undefined> {
  return (await vscode.window.showQuickPick(items, { title, placeHolder, ignoreFocusOut: true }))?.value;
}

/** An input box that checks its value with `parse` as it is typed. */
export async function askValue<T>(title: string, prompt: string, value: string, parse: (v: string) => T): Promise<T | undefined> {
  const text = await vscode.window.showInputBox({
    title,
    prompt,
    value,
    ignoreFocusOut: true,
    validateInput: (v) => {
      try {
        parse(v.trim());
        return undefined;
      } catch (e) {
        return toErrorValue(e).message;
      }
    },
  });
  return text === undefined ? undefined : parse(text.trim());
}

/** A parser of integers from 1 to `max`, whose error names the field. */
export const positiveInt = (name: string, max: number) => (v: string): number => {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1 || n > max) throw new Error(`${name} must be an integer from 1 to ${max}`);
  return n;
};

/** Built-in models as choices, with what `note` says about them (default: kind and size). */
export function builtinChoices(note?: string): Array<Choice<string>> {
  return Object.entries(PRESETS).map(([name, spec]) => ({ label: `${BUILTIN_PREFIX}${name}`, description: note ?? `${spec.kind}, ${spec.layers} layers × ${spec.hidden}`, value: `${BUILTIN_PREFIX}${name}` }));
}

/**
 * An .onnx model to work on: the file the command was invoked on, else a choice of the active
 * .onnx file, the built-in models, or a file to open.
 */
export async function askOnnxModel(title: string, placeHolder: string, given: vscode.Uri | undefined, active: vscode.Uri | undefined, builtinNote?: string): Promise<string | undefined> {
  if (given) return given.fsPath;
  const items: Array<Choice<string>> = [
    ...(active ? [{ label: path.basename(active.fsPath), description: 'active editor', value: active.fsPath }] : []),
    ...builtinChoices(builtinNote),
    { label: 'Choose an .onnx file…', value: '' },
  ];
  const picked = await pick(items, title, placeHolder);
  if (picked !== '') return picked;
  const files = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'ONNX models': ['onnx'] }, openLabel: 'Choose' });
  return files?.[0]?.fsPath;
}
