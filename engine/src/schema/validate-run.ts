import { InferenceRun, KernelTrace, LayerStat, MemoryProfile, ModelInfo, OpStat, OpTypeStat, RUN_SCHEMA_VERSION, RunConfig, RunEnv } from './run';
import { arrayOf, literal, nullable, num, numOrString, object, optional, parseJsonText, recordOf, str, Validator } from './validate';
import { TwbError } from '../util/errors';

const shapes = arrayOf(arrayOf(num));

const modelInfo = object<ModelInfo>({
  name: str,
  source: str,
  sizeBytes: num,
  params: num,
  opset: num,
  opsets: recordOf(num),
  irVersion: num,
  producer: str,
  nodeCount: num,
  inputs: arrayOf(object({ name: str, type: str, dims: arrayOf(num), declared: arrayOf(numOrString), values: str })),
});

/** Field validators of RunConfig, shared with the webview's run form. */
export const runConfigFields = {
  executionProvider: str,
  threads: num,
  optLevel: str,
  batch: num,
  seq: num,
  past: num,
  dims: recordOf(num),
  warmup: num,
  runs: num,
  profiledRuns: num,
  seed: num,
  attention: optional(str),
  shareLayers: optional(str),
};

const config = object<RunConfig>(runConfigFields);

const env = object<RunEnv>({ executionProvider: str, threads: num, ortVersion: str, cpu: str, cpuCount: num, platform: str, nodeVersion: str });

const opStat = object<OpStat>({
  node: str,
  opType: str,
  domain: str,
  layer: nullable(num),
  provider: str,
  calls: num,
  totalUs: num,
  meanUs: num,
  share: num,
  flops: num,
  gflops: num,
  inputShapes: shapes,
  outputShapes: shapes,
  paramBytes: num,
  fusedFrom: optional(arrayOf(str)),
});

const opTypeStat = object<OpTypeStat>({ opType: str, domain: str, calls: num, totalUs: num, share: num, flops: num });
const layerStat = object<LayerStat>({ layer: nullable(num), totalUs: num, share: num });

const memory = object<MemoryProfile>({
  peakBytes: num,
  weightsBytes: num,
  arenaHeldBytes: num,
  timeline: arrayOf(object({ tUs: num, bytes: num })),
  peakAt: optional(object({ tUs: num, node: str })),
  unavailable: optional(str),
});

const trace: Validator<KernelTrace> = (v, at) => {
  const t = object<KernelTrace>({ op: arrayOf(num), run: arrayOf(num), startUs: arrayOf(num), durUs: arrayOf(num), runUs: arrayOf(num) })(v, at);
  const n = t.op.length;
  if (t.run.length !== n || t.startUs.length !== n || t.durUs.length !== n) throw new TwbError('io', `${at}: trace columns differ in length`);
  return t;
};

const latency = object<InferenceRun['latencyMs']>({ p50: num, p90: num, mean: num, min: num, max: num, samples: arrayOf(num) });

const inferenceRun = object<InferenceRun>({
  schemaVersion: literal(RUN_SCHEMA_VERSION),
  kind: literal('inference'),
  id: str,
  createdAt: str,
  model: modelInfo,
  config,
  env,
  latencyMs: latency,
  profiledLatencyMs: object({ mean: num, p50: num }),
  compute: object({ flops: num, gflops: num }),
  ops: arrayOf(opStat),
  opTypes: arrayOf(opTypeStat),
  layers: arrayOf(layerStat),
  memory,
  trace,
  warnings: arrayOf(str),
});

/** Parses and validates the JSON text of a Run document; throws an io error naming what is wrong. */
export function parseRunJson(text: string): InferenceRun {
  return validateRun(parseJsonText(text));
}

/** Validates a parsed Run document (from a file or another process); throws naming the bad path. */
export function validateRun(v: unknown): InferenceRun {
  if (v && typeof v === 'object' && 'schemaVersion' in v && (v as { schemaVersion: unknown }).schemaVersion !== RUN_SCHEMA_VERSION) {
    throw new TwbError('io', `run document has schemaVersion ${String((v as { schemaVersion: unknown }).schemaVersion)}; this version of the workbench reads ${RUN_SCHEMA_VERSION}`);
  }
  return inferenceRun(v, 'run');
}
