/** Shared helpers for tests of graph passes: load models, run them in ORT, check them with onnx.checker. */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { parseOrtProfile } from '../../../engine/src/profile/ort-profile';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildTransformer } from '../../../engine/src/model/transformer';
import { presetSpec } from '../../../engine/src/model/spec';
import { decodeModel, encodeModel } from '../../../engine/src/onnx/codec';
import { ModelProto } from '../../../engine/src/onnx/types';
import { fromHalfArray } from '../../../engine/src/onnx/float16';
import { openSession } from '../../../engine/src/runtime/ort';
import { buildFeeds, FeedTensor } from '../../../engine/src/runtime/feeds';
import { checkerAvailable, checkModel } from './checker';
import { REALDATA } from './paths';

export function builtinModel(name: 'tiny-gpt' | 'tiny-bert', seed = 0): ModelProto {
  return buildTransformer(presetSpec(`builtin:${name}`), { seed, name });
}

/** A model from shared/realdata/onnx by its path below that folder. */
export function realdataModel(rel: string): ModelProto {
  return decodeModel(readFileSync(realdataPath(rel)));
}

export function realdataPath(rel: string): string {
  return path.join(REALDATA, 'onnx', rel);
}

/** Seeded feeds for every input of `model`. */
export function feedsFor(model: ModelProto, batch = 2, seq = 16, seed = 1): Record<string, FeedTensor> {
  return buildFeeds(model, { batch, seq, past: 0, named: {} }, seed).feeds;
}

/** Runs `model` on the CPU provider and returns every output as fp32 (fp16 outputs widened). */
export async function runModel(model: ModelProto, feeds: Record<string, FeedTensor>, optLevel: 'disabled' | 'all' = 'all'): Promise<Record<string, { dims: number[]; data: Float32Array }>> {
  const s = await openSession(encodeModel(model), { executionProvider: 'cpu', threads: 2, optLevel }, model.graph.name || 'model');
  try {
    const out = await s.fetch(feeds);
    const result: Record<string, { dims: number[]; data: Float32Array }> = {};
    for (const [k, t] of Object.entries(out)) {
      const data = t.type === 'float16' ? fromHalfArray(t.data as Uint16Array) : Float32Array.from(t.data as ArrayLike<number>);
      result[k] = { dims: t.dims, data };
    }
    return result;
  } finally {
    await s.release();
  }
}

/** Fails the test unless onnx.checker (full check) accepts the model. Skips when the checker is absent outside CI. */
export function assertValidOnnx(model: ModelProto, t?: { skip: (m: string) => void }): void {
  if (!checkerAvailable()) {
    if (process.env.CI) assert.fail('python3-onnx is not installed; .ci/run installs it');
    t?.skip('onnx.checker not installed');
    return;
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'twb-check-'));
  try {
    const file = path.join(dir, 'model.onnx');
    writeFileSync(file, encodeModel(model));
    assert.equal(checkModel(file), '', 'onnx.checker rejects the model');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Ops of the main graph as `domain::opType` (default domain without prefix) → count. */
export function opCounts(model: ModelProto): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const n of model.graph.node) {
    const k = n.domain && n.domain !== 'ai.onnx' ? `${n.domain}::${n.opType}` : n.opType;
    counts[k] = (counts[k] ?? 0) + 1;
  }
  return counts;
}

/**
 * The op types ONNX Runtime actually executed for `model` at optimization level `all` (after its
 * fusions), from one profiled run: how a test proves that a fast kernel is used.
 */
export async function executedOps(model: ModelProto, feeds: Record<string, FeedTensor>): Promise<Set<string>> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'twb-prof-'));
  try {
    const s = await openSession(encodeModel(model), { executionProvider: 'cpu', threads: 2, optLevel: 'all', profilePrefix: path.join(dir, 'p') }, 'model');
    await s.run(feeds);
    s.endProfiling();
    await s.release();
    const file = readdirSync(dir).find((f) => f.endsWith('.json'));
    assert.ok(file, 'ORT wrote a profile');
    return new Set(parseOrtProfile(readFileSync(path.join(dir, file), 'utf8')).kernels.map((k) => k.opType));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
