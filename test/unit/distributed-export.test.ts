import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import yaml from 'js-yaml';
import { planMemory } from '../../engine/src/analysis/zero-memory';
import { DistributedSettings, EXPORT_FORMATS, exportDistributed, settingsFromPlan } from '../../engine/src/export/distributed';
import { DEFAULT_SETTINGS, topologyFor } from '../../engine/src/export/distributed-settings';
import { MemoryPlanInput, PipelinePlan, ScheduleName } from '../../engine/src/schema/parallel';
import { TwbError } from '../../engine/src/util/errors';

/** Interpreter for the checks that need Python (override with TWB_PYTHON, e.g. a venv with torch 2.x). */
const PY = process.env.TWB_PYTHON ?? '/usr/bin/python3';
const python = (args: string[], input?: string) => spawnSync(PY, args, { input, encoding: 'utf8', timeout: 120_000 });
const canImport = (module: string): boolean => python(['-c', `import ${module}`]).status === 0;

// Keys documented in DeepSpeed's "DeepSpeed Configuration JSON" (https://www.deepspeed.ai/docs/config-json/,
// docs/_pages/config-json.md in deepspeedai/DeepSpeed), per section. The `pipeline` section is not on
// that page: its keys are the defaults of get_pipeline_config() in deepspeed/runtime/config.py.
const DEEPSPEED_KEYS: Record<string, readonly string[]> = {
  '': [
    'train_batch_size', 'train_micro_batch_size_per_gpu', 'gradient_accumulation_steps', 'optimizer', 'scheduler',
    'communication_data_type', 'prescale_gradients', 'gradient_predivide_factor', 'sparse_gradients', 'fp16', 'bf16',
    'amp', 'gradient_clipping', 'zero_optimization', 'zero_allow_untested_optimizer', 'steps_per_print',
    'wall_clock_breakdown', 'dump_state', 'flops_profiler', 'activation_checkpointing', 'aio', 'tensorboard',
    'wandb', 'csv_monitor', 'elasticity', 'data_efficiency', 'checkpoint', 'data_types', 'pipeline',
  ],
  fp16: ['enabled', 'auto_cast', 'loss_scale', 'initial_scale_power', 'loss_scale_window', 'hysteresis', 'consecutive_hysteresis', 'min_loss_scale'],
  bf16: ['enabled'],
  zero_optimization: [
    'stage', 'allgather_partitions', 'allgather_bucket_size', 'overlap_comm', 'reduce_scatter', 'reduce_bucket_size',
    'contiguous_gradients', 'offload_param', 'offload_optimizer', 'stage3_max_live_parameters', 'stage3_max_reuse_distance',
    'stage3_prefetch_bucket_size', 'stage3_param_persistence_threshold', 'sub_group_size', 'elastic_checkpoint',
    'stage3_gather_16bit_weights_on_model_save', 'ignore_unused_parameters', 'round_robin_gradients',
  ],
  activation_checkpointing: ['partition_activations', 'cpu_checkpointing', 'contiguous_memory_optimization', 'number_checkpoints', 'synchronize_checkpoint_boundary', 'profile'],
  pipeline: ['stages', 'partition', 'seed_layers', 'activation_checkpoint_interval', 'pipe_partitioned', 'grad_partitioned'],
};

