import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { defaultDeps, profileInference } from '../../engine/src/profile/profiler';
import { TwbError } from '../../engine/src/util/errors';
import { REALDATA } from './helpers/paths';

const ONNX_DIR = path.join(REALDATA, 'onnx');

/**
 * What each third-party model must do on the CPU provider (see shared/realdata/PROVENANCE.md):
 * profile, or fail with one message that names the cause. Anything not listed must profile.
 */
const EXPECTED_FAILURES: Record<string, { code: string; message: RegExp }> = {
  'onnxruntime/transformers_test_data/gemmfastgelu_nobias_opt.onnx': { code: 'unsupported-op', message: /no cpu kernel for op GemmFastGelu \(opset 1\), node "GemmFastGelu_0"/ },
  'onnxruntime/testdata/packed_attention_fp32.onnx': { code: 'unsupported-op', message: /no cpu kernel for op RestorePadding/ },
  'onnxruntime/transformers_test_data/gpt2_megatron_opt_skiplayernorm.onnx': { code: 'run-failed', message: /op Attention \(node "GptAttention_0"\) failed on cpu: 4D mask in attention cpu kernel is not supported$/ },
  'onnxruntime/transformers_test_data/gpt2_megatron_opt_no_skiplayernorm.onnx': { code: 'run-failed', message: /op Attention \(node "GptAttention_0"\) failed on cpu: 4D mask/ },
  'onnxruntime/testdata_transformers/tiny_gpt2_beamsearch_fp16.onnx': { code: 'run-failed', message: /op BeamSearch .* failed on cpu: BeamSearch does not support float16 model on CPU/ },
  'onnxruntime/testdata/dmmha_self_attn.onnx': { code: 'run-failed', message: /DecoderMaskedMultiHeadAttention.* failed on cpu: Input sequence length should be 1/ },
  'onnxruntime/testdata/attention_distilbert.onnx': { code: 'run-failed', message: /op Reshape \(node "reshape_x"\) failed on cpu: The input tensor cannot be reshaped/ },
};

function onnxFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? onnxFiles(p) : f.endsWith('.onnx') ? [p] : [];
  });
}

const files = existsSync(ONNX_DIR) ? onnxFiles(ONNX_DIR).sort() : [];

test('the real models are there', () => {
  assert.ok(files.length >= 30, `expected the shared/realdata ONNX models beside the checkout, found ${files.length} in ${ONNX_DIR}`);
});

for (const file of files) {
  const rel = path.relative(ONNX_DIR, file).split(path.sep).join('/');
  const expected = EXPECTED_FAILURES[rel];
  test(`${rel} ${expected ? 'fails cleanly' : 'profiles'}`, async () => {
    const run = profileInference({ model: file, seq: 4, warmup: 0, runs: 1, profiledRuns: 1 }, defaultDeps());
    if (expected) {
      await assert.rejects(run, (e: unknown) => {
        assert.ok(e instanceof TwbError, `expected a TwbError, got ${String(e)}`);
        assert.equal(e.code, expected.code);
        assert.match(e.message, expected.message);
        assert.doesNotMatch(e.message, /\.cc:\d+|onnxruntime_src|\x1b\[/, 'no native source paths or colour codes');
        assert.ok(!e.message.includes('\n'), 'one line');
        return true;
      });
      return;
    }
    const r = await run;
    assert.ok(r.ops.length > 0, 'has profiled ops');
    assert.ok(Math.abs(r.ops.reduce((s, o) => s + o.share, 0) - 1) < 1e-9);
    assert.ok(r.latencyMs.p50 > 0);
    assert.ok(r.model.opset > 0);
  });
}

test('external data beside the model is found and counted in the size', async () => {
  const r = await profileInference({ model: path.join(ONNX_DIR, 'onnxruntime/external_data/java-external-matmul.onnx'), warmup: 0, runs: 1, profiledRuns: 1 }, defaultDeps());
  const ext = statSync(path.join(ONNX_DIR, 'onnxruntime/external_data/external-matmul.out')).size;
  assert.equal(r.model.sizeBytes, statSync(path.join(ONNX_DIR, 'onnxruntime/external_data/java-external-matmul.onnx')).size + ext);
  assert.ok(r.memory.weightsBytes > 0);
});

test('GPT-2 with past: expression dims resolve and fused attention maps to layers', async () => {
  const r = await profileInference({ model: path.join(ONNX_DIR, 'onnxruntime/testdata/gpt2_past_mask_one_layer.onnx'), seq: 3, past: 2, warmup: 0, runs: 1, profiledRuns: 1 }, defaultDeps());
  const mask = r.model.inputs.find((i) => i.name === 'attention_mask');
  assert.deepEqual(mask?.dims, [1, 5], 'past_seq_len+seq_len = 2 + 3');
  assert.deepEqual(r.model.inputs.find((i) => i.name === 'past_0')?.dims, [2, 1, 2, 2, 2]);
});

test('tiny-random GPT-2 (onnxruntime-genai): contrib Attention gets FLOPs and a layer', async () => {
  const r = await profileInference({ model: path.join(ONNX_DIR, 'onnxruntime-genai/tiny-random-gpt2-fp32/past.onnx'), seq: 8, warmup: 0, runs: 1, profiledRuns: 1 }, defaultDeps());
  const attention = r.ops.filter((o) => o.opType === 'Attention' && o.domain === 'com.microsoft');
  assert.ok(attention.length >= 5, 'five Attention nodes');
  assert.ok(attention.every((a) => a.flops > 0));
  assert.deepEqual([...new Set(attention.map((a) => a.layer))].sort(), [0, 1, 2, 3, 4]);
});
