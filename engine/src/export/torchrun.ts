/**
 * A bash launch script around `torchrun` (torch.distributed.run). One line starts the training
 * script on every GPU of this node; run it on each node with NODE_RANK and MASTER_ADDR set. The
 * option spellings are the underscore ones, which torch 1.13 and 2.x both accept.
 */
import { checkDeepSpeedPipeline, DEEPSPEED_FILE, ExportedConfig } from './deepspeed';
import { describeLayout, DistributedSettings } from './distributed-settings';
import { chunksPerRank, PIPELINING_FILE, SCHEDULE_CLASSES } from './pipelining';

export const TORCHRUN_FILE = 'launch.sh';

/** Whether the training script runs under DeepSpeed (ZeRO or DeepSpeed's pipeline engine). */
export const usesDeepSpeed = (s: DistributedSettings): boolean => s.zeroStage > 0 || s.pipelineStages > 1;

/** The torchrun options, one per element, as they appear in the script. */
export function torchrunOptions(s: DistributedSettings): string[] {
  return [
    `--nnodes=${s.nodes}`,
    `--nproc_per_node=${s.gpusPerNode}`,
    '--node_rank="${NODE_RANK:-0}"',
    '--master_addr="${MASTER_ADDR:-127.0.0.1}"',
    '--master_port="${MASTER_PORT:-29500}"',
  ];
}

/** `launch.sh` for the settings. */
export function exportTorchrun(s: DistributedSettings): ExportedConfig {
  const deepspeed = usesDeepSpeed(s);
  // The script hands ds_config.json to DeepSpeed, which would refuse ZeRO 2/3 with a pipeline.
  if (deepspeed) checkDeepSpeedPipeline(s);
  const warnings: string[] = [];
  const { className } = SCHEDULE_CLASSES[s.schedule];
  const script = deepspeed ? `"\${TRAIN_SCRIPT:-train.py}" --deepspeed ${DEEPSPEED_FILE}` : '"${TRAIN_SCRIPT:-train.py}"';
  const what = deepspeed
    ? s.pipelineStages > 1
      ? `DeepSpeed's pipeline engine (1F1B) with ${DEEPSPEED_FILE}`
      : `DeepSpeed ZeRO stage ${s.zeroStage} with ${DEEPSPEED_FILE}`
    : 'plain DistributedDataParallel (no DeepSpeed needed at ZeRO stage 0 without a pipeline)';
  const lines = [
    '#!/usr/bin/env bash',
    `# Written by Transformer Workbench${s.sourcePlan ? ` from ${s.sourcePlan}` : ''}: ${describeLayout(s)}.`,
    `# Runs TRAIN_SCRIPT (default train.py) under ${what}.`,
    ...(deepspeed
      ? [
          `# Scripts built on the Hugging Face Trainer read --deepspeed ${DEEPSPEED_FILE}; scripts using`,
          `# deepspeed.add_config_arguments() want --deepspeed --deepspeed_config ${DEEPSPEED_FILE} instead.`,
        ]
      : []),
    ...(s.nodes > 1 ? [`# Run on each of the ${s.nodes} nodes with NODE_RANK=0..${s.nodes - 1} and MASTER_ADDR=<address of node 0>.`] : []),
  ];
  if (s.pipelineStages > 1) {
    lines.push(
      `# Pipeline schedule of the plan: ${s.schedule} = torch.distributed.pipelining.${className}`,
      `# (${s.pipelineStages} stages x ${chunksPerRank(s)} chunk(s), ${s.microbatches} micro-batches). To run that schedule instead of`,
      `# DeepSpeed's 1F1B, launch ${PIPELINING_FILE} (twb export-distributed --format pipelining) with the same options:`,
      `#   TRAIN_SCRIPT=${PIPELINING_FILE} bash ${TORCHRUN_FILE}   (it ignores the --deepspeed argument)`,
    );
    if (s.schedule !== '1f1b') warnings.push(`DeepSpeed's pipeline engine runs 1F1B, not the plan's ${s.schedule}; ${PIPELINING_FILE} (--format pipelining) runs ${className}.`);
  }
  const options = torchrunOptions(s);
  lines.push('set -euo pipefail', 'torchrun \\', ...options.map((o) => `  ${o} \\`), `  ${script} "$@"`, '');
  if (s.nodes > 1) warnings.push(`Run ${TORCHRUN_FILE} on all ${s.nodes} nodes with NODE_RANK and MASTER_ADDR set.`);
  return { text: lines.join('\n'), fileName: TORCHRUN_FILE, warnings };
}
