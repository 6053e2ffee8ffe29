/**
 * Top-1 predictions of a model on an eval part, and accuracy and agreement from them: the baseline
 * on both parts before the search, and the best re-checked on the held-back part after it. Counted
 * the way the compression lab counts (argmax of the first output over its last axis, negative labels
 * ignored, graph optimizations off) so the figures sit beside the trials' without a method gap.
 */
import { argmaxRows } from '../analysis/error-metrics';
import { chunkFeeds, EvalData } from '../compress/eval-file';
import { fetchedAsFloat32 } from '../compress/runner';
import { openSession, SessionSpec } from '../runtime/ort';
import { throwIfAborted } from '../util/abort';
import { TwbError } from '../util/errors';

/** Argmax rows of the first output, every example in file order. */
export async function predictTop1(model: string | Uint8Array, outputName: string, data: EvalData, spec: SessionSpec, batch: number, label: string, signal?: AbortSignal): Promise<Int32Array> {
  const session = await openSession(model, { ...spec, optLevel: 'disabled' }, label);
  const parts: Int32Array[] = [];
  try {
    for (const feeds of chunkFeeds(data.feeds, data.examples, batch)) {
      throwIfAborted(signal, 'tuning');
      const out = (await session.fetch(feeds, [outputName]))[outputName];
      const values = out && fetchedAsFloat32(out);
      if (!out || !values) throw new TwbError('bad-input', `${label}: output "${outputName}" is not a float tensor; accuracy needs logits or scores`);
      parts.push(argmaxRows(values, out.dims.at(-1) ?? 1));
    }
  } finally {
    await session.release();
  }
  const all = new Int32Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return all;
}

/** Share of labelled rows (label ≥ 0) predicted right, 0..1 (0 when none is labelled). */
export function accuracyOf(predicted: Int32Array, labels: Int32Array): number {
  if (predicted.length !== labels.length) {
    throw new TwbError('bad-input', `the eval labels hold ${labels.length} value(s) but the model's first output gives ${predicted.length} prediction(s); labels must have the output's shape without its last axis`);
  }
  let labelled = 0;
  let right = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i]! < 0) continue;
    labelled++;
    if (predicted[i] === labels[i]) right++;
  }
  return labelled > 0 ? right / labelled : 0;
}

/** Share of rows where two models predict the same class, 0..1 (1 for no rows). */
export function agreementOf(a: Int32Array, b: Int32Array): number {
  if (a.length !== b.length) throw new TwbError('internal', `prediction counts differ: ${a.length} vs ${b.length}`);
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return a.length > 0 ? same / a.length : 1;
}
