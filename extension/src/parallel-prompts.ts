import * as vscode from 'vscode';
import { parseSchedule, PipelineRequest } from '../../engine/src/pipeline/planner';
import { parseCount } from '../../engine/src/util/count';
import type { MemoryPlanInput, ZeroStage } from '../../engine/src/schema/parallel';
import { askValue, builtinChoices, Choice, pick, positiveInt } from './prompts';

/** "Plan Pipeline…": model (built-in, active .onnx, or a file), schedule, P, M, and whether to measure. */
export async function askPipeline(activeOnnx: vscode.Uri | undefined): Promise<PipelineRequest | undefined> {
  const title = 'Plan Pipeline';
  const models: Array<Choice<string | 'file'>> = [
    ...builtinChoices(),
    ...(activeOnnx ? [{ label: vscode.workspace.asRelativePath(activeOnnx), description: 'the active model', value: activeOnnx.fsPath }] : []),
    { label: 'Choose a model or a kept run…', description: '.onnx, or the JSON of a profile or training run', value: 'file' },
  ];
  let source = await pick(models, title, 'Whose layer costs?');
  if (!source) return undefined;
  if (source === 'file') {
    const files = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'Models and runs': ['onnx', 'json'] }, openLabel: 'Plan' });
    if (!files?.[0]) return undefined;
    source = files[0].fsPath;
  }
  const schedule = await askValue(title, 'Schedule: gpipe, 1f1b, interleaved:V or zb-h1', '1f1b', parseSchedule);
  if (!schedule) return undefined;
  const stages = await askValue(title, 'Pipeline stages P (this machine measures 2 well; the simulation takes any)', '2', positiveInt('stages', 64));
  if (stages === undefined) return undefined;
  const microbatches = await askValue(title, 'Micro-batches per step M', '8', positiveInt('micro-batches', 4096));
  if (microbatches === undefined) return undefined;
  const measure = await pick<boolean>(
    [
      { label: 'Simulate', description: 'from the measured per-layer costs', value: false },
      { label: 'Simulate and measure', description: 'also run the stages for real, one worker and ORT session each (forward only)', value: true },
    ],
    title,
    'Measure too?',
  );
  if (measure === undefined) return undefined;
  return { source, ...schedule, stages, microbatches, commUs: 0, uniform: false, measure, batch: 1, seq: 128, executionProvider: 'cpu', seed: 0 };
}

/** `1,2048,4096,32` → micro-batch, seq, hidden, layers (empty: no activations). */
function parseActivations(v: string): Pick<MemoryPlanInput, 'microBatch' | 'seq' | 'hidden' | 'layers'> {
  if (v === '') return {};
  const parts = v.split(',').map((p) => p.trim());
  if (parts.length !== 4 || parts.some((p) => !/^\d+$/.test(p) || Number(p) < 1)) throw new Error('expected four positive integers: micro-batch,seq,hidden,layers (or nothing)');
  const [microBatch, seq, hidden, layers] = parts.map(Number);
  return { microBatch, seq, hidden, layers };
}

/** "Plan Memory (ZeRO)…": parameters, GPUs, ZeRO stage, optional activation shape. */
export async function askMemoryPlan(): Promise<{ input: MemoryPlanInput; label: string } | undefined> {
  const title = 'Plan Memory (ZeRO)';
  const paramsText = await askValue(title, 'Parameters (e.g. 7.5B, 350M, 1.3e9)', '7.5B', (v) => (parseCount(v), v));
  if (paramsText === undefined) return undefined;
  const gpus = await askValue(title, 'Data-parallel GPUs N', '64', positiveInt('GPUs', 1 << 20));
  if (gpus === undefined) return undefined;
  const zeroStage = await pick<ZeroStage>(
    [
      { label: '0', description: 'plain data parallelism: every GPU holds everything', value: 0 },
      { label: '1', description: 'optimizer states partitioned', value: 1 },
      { label: '2', description: 'optimizer states and gradients partitioned', value: 2 },
      { label: '3', description: 'optimizer states, gradients and parameters partitioned', value: 3 },
    ],
    title,
    'ZeRO stage',
  );
  if (zeroStage === undefined) return undefined;
  const act = await askValue(title, 'Activations: micro-batch,seq,hidden,layers (leave empty to count model states only)', '', parseActivations);
  if (act === undefined) return undefined;
  const checkpointing = act.layers !== undefined ? await pick<boolean>([{ label: 'No checkpointing', value: false }, { label: 'Full activation checkpointing', value: true }], title, 'Activation checkpointing') : false;
  if (checkpointing === undefined) return undefined;
  return { input: { params: parseCount(paramsText), gpus, zeroStage, ...act, checkpointing }, label: `${paramsText} parameters` };
}
