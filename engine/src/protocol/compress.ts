/**
 * What a user sets for a quantization or pruning run, as it crosses the two boundaries: the
 * webview's `compress/start` form (no output file: the host chooses it) and the engine's
 * `compress/run` request (the host's choices filled in). Pure types and validators; every number
 * must be finite and in range, every mode one of the known ones, before anything runs.
 */
import { CALIBRATION_METHODS, CompressionConfig, INT4_METHODS } from '../schema/compression';
import { COMPRESSION_MODES } from '../schema/validate-compression';
import { arrayUpTo, bool, numberIn, object, oneOf, optional, strUpTo, Validator } from '../schema/validate';
import { TwbError } from '../util/errors';

/** Most node names one request may keep in fp32. */
export const MAX_EXCLUDE = 10_000;
/** Longest path or node name accepted, characters. */
export const MAX_NAME = 4096;

/** The Quantization view's request: a report's config with a changed keep-in-fp32 list. */
export type CompressForm = Pick<
  CompressionConfig,
  'mode' | 'perChannel' | 'calibrate' | 'method' | 'blockSize' | 'amount' | 'exclude' | 'calibrationFile' | 'evalFile' | 'batch' | 'seq' | 'threads' | 'runs'
> & {
  /** Path to an .onnx file or `builtin:NAME`. */
  model: string;
};

/** The engine's `compress/run` request: the form plus what the host decides (output file, provider, seed). */
export interface CompressRunRequest extends Partial<Omit<CompressForm, 'model' | 'mode'>> {
  model: string;
  mode: CompressionConfig['mode'];
  /** Where to write the new model (never the input). */
  out: string;
  executionProvider?: string;
  seed?: number;
}

const name = strUpTo(MAX_NAME);

const nonEmptyName: Validator<string> = (v, at) => {
  const s = name(v, at);
  if (!s.trim()) throw new TwbError('io', `${at}: expected a non-empty string`);
  return s;
};

/** A fraction in [0, 1): what share of weights or heads pruning removes. */
const fraction: Validator<number> = (v, at) => {
  const n = numberIn(0, 1)(v, at);
  if (n >= 1) throw new TwbError('io', `${at}: expected a fraction in [0, 1), got ${n}`);
  return n;
};

/** Ranges as the engine's option checks (engine/src/compress/config.ts) state them. */
const fields = {
  perChannel: bool,
  calibrate: optional(oneOf(CALIBRATION_METHODS)),
  method: optional(oneOf(INT4_METHODS)),
  blockSize: optional(numberIn(16, 256, true)),
  amount: optional(fraction),
  exclude: arrayUpTo(nonEmptyName, MAX_EXCLUDE),
  calibrationFile: optional(nonEmptyName),
  evalFile: optional(nonEmptyName),
  batch: numberIn(1, 1 << 16, true),
  seq: numberIn(1, 1 << 20, true),
  threads: numberIn(0, 1024, true),
  runs: numberIn(1, 100_000, true),
};

const optionalFields = Object.fromEntries(Object.entries(fields).map(([k, check]) => [k, optional(check as Validator<unknown>)])) as {
  [K in keyof typeof fields]: Validator<ReturnType<(typeof fields)[K]> | undefined>;
};

/** Validates the webview's form. */
export const compressForm: Validator<CompressForm> = object<CompressForm>({ model: nonEmptyName, mode: oneOf(COMPRESSION_MODES), ...fields });

/** Validates the engine request: the form's fields optional (the engine fills defaults), model, mode and out required. */
export const compressRunRequest: Validator<CompressRunRequest> = object<CompressRunRequest>({
  model: nonEmptyName,
  mode: oneOf(COMPRESSION_MODES),
  out: nonEmptyName,
  executionProvider: optional(name),
  seed: optional(numberIn(0, 2 ** 32 - 1, true)),
  ...optionalFields,
});