// accelerate's config file: the fields of ClusterConfig and BaseConfig
// (accelerate/commands/config/config_args.py); a key outside them makes `accelerate launch` refuse the file.
const ACCELERATE_KEYS = [
  'compute_environment', 'distributed_type', 'mixed_precision', 'use_cpu', 'debug', 'num_processes', 'machine_rank',
  'num_machines', 'gpu_ids', 'main_process_ip', 'main_process_port', 'rdzv_backend', 'same_network',
  'main_training_function', 'enable_cpu_affinity', 'fp8_config', 'deepspeed_config', 'fsdp_config', 'tp_config',
  'megatron_lm_config', 'ipex_config', 'mpirun_config', 'downcast_bf16', 'tpu_name', 'tpu_zone', 'tpu_use_cluster',
  'tpu_use_sudo', 'command_file', 'commands', 'tpu_vm', 'tpu_env', 'dynamo_config',
];
// Its deepspeed_config section: the "DeepSpeed Arguments" of `accelerate launch` (commands/launch.py).
const ACCELERATE_DEEPSPEED_KEYS = [
  'deepspeed_config_file', 'zero_stage', 'offload_optimizer_device', 'offload_param_device', 'offload_optimizer_nvme_path',
  'offload_param_nvme_path', 'gradient_accumulation_steps', 'gradient_clipping', 'zero3_init_flag', 'zero3_save_16bit_model',
  'deepspeed_hostfile', 'deepspeed_exclusion_filter', 'deepspeed_inclusion_filter', 'deepspeed_multinode_launcher',
  'deepspeed_moe_layer_cls_names',
];
// torchrun options (torch.distributed.run's get_args_parser), for when torch is not importable.
const TORCHRUN_OPTIONS = ['nnodes', 'nproc_per_node', 'node_rank', 'master_addr', 'master_port', 'rdzv_backend', 'rdzv_endpoint', 'rdzv_id', 'standalone', 'max_restarts'];

const memoryPlan = (input: Partial<MemoryPlanInput>) =>
  planMemory({ params: 1.3e9, gpus: 8, zeroStage: 0, checkpointing: false, ...input }, 'builtin:gpt', new Date('2026-01-01T00:00:00Z'));

/** The fields of a pipeline plan that settingsFromPlan reads (the rest of the document is irrelevant here). */
function pipelinePlan(schedule: ScheduleName, stages: number, chunks: number, microbatches: number): PipelinePlan {
  const layers = Array.from({ length: stages * chunks * 2 }, (_, i) => ({ name: `layer ${i}`, layer: i, forwardUs: 1, backwardUs: 2, weightGradUs: 1, activationBytes: 1, paramBytes: 1 }));
  const stageStats = Array.from({ length: stages }, (_, stage) => ({
    stage,
    layers: Array.from({ length: chunks }, (_, c) => [2 * (stage + c * stages), 2 * (stage + c * stages) + 1]),
    busyUs: 1,
    idleUs: 0,
    bubbleFraction: 0,
    peakInFlight: 1,
    activationBytes: 1,
    paramBytes: 1,
  }));
  return {
    schemaVersion: 1, kind: 'pipeline', id: `plan-${schedule}`, createdAt: '2026-01-01T00:00:00Z', model: 'builtin:gpt', batch: 1, seq: 8,
    costSource: { kind: 'uniform', from: 'test', estimated: [] }, schedule, chunks, stages, microbatches, commUs: 0, layers, stageStats,
    bubbleFraction: 0.1, makespanUs: 10, peakInFlight: stages, closedFormBubble: 0.1, timeline: [], warnings: [],
  };
}

const json = (s: DistributedSettings) => JSON.parse(exportDistributed(s, 'deepspeed').text) as Record<string, unknown>;

function checkKeys(obj: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const k of Object.keys(obj)) assert.ok(allowed.includes(k), `${where}: "${k}" is not a documented key`);
}

test('settingsFromPlan: a memory plan gives ZeRO stage, GPUs, micro-batch and checkpointing', () => {
  const s = settingsFromPlan(memoryPlan({ gpus: 64, zeroStage: 3, microBatch: 4, checkpointing: true }));
  assert.deepEqual([s.nodes, s.gpusPerNode, s.zeroStage, s.microBatchPerGpu, s.activationCheckpointing], [8, 8, 3, 4, true]);
  assert.equal(s.sourcePlan, '20260101T000000Z-gpt-memory-plan');
  assert.deepEqual(topologyFor(4), { nodes: 1, gpusPerNode: 4 });
  assert.deepEqual(topologyFor(12), { nodes: 2, gpusPerNode: 6 });
  const defaults = settingsFromPlan(memoryPlan({}));
  assert.equal(defaults.precision, DEFAULT_SETTINGS.precision);
  assert.equal(defaults.microBatchPerGpu, 1);
});

