/**
 * A Python module that trains with `torch.distributed.pipelining` (PyTorch ≥ 2.5) using the plan's
 * schedule: builds this rank's PipelineStage(s), the schedule class, and runs `schedule.step`.
 * The model and data are a small stand-in the user replaces; as written the module runs, so the
 * schedule can be tried on the cluster before the real model is split.
 */
import { ExportedConfig } from './deepspeed';
import { describeLayout, DistributedSettings } from './distributed-settings';
import { ScheduleName } from '../schema/parallel';

export const PIPELINING_FILE = 'pipeline_parallel.py';

/** The PyTorch schedule class of each schedule, and whether it takes a list of stages. */
export const SCHEDULE_CLASSES: Record<ScheduleName, { className: string; multiStage: boolean }> = {
  gpipe: { className: 'ScheduleGPipe', multiStage: false },
  '1f1b': { className: 'Schedule1F1B', multiStage: false },
  interleaved: { className: 'ScheduleInterleaved1F1B', multiStage: true },
  'zb-h1': { className: 'ScheduleInterleavedZeroBubble', multiStage: true },
};

/**
 * Stages per rank the module builds. PyTorch's multi-stage schedules (PipelineScheduleMulti)
 * refuse a single stage per rank in 2.4/2.5 ("Multi-stage schedule expects at least two
 * stages"), so ZB-H1 with one chunk is written with two.
 */
export function chunksPerRank(s: DistributedSettings): number {
  return SCHEDULE_CLASSES[s.schedule].multiStage ? Math.max(2, s.chunks) : 1;
}

/** A Python string literal (JSON's escapes are valid Python for printable text). */
const pyStr = (v: string): string => JSON.stringify(v);

function stageLayersTable(s: DistributedSettings, chunks: number): string[] {
  if (!s.stageLayers || s.stageLayers.length !== s.pipelineStages * chunks) return [];
  return [
    '# Layers of each stage in the plan (stage index = pipeline rank + chunk * PIPELINE_RANKS).',
    'STAGE_LAYERS = [',
    ...s.stageLayers.map((names, i) => `    [${names.map(pyStr).join(', ')}],  # stage ${i}`),
    ']',
    '',
  ];
}

