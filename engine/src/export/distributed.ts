/**
 * Configs for the engines users move to when one machine is not enough: a DeepSpeed JSON, an
 * accelerate YAML, a torchrun launch script, and a torch.distributed.pipelining module, all from
 * one set of checked `DistributedSettings` (see distributed-settings.ts).
 */
import { exportAccelerate } from './accelerate';
import { ExportedConfig, exportDeepSpeed } from './deepspeed';
import { checkSettings, DistributedSettings } from './distributed-settings';
import { exportPipelining } from './pipelining';
import { exportTorchrun } from './torchrun';
import { choices, TwbError } from '../util/errors';

export type { ExportedConfig } from './deepspeed';
export { DEFAULT_SETTINGS, settingsFromPlan, topologyFor } from './distributed-settings';
export type { DistributedSettings, Precision } from './distributed-settings';

export const EXPORT_FORMATS = ['deepspeed', 'accelerate', 'torchrun', 'pipelining'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

const WRITERS: Record<ExportFormat, (s: DistributedSettings) => ExportedConfig> = {
  deepspeed: exportDeepSpeed,
  accelerate: exportAccelerate,
  torchrun: exportTorchrun,
  pipelining: exportPipelining,
};

/** The config of `format` for `settings`: text, a suggested file name, and warnings. */
export function exportDistributed(settings: DistributedSettings, format: string): ExportedConfig {
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) {
    throw new TwbError('usage', `unknown export format "${format}"; ${choices(EXPORT_FORMATS)}`);
  }
  checkSettings(settings);
  return WRITERS[format as ExportFormat](settings);
}