test('settingsFromPlan: a pipeline plan gives stages, M = accumulation steps, schedule, chunks and the layer split', () => {
  const s = settingsFromPlan(pipelinePlan('interleaved', 4, 2, 8), { nodes: 2, gpusPerNode: 8 });
  assert.deepEqual([s.pipelineStages, s.microbatches, s.gradientAccumulationSteps, s.schedule, s.chunks], [4, 8, 8, 'interleaved', 2]);
  assert.deepEqual(s.stageLayers?.[5], ['layer 10', 'layer 11']); // rank 1, chunk 1 = virtual stage 1 + 4
  // Overriding one of M / accumulation steps moves the other with it.
  assert.equal(settingsFromPlan(pipelinePlan('1f1b', 2, 1, 4), { gradientAccumulationSteps: 16 }).microbatches, 16);
  assert.throws(() => settingsFromPlan(pipelinePlan('1f1b', 2, 1, 4), { microbatches: 8, gradientAccumulationSteps: 4 }), /must equal gradientAccumulationSteps/);
  assert.throws(() => settingsFromPlan(pipelinePlan('1f1b', 4, 1, 4), { nodes: 1, gpusPerNode: 6 }), (e: unknown) => e instanceof TwbError && e.code === 'usage' && /not divisible by 4 pipeline stages/.test(e.message));
  assert.throws(() => settingsFromPlan(pipelinePlan('1f1b', 2, 1, 4), { precision: 'fp8' as never }), /expected one of: bf16, fp16, fp32/);
  assert.throws(() => settingsFromPlan(pipelinePlan('interleaved', 2, 2, 4), { chunks: 1 }), /at least 2 chunks/);
});

test('deepspeed: only documented keys, in every section, at every stage and precision', () => {
  for (const zeroStage of [0, 1, 2, 3] as const) {
    for (const precision of ['bf16', 'fp16', 'fp32'] as const) {
      for (const checkpointing of [false, true]) {
        const config = json(settingsFromPlan(memoryPlan({ gpus: 16, zeroStage, checkpointing }), { precision }));
        checkKeys(config, DEEPSPEED_KEYS[''], 'top level');
        for (const [section, value] of Object.entries(config)) {
          if (value && typeof value === 'object') checkKeys(value as Record<string, unknown>, DEEPSPEED_KEYS[section] ?? [], section);
        }
        const zero = config.zero_optimization as Record<string, unknown>;
        assert.equal(zero.stage, zeroStage);
        assert.equal(Object.keys(zero).some((k) => k.startsWith('stage3_')), zeroStage === 3, `stage-3 keys only at stage 3 (stage ${zeroStage})`);
        assert.equal('bf16' in config, precision === 'bf16');
        assert.equal('fp16' in config, precision === 'fp16');
        assert.equal('activation_checkpointing' in config, checkpointing);
      }
    }
  }
  const fp16 = json(settingsFromPlan(memoryPlan({}), { precision: 'fp16' })).fp16;
  assert.deepEqual(fp16, { enabled: true, loss_scale: 0, initial_scale_power: 16, loss_scale_window: 1000, hysteresis: 2, min_loss_scale: 1 });
  const piped = json(settingsFromPlan(pipelinePlan('1f1b', 4, 1, 8), { zeroStage: 1 }));
  checkKeys(piped.pipeline as Record<string, unknown>, DEEPSPEED_KEYS.pipeline, 'pipeline');
  assert.deepEqual(piped.pipeline, { stages: 4, partition: 'uniform' });
});

