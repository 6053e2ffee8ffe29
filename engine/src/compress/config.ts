/** Defaults and checks for a compression request; every bad field is a usage error naming it. */
import * as os from 'node:os';
import {
  CALIBRATION_METHODS,
  CompressionConfig,
  INT4_METHODS,
  PRUNE_METHODS,
  QUANT_MODES,
} from '../schema/compression';
import { EXECUTION_PROVIDERS } from '../schema/config';
import { TwbError, choices } from '../util/errors';

const MODES: readonly string[] = [...QUANT_MODES, ...PRUNE_METHODS];

export function resolveCompressionConfig(req: Partial<Omit<CompressionConfig, 'mode'>> & { mode: string }): CompressionConfig {
  if (!MODES.includes(req.mode)) throw new TwbError('usage', `unknown mode "${req.mode}"; ${choices(MODES)}`);
  const c: CompressionConfig = {
    mode: req.mode as CompressionConfig['mode'],
    perChannel: req.perChannel ?? false,
    exclude: [...new Set(req.exclude ?? [])],
    executionProvider: req.executionProvider ?? 'cpu',
    threads: req.threads ?? os.availableParallelism(),
    batch: req.batch ?? 1,
    seq: req.seq ?? 128,
    seed: req.seed ?? 0,
    runs: req.runs ?? 30,
    ...(req.calibrationFile ? { calibrationFile: req.calibrationFile } : {}),
    ...(req.evalFile ? { evalFile: req.evalFile } : {}),
  };
  if (!(EXECUTION_PROVIDERS as readonly string[]).includes(c.executionProvider)) {
    throw new TwbError('usage', `unknown execution provider "${c.executionProvider}"; ${choices(EXECUTION_PROVIDERS)}`);
  }
  for (const [key, lo, hi] of [['threads', 0, 1024], ['batch', 1, 1 << 16], ['seq', 1, 1 << 20], ['seed', 0, 2 ** 32 - 1], ['runs', 1, 100000]] as const) {
    const v = c[key];
    if (!Number.isInteger(v) || v < lo || v > hi) throw new TwbError('usage', `${key} must be an integer in [${lo}, ${hi}], got ${v}`);
  }
  const only = (field: string, modes: string[]) => {
    if (!modes.includes(c.mode)) throw new TwbError('usage', `${field} applies to ${modes.join(', ')}, not to ${c.mode}`);
  };
  if (req.perChannel) only('--per-channel', ['int8-dynamic', 'int8-static']);
  if (c.mode === 'int8-static' || req.calibrate !== undefined) {
    only('--calibrate', ['int8-static']);
    const m = req.calibrate ?? 'minmax';
    if (!(CALIBRATION_METHODS as readonly string[]).includes(m)) throw new TwbError('usage', `unknown calibration method "${m}"; ${choices(CALIBRATION_METHODS)}`);
    c.calibrate = m;
  }
  if (c.mode === 'int4-weight' || req.method !== undefined || req.blockSize !== undefined) {
    only('--method/--block-size', ['int4-weight']);
    const m = req.method ?? 'rtn';
    if (!(INT4_METHODS as readonly string[]).includes(m)) throw new TwbError('usage', `unknown int4 method "${m}"; ${choices(INT4_METHODS)}`);
    const b = req.blockSize ?? 32;
    // MatMulNBits in ONNX Runtime 1.30 loads block sizes 16 to 256 only.
    if (![16, 32, 64, 128, 256].includes(b)) throw new TwbError('usage', `--block-size must be a power of two from 16 to 256 (16, 32, 64, 128, 256), got ${b}`);
    c.method = m;
    c.blockSize = b;
  }
  if ((PRUNE_METHODS as readonly string[]).includes(c.mode)) {
    const amount = c.mode === '2:4' ? req.amount ?? 0.5 : req.amount;
    if (amount === undefined) throw new TwbError('usage', `pruning with ${c.mode} needs --amount X (a fraction in [0, 1): of weights for magnitude, of heads for heads)`);
    if (!(amount >= 0 && amount < 1)) throw new TwbError('usage', `--amount must be a fraction in [0, 1), got ${amount}`);
    if (c.mode === '2:4' && amount !== 0.5) throw new TwbError('usage', '2:4 sparsity removes exactly half of the weights; --amount must be 0.5 or omitted');
    c.amount = amount;
  } else if (req.amount !== undefined) {
    throw new TwbError('usage', `--amount applies to pruning, not to ${c.mode}`);
  }
  return c;
}
