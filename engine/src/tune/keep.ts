/**
 * What a tuning leaves on disk: the best model as `<out-dir>/best.onnx`, its twb config as
 * `<out-dir>/best.twb.json` (so `twb profile --config` re-measures it with the tuning's options),
 * and, only with `keepAll`, every trial's model under `<out-dir>/trials/`.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { defaultConfig } from '../schema/config';
import type { RunConfig } from '../schema/run';
import type { Trial } from '../schema/tuning';
import { TWB_CONFIG_SCHEMA_VERSION, TwbConfig } from '../schema/twb-config';
import { writeFileAtomic } from '../util/atomic-write';

export const BEST_MODEL = 'best.onnx';
export const BEST_CONFIG = 'best.twb.json';

export interface KeepRequest {
  outDir: string;
  /** Where the trials wrote their models (`<id>.onnx`). */
  trialsDir: string;
  best: Trial | null;
  trials: Trial[];
  keepAll: boolean;
  /** The tuning's shared run options. */
  config: Pick<RunConfig, 'executionProvider' | 'threads' | 'batch' | 'seq' | 'seed'>;
  /** Id of the tuning report, recorded as the config's origin. */
  reportId: string;
}

/** Moves (or with keepAll copies) the best model into place, writes its config, and clears the rest. */
export async function keepBest(k: KeepRequest): Promise<{ bestModel: string; bestConfig: string } | undefined> {
  let kept: { bestModel: string; bestConfig: string } | undefined;
  if (k.best) {
    const from = path.join(k.trialsDir, `${k.best.id}.onnx`);
    const bestModel = path.join(k.outDir, BEST_MODEL);
    if (k.keepAll) await fs.copyFile(from, bestModel);
    else await fs.rename(from, bestModel);
    const { executionProvider, threads, batch, seq, seed } = k.config;
    const config: RunConfig = { ...defaultConfig(), executionProvider, threads, batch, seq, seed };
    // The model path is relative so the folder can be moved or committed as a whole.
    const doc: TwbConfig = { schemaVersion: TWB_CONFIG_SCHEMA_VERSION, kind: 'twb-config', model: BEST_MODEL, config, fromRun: k.reportId };
    const bestConfig = path.join(k.outDir, BEST_CONFIG);
    await writeFileAtomic(bestConfig, `${JSON.stringify(doc, null, 1)}\n`);
    kept = { bestModel, bestConfig };
  }
  if (!k.keepAll) {
    for (const t of k.trials) await fs.rm(path.join(k.trialsDir, `${t.id}.onnx`), { force: true });
    // Only an empty folder goes: files a user put there stay.
    await fs.rmdir(k.trialsDir).catch(() => undefined);
  }
  return kept;
}