test('deepspeed: train_batch_size = micro-batch × accumulation × data-parallel degree (world ÷ stages)', () => {
  const cases: Array<[DistributedSettings, number]> = [
    [settingsFromPlan(memoryPlan({ gpus: 64, microBatch: 4 }), { gradientAccumulationSteps: 8 }), 4 * 8 * 64],
    [settingsFromPlan(pipelinePlan('1f1b', 4, 1, 16), { nodes: 2, gpusPerNode: 8, microBatchPerGpu: 2 }), 2 * 16 * 4],
    [settingsFromPlan(pipelinePlan('gpipe', 8, 1, 8)), 1 * 8 * 1],
  ];
  for (const [s, expected] of cases) {
    const c = json(s);
    assert.equal(c.train_batch_size, expected);
    assert.equal(c.train_batch_size, (c.train_micro_batch_size_per_gpu as number) * (c.gradient_accumulation_steps as number) * ((s.nodes * s.gpusPerNode) / s.pipelineStages));
  }
});

test('deepspeed: ZeRO 2/3 with a pipeline is refused, naming both and the fix; other schedules warn', () => {
  for (const zeroStage of [2, 3] as const) {
    const s = settingsFromPlan(pipelinePlan('1f1b', 4, 1, 8), { zeroStage });
    for (const format of ['deepspeed', 'torchrun']) {
      assert.throws(
        () => exportDistributed(s, format),
        (e: unknown) => e instanceof TwbError && e.code === 'usage' && e.message.includes(`ZeRO stage ${zeroStage}`) && e.message.includes('4 pipeline stages') && /zeroStage 1/.test(e.hint ?? ''),
      );
    }
    // accelerate and pipelining do not run DeepSpeed's pipeline engine.
    assert.doesNotThrow(() => exportDistributed(s, 'pipelining'));
  }
  const interleaved = exportDistributed(settingsFromPlan(pipelinePlan('interleaved', 4, 2, 8)), 'deepspeed');
  assert.ok(interleaved.warnings.some((w) => w.includes('1F1B only') && w.includes('interleaved')), interleaved.warnings.join('\n'));
  const plain = exportDistributed(settingsFromPlan(pipelinePlan('1f1b', 4, 1, 8)), 'deepspeed');
  assert.ok(!plain.warnings.some((w) => w.includes('1F1B only')));
  assert.equal(plain.fileName, 'ds_config.json');
  assert.throws(() => exportDistributed(DEFAULT_SETTINGS, 'megatron'), /expected one of: deepspeed, accelerate, torchrun, pipelining/);
  assert.deepEqual([...EXPORT_FORMATS], ['deepspeed', 'accelerate', 'torchrun', 'pipelining']);
});

test('accelerate: YAML that js-yaml reads back, with only ClusterConfig keys', () => {
  const cases: Array<[DistributedSettings, string]> = [
    [settingsFromPlan(memoryPlan({ gpus: 1 }), { precision: 'fp32' }), 'NO'],
    [settingsFromPlan(memoryPlan({ gpus: 8 })), 'MULTI_GPU'],
    [settingsFromPlan(memoryPlan({ gpus: 16, zeroStage: 2 }), { precision: 'fp16' }), 'DEEPSPEED'],
    [settingsFromPlan(memoryPlan({ gpus: 64, zeroStage: 3 })), 'DEEPSPEED'],
    [settingsFromPlan(pipelinePlan('1f1b', 4, 1, 8), { zeroStage: 1 }), 'DEEPSPEED'],
  ];
  for (const [s, type] of cases) {
    const out = exportDistributed(s, 'accelerate');
    assert.equal(out.fileName, 'accelerate_config.yaml');
    const doc = yaml.load(out.text) as Record<string, unknown>;
    checkKeys(doc, ACCELERATE_KEYS, 'accelerate');
    assert.equal(doc.distributed_type, type);
    assert.equal(doc.num_processes, s.nodes * s.gpusPerNode);
    assert.equal(doc.num_machines, s.nodes);
    assert.equal(doc.downcast_bf16, 'no'); // a string, not YAML 1.1's false
    assert.equal(doc.mixed_precision, s.precision === 'fp32' ? 'no' : s.precision);
    assert.equal(doc.compute_environment, 'LOCAL_MACHINE');
    const ds = doc.deepspeed_config as Record<string, unknown> | undefined;
    assert.equal(ds !== undefined, type === 'DEEPSPEED');
    if (ds) {
      checkKeys(ds, ACCELERATE_DEEPSPEED_KEYS, 'deepspeed_config');
      assert.equal(ds.zero_stage, s.zeroStage);
      assert.equal(ds.gradient_accumulation_steps, s.gradientAccumulationSteps);
      assert.equal(ds.zero3_init_flag, s.zeroStage === 3);
      assert.equal('zero3_save_16bit_model' in ds, s.zeroStage === 3);
    }
    assert.equal('main_process_ip' in doc, s.nodes > 1);
    assert.equal(out.warnings.some((w) => w.includes('no pipeline settings')), s.pipelineStages > 1);
  }
});

