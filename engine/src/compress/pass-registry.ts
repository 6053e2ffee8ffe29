/** Which pass a compression config runs, with its options checked and defaulted. */
import { ModelProto } from '../onnx/types';
import { CompressionConfig, PRUNE_METHODS, QUANT_MODES } from '../schema/compression';
import { PassContext, PassResult } from '../passes/types';
import { quantizeInt8Dynamic } from '../passes/int8-dynamic';
import { quantizeInt8Static } from '../passes/int8-static';
import { quantizeInt4Weight } from '../passes/int4-weight';
import { convertFp16 } from '../passes/fp16';
import { pruneMagnitude } from '../passes/prune-magnitude';
import { pruneHeads } from '../passes/prune-heads';
import { TwbError, choices } from '../util/errors';

export type CompressionKind = 'quantization' | 'pruning';

export function kindOfMode(mode: string): CompressionKind {
  if ((QUANT_MODES as readonly string[]).includes(mode)) return 'quantization';
  if ((PRUNE_METHODS as readonly string[]).includes(mode)) return 'pruning';
  throw new TwbError('usage', `unknown mode "${mode}"; ${choices([...QUANT_MODES, ...PRUNE_METHODS])}`);
}

/** Whether the pass for `config` needs activations from calibration runs. */
export function needsCalibration(config: Pick<CompressionConfig, 'mode' | 'method'>): boolean {
  return config.mode === 'int8-static' || (config.mode === 'int4-weight' && config.method === 'gptq');
}

export function runPass(model: ModelProto, config: CompressionConfig, ctx: PassContext): Promise<PassResult> {
  switch (config.mode) {
    case 'int8-dynamic':
      return quantizeInt8Dynamic(model, { perChannel: config.perChannel }, ctx);
    case 'int8-static':
      return quantizeInt8Static(model, { perChannel: config.perChannel, calibrate: config.calibrate ?? 'minmax' }, ctx);
    case 'int4-weight':
      return quantizeInt4Weight(model, { method: config.method ?? 'rtn', blockSize: config.blockSize ?? 32 }, ctx);
    case 'fp16':
      return convertFp16(model, { keepFp32: new Set(config.exclude) }, ctx);
    case 'magnitude':
    case '2:4':
      return pruneMagnitude(model, { method: config.mode, amount: config.amount }, ctx);
    case 'heads':
      return pruneHeads(model, { amount: config.amount ?? 0.25 }, ctx);
  }
}
