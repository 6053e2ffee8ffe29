import * as vscode from 'vscode';
import type { CompressForm } from '../../engine/src/protocol/webview';
import { CalibrationMethod, Int4Method, PruneMethod, QuantMode } from '../../engine/src/schema/compression';
import { parseAmount } from './compress-target';
import { formFromSettings } from './settings';
import { askOnnxModel, Choice, pick as ask } from './prompts';


const QUANT_PICKS: Array<Choice<QuantMode>> = [
  { label: 'int8-dynamic', description: 'int8 weights, activations quantized at run time', detail: 'No calibration data needed; the usual first try on CPU.', value: 'int8-dynamic' },
  { label: 'int8-static', description: 'int8 weights and activations, ranges from calibration', detail: 'Needs representative inputs (generated ones are used when no file is given).', value: 'int8-static' },
  { label: 'int4-weight', description: '4-bit weights in blocks (MatMulNBits), fp32 activations', detail: 'Smallest file; speed depends on the kernel.', value: 'int4-weight' },
  { label: 'fp16', description: 'half-precision weights and activations', detail: 'Halves the file; fast where the provider has fp16 kernels.', value: 'fp16' },
];

const PRUNE_PICKS: Array<Choice<PruneMethod>> = [
  { label: 'magnitude', description: 'zero the smallest weights (unstructured)', value: 'magnitude' },
  { label: '2:4', description: 'zero 2 of every 4 weights (semi-structured, 50%)', value: '2:4' },
  { label: 'heads', description: 'remove whole attention heads', value: 'heads' },
];

/** The model to compress: the file the command was invoked on, the active .onnx file, or a choice. */
const askModel = (title: string, given: vscode.Uri | undefined, active: vscode.Uri | undefined) => askOnnxModel(title, 'Model to compress', given, active, 'built-in model, written to .twb/models/');

/** The run settings a compression shares with profiling (Settings → Transformer Workbench). */
function baseForm(model: string): Pick<CompressForm, 'model' | 'batch' | 'seq' | 'threads' | 'runs' | 'exclude'> {
  const f = formFromSettings(model);
  return { model, batch: f.batch, seq: f.seq, threads: f.threads, runs: f.runs, exclude: [] };
}

/** "Quantize Model…": model, mode, then per-channel (int8) or method (int4). Undefined when dismissed. */
export async function askQuantization(given: vscode.Uri | undefined, active: vscode.Uri | undefined): Promise<CompressForm | undefined> {
  const title = 'Quantize Model';
  const model = await askModel(title, given, active);
  if (!model) return undefined;
  const mode = await ask(QUANT_PICKS, title, 'Quantize to');
  if (!mode) return undefined;
  const form: CompressForm = { ...baseForm(model), mode, perChannel: false };
  if (mode === 'int8-dynamic' || mode === 'int8-static') {
    const perChannel = await ask<boolean>(
      [
        { label: 'Per channel', description: 'one weight scale per output channel (usually more accurate)', value: true },
        { label: 'Per tensor', description: 'one weight scale per tensor', value: false },
      ],
      title,
      'Weight scales',
    );
    if (perChannel === undefined) return undefined;
    form.perChannel = perChannel;
  }
  if (mode === 'int8-static') {
    const calibrate = await ask<CalibrationMethod>(
      [
        { label: 'minmax', description: 'activation ranges from the observed min and max', value: 'minmax' },
        { label: 'percentile', description: 'clip the rarest outliers', value: 'percentile' },
        { label: 'entropy', description: 'ranges that keep the distribution (KL divergence)', value: 'entropy' },
      ],
      title,
      'Calibration method',
    );
    if (!calibrate) return undefined;
    form.calibrate = calibrate;
  }
  if (mode === 'int4-weight') {
    const method = await ask<Int4Method>(
      [
        { label: 'rtn', description: 'round to nearest, per block of 32', value: 'rtn' },
        { label: 'gptq', description: 'GPTQ: error-compensating rounding, uses calibration inputs', value: 'gptq' },
      ],
      title,
      'Weight rounding',
    );
    if (!method) return undefined;
    form.method = method;
  }
  return form;
}

/** "Prune Model…": model, method, then the amount (fixed at 50% for 2:4). Undefined when dismissed. */
export async function askPruning(given: vscode.Uri | undefined, active: vscode.Uri | undefined): Promise<CompressForm | undefined> {
  const title = 'Prune Model';
  const model = await askModel(title, given, active);
  if (!model) return undefined;
  const mode = await ask(PRUNE_PICKS, title, 'Pruning method');
  if (!mode) return undefined;
  let amount = 0.5;
  if (mode !== '2:4') {
    const text = await vscode.window.showInputBox({
      title,
      prompt: mode === 'heads' ? 'Fraction of attention heads to remove, in [0, 1)' : 'Fraction of weights to zero, in [0, 1)',
      value: mode === 'heads' ? '0.25' : '0.5',
      ignoreFocusOut: true,
      validateInput: (v) => (parseAmount(v) === undefined ? 'Enter a number in [0, 1), e.g. 0.5 (or 50%)' : undefined),
    });
    if (text === undefined) return undefined;
    amount = parseAmount(text) as number;
  }
  return { ...baseForm(model), mode, perChannel: false, amount };
}
