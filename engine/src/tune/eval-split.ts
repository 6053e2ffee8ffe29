/**
 * Splitting an eval file into the part the search decides on and a held-back part that only re-checks
 * the winner: a search that picks among many candidates on one set flatters its pick there, so the
 * held-back part says whether the budget still holds on examples nothing was chosen on. The split is
 * a seeded shuffle of the labelled examples, and each part is written as an eval file of its own so
 * the compression lab reads it like any other.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { readEvalFile } from '../compress/eval-file';
import type { ModelProto } from '../onnx/types';
import { createRng } from '../util/rng';
import { TwbError } from '../util/errors';

/** Labelled examples needed at least: three to search on and one held back. */
export const MIN_LABELLED_EXAMPLES = 4;

export interface EvalPart {
  /** The part as an eval file (in the tuner's temporary folder). */
  file: string;
  /** Positions of its examples in the original file, in file order. */
  indices: number[];
}

export interface EvalSplit {
  /** Examples in the file. */
  examples: number;
  /** Examples with at least one label ≥ 0 (negative labels are ignored, as in accuracy). */
  labelled: number;
  search: EvalPart;
  heldBack: EvalPart;
}

/**
 * A seeded shuffle of `ids` cut into a search part and a held-back part of `fraction` (rounded, at
 * least one each); both keep file order. Pure.
 */
export function splitIndices(ids: readonly number[], fraction: number, seed: number): { search: number[]; heldBack: number[] } {
  if (ids.length < 2) throw new TwbError('bad-input', `cannot split ${ids.length} example(s) into a search part and a held-back part`);
  const shuffled = [...ids];
  const rng = createRng(seed ^ 0x5eed);
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = rng.int(0, i + 1);
    [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
  }
  const held = Math.min(ids.length - 1, Math.max(1, Math.round(ids.length * fraction)));
  const byPosition = (a: number, b: number) => a - b;
  return { heldBack: shuffled.slice(0, held).sort(byPosition), search: shuffled.slice(held).sort(byPosition) };
}

/** Rows of axis 0 of a nested array, in the order of `indices`. */
const pick = (rows: unknown, indices: number[]): unknown[] => indices.map((i) => (rows as unknown[])[i]);

/**
 * Checks the eval file against the model, requires labels and at least `MIN_LABELLED_EXAMPLES`
 * labelled examples, and writes the two parts into `dir`.
 */
export async function splitEvalFile(file: string, model: ModelProto, options: { heldBack: number; seed: number; dir: string }): Promise<EvalSplit> {
  const data = await readEvalFile(file, model, 'eval');
  if (!data.labels) throw new TwbError('bad-input', `eval file "${file}" has no "labels"; tuning measures accuracy against them`, 'Give every example a label: the class id (or token ids) the model should predict, e.g. the original model\'s own predictions.');
  const perExample = data.labels.data.length / Math.max(1, data.examples);
  const labelledIds: number[] = [];
  for (let e = 0; e < data.examples; e++) {
    if (data.labels.data.subarray(e * perExample, (e + 1) * perExample).some((l) => l >= 0)) labelledIds.push(e);
  }
  if (labelledIds.length < MIN_LABELLED_EXAMPLES) {
    throw new TwbError('bad-input', `eval file "${file}" has ${labelledIds.length} labelled example(s); tuning needs at least ${MIN_LABELLED_EXAMPLES} (some to search on, some held back to re-check the best)`);
  }
  const { search, heldBack } = splitIndices(labelledIds, options.heldBack, options.seed);
  // The file was checked above; reading it again as plain JSON keeps every value exactly as written.
  const json = JSON.parse(await fs.readFile(file, 'utf8')) as { inputs: Record<string, unknown>; labels: unknown };
  const write = async (name: string, indices: number[]): Promise<EvalPart> => {
    const part = path.join(options.dir, name);
    const inputs = Object.fromEntries(Object.entries(json.inputs).map(([k, v]) => [k, pick(v, indices)]));
    await fs.writeFile(part, JSON.stringify({ inputs, labels: pick(json.labels, indices) }));
    return { file: part, indices };
  };
  return {
    examples: data.examples,
    labelled: labelledIds.length,
    search: await write('search.eval.json', search),
    heldBack: await write('held-back.eval.json', heldBack),
  };
}