/** `pipeline_parallel.py` for the settings. */
export function exportPipelining(s: DistributedSettings): ExportedConfig {
  const { className, multiStage } = SCHEDULE_CLASSES[s.schedule];
  const chunks = chunksPerRank(s);
  const warnings: string[] = [];
  if (chunks !== s.chunks) {
    warnings.push(
      `${className} takes at least 2 stages per rank (PyTorch's multi-stage schedules refuse one); the module splits the model into ${s.pipelineStages * chunks} stages, ${chunks} per rank, instead of the plan's ${s.pipelineStages}.`,
    );
  }
  if (s.zeroStage > 0) {
    warnings.push(`ZeRO stage ${s.zeroStage} is not applied by this module; shard the stage modules over the data-parallel mesh dimension with FSDP (fully_shard) for the same effect.`);
  }
  if (s.precision !== 'fp32') {
    warnings.push(`${s.precision} is not applied by this module: run the stage modules under torch.autocast(device.type, dtype=torch.${s.precision === 'bf16' ? 'bfloat16' : 'float16'}) or cast them once your model is in.`);
  }
  if (s.pipelineStages === 1) warnings.push('pipelineStages is 1: the module runs the whole model as one stage per rank.');
  const scheduleCall = multiStage
    ? `schedule = ${className}(stages, n_microbatches=N_MICROBATCHES, loss_fn=loss_fn)`
    : `schedule = ${className}(stages[0], n_microbatches=N_MICROBATCHES, loss_fn=loss_fn)`;
  const lines = [
    '"""Pipeline-parallel training with torch.distributed.pipelining (PyTorch 2.5 or newer).',
    '',
    `Written by Transformer Workbench${s.sourcePlan ? ` from ${s.sourcePlan}` : ''}: ${describeLayout(s)}.`,
    `Schedule: ${s.schedule} -> ${className}; ${s.pipelineStages} pipeline ranks x ${chunks} chunk(s) each, ${s.microbatches} micro-batches per step.`,
    'Launch on every node (this file is the training script):',
    `    torchrun --nnodes=${s.nodes} --nproc_per_node=${s.gpusPerNode} --node_rank=$NODE_RANK --master_addr=$MASTER_ADDR --master_port=29500 ${PIPELINING_FILE}`,
    'Replace build_stage_module() and get_batch() with your model and data: as written they train a',
    'stack of small MLP blocks so that the schedule can be tried out.',
    '"""',
    'import os',
    '',
    'import torch',
    'import torch.distributed as dist',
    `from torch.distributed.pipelining import PipelineStage, ${className}`,
    '',
    `PIPELINE_RANKS = ${s.pipelineStages}  # P: GPUs one copy of the model is split over`,
    `CHUNKS_PER_RANK = ${chunks}  # V: model chunks (stages) on each pipeline rank`,
    'NUM_STAGES = PIPELINE_RANKS * CHUNKS_PER_RANK',
    `N_MICROBATCHES = ${s.microbatches}  # M: micro-batches per step`,
    `MICRO_BATCH = ${s.microBatchPerGpu}  # samples per micro-batch`,
    'STEPS = 20',
    'HIDDEN = 64  # width of the stand-in model',
    '',
    ...stageLayersTable(s, chunks),
    '',
    'def build_stage_module(stage_index):',
    '    """The part of the model that stage `stage_index` (of NUM_STAGES) runs."""',
    '    torch.manual_seed(stage_index)',
    '    return torch.nn.Sequential(torch.nn.Linear(HIDDEN, HIDDEN), torch.nn.Tanh(), torch.nn.Linear(HIDDEN, HIDDEN))',
    '',
    '',
    'def get_batch(step, device):',
    '    """One step\'s inputs and targets; the schedule splits them into N_MICROBATCHES along dim 0."""',
    '    generator = torch.Generator().manual_seed(step)',
    '    x = torch.randn(MICRO_BATCH * N_MICROBATCHES, HIDDEN, generator=generator)',
    '    return x.to(device), (0.5 * x).to(device)',
    '',
    '',
    'def loss_fn(output, target):',
    '    return torch.nn.functional.mse_loss(output, target)',
    '',
    '',
    'def main():',
    '    use_cuda = torch.cuda.is_available()',
    '    dist.init_process_group("nccl" if use_cuda else "gloo")',
    '    rank, world = dist.get_rank(), dist.get_world_size()',
    '    if world % PIPELINE_RANKS != 0:',
    '        raise SystemExit(f"world size {world} is not a multiple of {PIPELINE_RANKS} pipeline ranks")',
    '    device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0"))) if use_cuda else torch.device("cpu")',
    '    if use_cuda:',
    '        torch.cuda.set_device(device)',
    '    pp_rank, pp_group = rank, None',
    '    if world > PIPELINE_RANKS:',
    '        # Data parallel x pipeline: consecutive ranks form one pipeline. Gradients must also be',
    '        # averaged over mesh["dp"] (e.g. fully_shard each stage module on that dimension).',
    '        from torch.distributed.device_mesh import init_device_mesh',
    '',
    '        mesh = init_device_mesh(device.type, (world // PIPELINE_RANKS, PIPELINE_RANKS), mesh_dim_names=("dp", "pp"))',
    '        pp_rank, pp_group = mesh["pp"].get_local_rank(), mesh["pp"].get_group()',
    '',
    '    stages = []',
    '    for chunk in range(CHUNKS_PER_RANK):',
    '        stage_index = pp_rank + chunk * PIPELINE_RANKS',
    '        module = build_stage_module(stage_index).to(device)',
    '        stages.append(PipelineStage(module, stage_index, NUM_STAGES, device, group=pp_group))',
    `    ${scheduleCall}`,
    '    optimizer = torch.optim.AdamW([p for stage in stages for p in stage.submod.parameters()], lr=1e-3)',
    '',
    '    has_first = any(stage.is_first for stage in stages)',
    '    has_last = any(stage.is_last for stage in stages)',
    '    for step in range(STEPS):',
    '        x, y = get_batch(step, device)',
    '        optimizer.zero_grad()',
    '        losses = []',
    '        args = (x,) if has_first else ()',
    '        kwargs = {"target": y, "losses": losses} if has_last else {}',
    '        schedule.step(*args, **kwargs)',
    '        optimizer.step()',
    '        if has_last:',
    '            print(f"rank {rank} step {step} loss {torch.stack(losses).mean().item():.5f}", flush=True)',
    '    dist.destroy_process_group()',
    '',
    '',
    'if __name__ == "__main__":',
    '    main()',
    '',
  ];
  return { text: lines.join('\n'), fileName: PIPELINING_FILE, warnings };
}
