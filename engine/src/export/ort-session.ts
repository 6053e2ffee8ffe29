/**
 * ONNX Runtime session options of a run, for taking a tuned configuration into an application:
 * as JSON (the options object onnxruntime-node takes), and as Python and JavaScript snippets that
 * open the session with the same provider, optimization level and threads.
 */
import type { RunConfig } from '../schema/run';

/** onnxruntime's Python names of our execution providers. */
const PYTHON_PROVIDERS: Record<string, string> = { cpu: 'CPUExecutionProvider', cuda: 'CUDAExecutionProvider', webgpu: 'WebGpuExecutionProvider' };
/** onnxruntime's Python enum members of the optimization levels. */
const PYTHON_LEVELS: Record<string, string> = { disabled: 'ORT_DISABLE_ALL', basic: 'ORT_ENABLE_BASIC', extended: 'ORT_ENABLE_EXTENDED', all: 'ORT_ENABLE_ALL' };

export interface SessionOptionsJson {
  executionProviders: string[];
  graphOptimizationLevel: string;
  /** Absent: ORT's default (one thread per physical core). */
  intraOpNumThreads?: number;
  interOpNumThreads: number;
  executionMode: 'sequential';
}

/** The options as onnxruntime-node's `InferenceSession.create` takes them. */
export function sessionOptions(config: Pick<RunConfig, 'executionProvider' | 'optLevel' | 'threads'>): SessionOptionsJson {
  return {
    executionProviders: [config.executionProvider],
    graphOptimizationLevel: config.optLevel,
    ...(config.threads > 0 ? { intraOpNumThreads: config.threads } : {}),
    interOpNumThreads: 1,
    executionMode: 'sequential',
  };
}

export function sessionOptionsJson(config: RunConfig, model: string): string {
  return `${JSON.stringify({ model, sessionOptions: sessionOptions(config) }, null, 2)}\n`;
}

export function pythonSnippet(config: RunConfig, model: string): string {
  const lines = [
    `# ONNX Runtime session options exported by Transformer Workbench for ${model}.`,
    'import onnxruntime as ort',
    '',
    'options = ort.SessionOptions()',
    `options.graph_optimization_level = ort.GraphOptimizationLevel.${PYTHON_LEVELS[config.optLevel] ?? 'ORT_ENABLE_ALL'}`,
    ...(config.threads > 0 ? [`options.intra_op_num_threads = ${config.threads}`] : ['# intra_op_num_threads left to ORT: one thread per physical core']),
    'options.inter_op_num_threads = 1',
    'options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL',
    `session = ort.InferenceSession(${JSON.stringify(model)}, sess_options=options, providers=[${JSON.stringify(PYTHON_PROVIDERS[config.executionProvider] ?? config.executionProvider)}])`,
    '',
  ];
  return lines.join('\n');
}

export function jsSnippet(config: RunConfig, model: string): string {
  return [
    `// ONNX Runtime session options exported by Transformer Workbench for ${model}.`,
    "const ort = require('onnxruntime-node');",
    '',
    `const sessionOptions = ${JSON.stringify(sessionOptions(config), null, 2)};`,
    '',
    'async function openSession(modelPath = ' + JSON.stringify(model) + ') {',
    '  return ort.InferenceSession.create(modelPath, sessionOptions);',
    '}',
    '',
    'module.exports = { sessionOptions, openSession };',
    '',
  ].join('\n');
}
