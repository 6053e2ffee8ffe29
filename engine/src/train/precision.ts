/**
 * Mixed precision. tfjs has no float16 or bfloat16 dtype and none of the backends the workbench
 * can load in Node (tensorflow, webgpu, wasm, cpu) trains in them, so every step runs in fp32 and
 * the 16-bit figures are estimates from the measured fp32 step, labelled as such:
 *   weights      16-bit copy + fp32 master copy (1.5× the fp32 weights)
 *   optimizer    unchanged (the moments stay fp32)
 *   activations  halved (stored in 16 bits)
 * bf16 has the same size as fp16, so the two estimates agree; they differ in range, not memory.
 */
import type { MixedPrecision, PrecisionEstimate } from '../schema/training';

export interface Fp32Memory {
  weightsBytes: number;
  optimizerBytes: number;
  activationsBytes: number;
}

export function mixedPrecision(backend: string, measured: Fp32Memory): MixedPrecision {
  const estimate = (dtype: 'fp16' | 'bf16'): PrecisionEstimate => {
    const weightsBytes = measured.weightsBytes * 1.5;
    const activationsBytes = measured.activationsBytes / 2;
    return { dtype, weightsBytes, optimizerBytes: measured.optimizerBytes, activationsBytes, peakBytes: weightsBytes + measured.optimizerBytes + activationsBytes, estimate: true };
  };
  return {
    ran: 'fp32',
    reason: `the ${backend} backend has no float16 or bfloat16 kernels (tfjs has no 16-bit float dtype), so the step ran in fp32; the fp16 and bf16 figures are estimates from the fp32 step`,
    estimates: [estimate('fp16'), estimate('bf16')],
  };
}