test('accelerate: the YAML loads with accelerate itself (when importable)', { skip: !canImport('accelerate') && `${PY} cannot import accelerate` }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'twb-accelerate-'));
  try {
    const file = path.join(dir, 'accelerate_config.yaml');
    writeFileSync(file, exportDistributed(settingsFromPlan(memoryPlan({ gpus: 16, zeroStage: 3 })), 'accelerate').text);
    const r = python(['-c', 'import sys; from accelerate.commands.config.config_args import load_config_from_file as f; c = f(sys.argv[1]); print(c.distributed_type.value, c.num_processes, c.deepspeed_config["zero_stage"])', file]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'DEEPSPEED 16 3');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Runs the launch script with `torchrun` replaced by a shell function that parses its arguments. */
function parseTorchrun(script: string, parser: 'torch' | 'names'): Record<string, unknown> {
  const dir = mkdtempSync(path.join(tmpdir(), 'twb-torchrun-'));
  try {
    const file = path.join(dir, 'launch.sh');
    writeFileSync(file, script);
    const torchParse = 'import json, sys; from torch.distributed.run import get_args_parser; print(json.dumps(vars(get_args_parser().parse_args(sys.argv[1:])), default=str))';
    // Without torch: split --name=value options and the script with its arguments.
    const nameParse = 'import json, sys; a = sys.argv[1:]; i = next(k for k, x in enumerate(a) if not x.startswith("--")); print(json.dumps({**{x[2:].split("=")[0]: x.split("=", 1)[1] for x in a[:i]}, "training_script": a[i], "training_script_args": a[i + 1:]}))';
    const fn = `torchrun() { "${PY}" -c '${parser === 'torch' ? torchParse : nameParse}' "$@"; }`;
    const r = spawnSync('bash', ['-c', `${fn}; f=$1; shift; source "$f" --extra`, '_', file], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: dir, NODE_RANK: '3' } });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as Record<string, unknown>;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('torchrun: the launch line parses (with torch.distributed.run when importable)', () => {
  const parser = canImport('torch.distributed.run') ? 'torch' : 'names';
  const ds = settingsFromPlan(memoryPlan({ gpus: 16, zeroStage: 2 }));
  const deep = exportDistributed(ds, 'torchrun');
  assert.equal(deep.fileName, 'launch.sh');
  const a = parseTorchrun(deep.text, parser);
  if (parser === 'names') for (const k of Object.keys(a)) if (!k.startsWith('training_script')) assert.ok(TORCHRUN_OPTIONS.includes(k), `unknown torchrun option --${k}`);
  assert.equal(String(a.nnodes), '2');
  assert.equal(String(a.nproc_per_node), '8');
  assert.equal(String(a.node_rank), '3');
  assert.equal(a.master_addr, '127.0.0.1');
  assert.equal(String(a.master_port), '29500');
  assert.equal(a.training_script, 'train.py');
  assert.deepEqual(a.training_script_args, ['--deepspeed', 'ds_config.json', '--extra']);
  // ZeRO 0 without a pipeline is plain DDP: no DeepSpeed at all.
  const ddp = parseTorchrun(exportDistributed(settingsFromPlan(memoryPlan({ gpus: 4 })), 'torchrun').text, parser);
  assert.equal(String(ddp.nproc_per_node), '4');
  assert.deepEqual(ddp.training_script_args, ['--extra']);
  // A pipeline plan names its schedule class in the comments.
  const piped = exportDistributed(settingsFromPlan(pipelinePlan('interleaved', 2, 2, 4)), 'torchrun');
  assert.match(piped.text, /^# Pipeline schedule of the plan: interleaved = torch\.distributed\.pipelining\.ScheduleInterleaved1F1B$/m);
  assert.deepEqual(parseTorchrun(piped.text, parser).training_script_args, ['--deepspeed', 'ds_config.json', '--extra']);
});

const SCHEDULE_CLASS: Record<ScheduleName, [string, boolean]> = {
  gpipe: ['ScheduleGPipe', false],
  '1f1b': ['Schedule1F1B', false],
  interleaved: ['ScheduleInterleaved1F1B', true],
  'zb-h1': ['ScheduleInterleavedZeroBubble', true],
};

test('pipelining: valid Python naming the schedule class, with V stages per rank', () => {
  const hasPython = python(['-c', 'import ast']).status === 0;
  for (const [schedule, chunks] of [['gpipe', 1], ['1f1b', 1], ['interleaved', 2], ['interleaved', 3], ['zb-h1', 1], ['zb-h1', 2]] as const) {
    const out = exportDistributed(settingsFromPlan(pipelinePlan(schedule, 4, chunks, 8)), 'pipelining');
    assert.equal(out.fileName, 'pipeline_parallel.py');
    const [cls, multi] = SCHEDULE_CLASS[schedule];
    assert.match(out.text, new RegExp(`^from torch\\.distributed\\.pipelining import PipelineStage, ${cls}$`, 'm'));
    assert.match(out.text, new RegExp(`schedule = ${cls}\\(stages${multi ? '' : '\\[0\\]'}, n_microbatches=N_MICROBATCHES, loss_fn=loss_fn\\)`));
    assert.match(out.text, /^N_MICROBATCHES = 8 /m);
    // Stage index rank + v·P: the Megatron / PyTorch placement of interleaved chunks.
    assert.match(out.text, /stage_index = pp_rank \+ chunk \* PIPELINE_RANKS/);
    const v = schedule === 'zb-h1' ? Math.max(2, chunks) : chunks;
    assert.match(out.text, new RegExp(`^CHUNKS_PER_RANK = ${v} `, 'm'));
    assert.equal(out.warnings.some((w) => w.includes('at least 2 stages per rank')), schedule === 'zb-h1' && chunks === 1);
    if (hasPython) {
      const r = python(['-c', 'import ast, sys; ast.parse(sys.stdin.read())'], out.text);
      assert.equal(r.status, 0, `${schedule}: ${r.stderr}`);
    }
  }
});

test('pipelining: the module trains under torchrun on CPU (when torch.distributed.pipelining is importable)', { skip: !canImport('torch.distributed.pipelining') && `${PY} has no torch.distributed.pipelining` }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'twb-pipelining-'));
  try {
    const file = path.join(dir, 'pipeline_parallel.py');
    writeFileSync(file, exportDistributed(settingsFromPlan(pipelinePlan('interleaved', 2, 2, 4)), 'pipelining').text);
    const r = spawnSync(PY, ['-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=2', file], { encoding: 'utf8', timeout: 300_000, env: { ...process.env, CUDA_VISIBLE_DEVICES: '' } });
    assert.equal(r.status, 0, r.stderr.slice(-3000));
    const losses = r.stdout.split('\n').filter((l) => /^rank 1 step \d+ loss [\d.]+$/.test(l));
    assert.equal(losses.length, 20, r.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
