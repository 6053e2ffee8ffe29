/**
 * 🤗 accelerate launch config (YAML, the file `accelerate config` writes and `accelerate launch
 * --config_file` reads). Keys are those of accelerate's ClusterConfig and of the `deepspeed_config`
 * section its `accelerate config` questionnaire fills in (accelerate/commands/config/).
 */
import { DEEPSPEED_FILE, ExportedConfig } from './deepspeed';
import { describeLayout, DistributedSettings, worldSize } from './distributed-settings';

export const ACCELERATE_FILE = 'accelerate_config.yaml';

type Scalar = string | number | boolean;
/** A YAML mapping of scalars and nested mappings; keys are written in insertion order. */
export interface YamlMap {
  [key: string]: Scalar | YamlMap;
}

/** Strings YAML 1.1 (PyYAML, which accelerate uses) would read as something else. */
const AMBIGUOUS = /^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|null|Null|NULL|~|)$/;
const NUMBER_LIKE = /^[-+]?(?:\.?\d|\.inf|\.nan)/i;
const PLAIN = /^[A-Za-z0-9_./][A-Za-z0-9_./ -]*$/;

function scalar(v: Scalar): string {
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`cannot write ${v} as YAML`);
    return String(v);
  }
  if (AMBIGUOUS.test(v) || NUMBER_LIKE.test(v) || !PLAIN.test(v) || v.endsWith(' ')) return `'${v.replace(/'/g, "''")}'`;
  return v;
}

/** Block-style YAML for nested maps of scalars (all accelerate's config needs). */
export function toYaml(map: YamlMap, indent = 0): string {
  const pad = ' '.repeat(indent);
  return Object.entries(map)
    .map(([k, v]) => (typeof v === 'object' ? `${pad}${k}:\n${toYaml(v, indent + 2)}` : `${pad}${k}: ${scalar(v)}\n`))
    .join('');
}

function distributedType(s: DistributedSettings): 'DEEPSPEED' | 'MULTI_GPU' | 'NO' {
  if (s.zeroStage > 0 || s.pipelineStages > 1) return 'DEEPSPEED';
  return worldSize(s) === 1 ? 'NO' : 'MULTI_GPU';
}

/** The config as a map, in the order it is written. */
export function accelerateConfig(s: DistributedSettings): YamlMap {
  const type = distributedType(s);
  const config: YamlMap = { compute_environment: 'LOCAL_MACHINE', debug: false };
  if (type === 'DEEPSPEED') {
    const ds: YamlMap = {
      gradient_accumulation_steps: s.gradientAccumulationSteps,
      gradient_clipping: 1.0,
      offload_optimizer_device: 'none',
      offload_param_device: 'none',
      zero3_init_flag: s.zeroStage === 3,
    };
    if (s.zeroStage === 3) ds.zero3_save_16bit_model = true;
    ds.zero_stage = s.zeroStage;
    // Multi-node DeepSpeed through accelerate: "standard" is torchrun-style, no pdsh hostfile.
    if (s.nodes > 1) ds.deepspeed_multinode_launcher = 'standard';
    config.deepspeed_config = ds;
  }
  config.distributed_type = type;
  // accelerate writes 'no' for this TPU-only setting on GPUs.
  config.downcast_bf16 = 'no';
  config.gpu_ids = 'all';
  config.machine_rank = 0;
  if (s.nodes > 1) {
    config.main_process_ip = '127.0.0.1';
    config.main_process_port = 29500;
  }
  config.main_training_function = 'main';
  config.mixed_precision = s.precision === 'fp32' ? 'no' : s.precision;
  config.num_machines = s.nodes;
  config.num_processes = worldSize(s);
  config.rdzv_backend = 'static';
  config.same_network = true;
  config.use_cpu = false;
  return config;
}

/** `accelerate_config.yaml` for the settings. */
export function exportAccelerate(s: DistributedSettings): ExportedConfig {
  const warnings: string[] = [];
  if (s.pipelineStages > 1) {
    warnings.push(
      `accelerate's DeepSpeed integration trains with data parallelism and ZeRO only (its config has no pipeline settings): this config runs ${worldSize(s)}-way data parallel, not ${s.pipelineStages} pipeline stages. For the pipeline, export --format deepspeed (with torchrun or the deepspeed launcher) or --format pipelining.`,
    );
  }
  if (s.nodes > 1) {
    warnings.push(`Set machine_rank (0–${s.nodes - 1}) on each machine and main_process_ip to the address of machine 0.`);
  }
  if (s.activationCheckpointing) {
    warnings.push('accelerate has no activation-checkpointing setting: turn it on in the model (e.g. model.gradient_checkpointing_enable()).');
  }
  const header = [
    `# accelerate launch --config_file ${ACCELERATE_FILE} train.py`,
    `# Written by Transformer Workbench${s.sourcePlan ? ` from ${s.sourcePlan}` : ''}: ${describeLayout(s)}.`,
    ...(s.pipelineStages > 1 ? [`# The pipeline (${s.pipelineStages} stages) is not expressed here; see ${DEEPSPEED_FILE} or pipeline_parallel.py.`] : []),
  ];
  return { text: `${header.join('\n')}\n${toYaml(accelerateConfig(s))}`, fileName: ACCELERATE_FILE, warnings };
}
