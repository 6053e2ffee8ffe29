import * as vscode from 'vscode';
import { BUILTIN_PREFIX, PRESETS } from '../../engine/src/model/spec';
import { ATTENTION_SYNTAX, parseAttention } from '../../engine/src/model/variants';
import type { SweepRequest, TrainRequest } from '../../engine/src/train/request';
import type { TrainTaskName } from '../../engine/src/schema/training';
import { toErrorValue } from '../../engine/src/util/errors';
import { trainSettings } from './settings';
import { builtinChoices, Choice, pick as ask } from './prompts';

async function askModel(title: string): Promise<string | undefined> {
  return ask(builtinChoices(), title, 'Built-in model');
}

const TASKS: Record<'encoder' | 'decoder', Array<Choice<TrainTaskName>>> = {
  encoder: [{ label: 'count-compare', description: 'is token A more frequent than token B? (classification)', value: 'count-compare' }],
  decoder: [
    { label: 'sort', description: 'continue a sequence with its tokens sorted', value: 'sort' },
    { label: 'char-lm', description: 'next-character prediction on a text file you choose', value: 'char-lm' },
  ],
};

const SHARE: Array<Choice<string>> = [
  { label: 'none', description: 'every layer has its own weights', value: 'none' },
  { label: 'all', description: 'ALBERT: one set of weights for every layer', value: 'all' },
  { label: '2', description: 'each pair of consecutive layers shares one set', value: '2' },
];

/** Asks for an attention variant in the CLI's spelling, checked as it is typed. */
async function askAttention(title: string): Promise<string | undefined> {
  return vscode.window.showInputBox({
    title,
    prompt: `Attention: ${ATTENTION_SYNTAX}`,
    value: 'dense',
    ignoreFocusOut: true,
    validateInput: (v) => {
      try {
        parseAttention(v.trim());
        return undefined;
      } catch (e) {
        return toErrorValue(e).message;
      }
    },
  });
}

/** "Train Built-in Model…": model, task (and text file for char-lm), attention, sharing. */
export async function askTraining(): Promise<TrainRequest | undefined> {
  const title = 'Train Built-in Model';
  const model = await askModel(title);
  if (!model) return undefined;
  const spec = PRESETS[model.slice(BUILTIN_PREFIX.length)];
  const task = await ask(TASKS[spec.kind], title, 'Task (needs no download)');
  if (!task) return undefined;
  let textFile: string | undefined;
  if (task === 'char-lm') {
    const files = await vscode.window.showOpenDialog({ canSelectMany: false, openLabel: 'Train on this text' });
    if (!files?.[0]) return undefined;
    textFile = files[0].fsPath;
  }
  const attention = await askAttention(title);
  if (attention === undefined) return undefined;
  const shareLayers = await ask(SHARE, title, 'Cross-layer parameter sharing');
  if (!shareLayers) return undefined;
  const { steps, backend } = trainSettings();
  return { model, task, ...(textFile ? { textFile } : {}), attention: attention.trim() || 'dense', shareLayers, backend, ...(steps ? { steps } : {}) };
}

/** "Compare Structural Variants…": model and whether to train each variant for the accuracy column. */
export async function askSweep(): Promise<SweepRequest | undefined> {
  const title = 'Compare Structural Variants';
  const model = await askModel(title);
  if (!model) return undefined;
  const spec = PRESETS[model.slice(BUILTIN_PREFIX.length)];
  const task: TrainTaskName = spec.kind === 'encoder' ? 'count-compare' : 'sort';
  const train = await ask<boolean>(
    [
      { label: 'Time and memory only', description: 'sequence-length sweep of one training step per variant', value: false },
      { label: `Also train on ${task}`, description: 'adds the accuracy each variant reaches (takes longer)', value: true },
    ],
    title,
    'What to measure',
  );
  if (train === undefined) return undefined;
  const { steps, backend, seqs } = trainSettings();
  return { model, backend, seqs, ...(train ? { task, ...(steps ? { trainSteps: steps } : {}) } : {}) };
}
