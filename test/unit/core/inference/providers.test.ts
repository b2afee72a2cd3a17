/**
 * Execution-provider order and the reasons shown for a fallback: a forced provider is tried
 * first and the CPU is always the last resort; ORT's raw errors become sentences an IT admin
 * can act on, with the original kept.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ResightError } from '../../../../src/core/errors';
import { conciseReason, createSession, explainFailure, DEFAULT_PREFERENCE, ortLogSeverity, providerOrder } from '../../../../src/core/inference/providers';
import { makeNode, tinyModel } from '../../../helpers/onnx';

describe('provider order', () => {
  it('defaults to cuda, dml, coreml, webgpu, cpu', () => {
    assert.deepEqual(providerOrder({}), ['cuda', 'dml', 'coreml', 'webgpu', 'cpu']);
    assert.deepEqual([...DEFAULT_PREFERENCE], ['cuda', 'dml', 'coreml', 'webgpu', 'cpu']);
  });
  it('a forced provider is tried alone, then the CPU', () => {
    assert.deepEqual(providerOrder({ force: 'webgpu' }), ['webgpu', 'cpu']);
    assert.deepEqual(providerOrder({ force: 'cpu' }), ['cpu']);
  });
  it('a preference without the CPU still ends with it, without duplicates', () => {
    assert.deepEqual(providerOrder({ preference: ['webgpu', 'cuda', 'webgpu'] }), ['webgpu', 'cuda', 'cpu']);
  });
});

describe('fallback reasons', () => {
  it('explains a missing CUDA library and keeps the raw message', () => {
    const r = conciseReason(new Error('OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library'), 'cuda');
    assert.match(r, /^CUDA libraries not found/);
    assert.match(r, /Failed to load shared library\]$/);
  });
  it('explains a missing WebGPU adapter and drops the source-file prefix', () => {
    const raw = '/onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:136 onnxruntime::webgpu::WebGpuContext::Initialize(x) adapter_result.status == wgpu::RequestAdapterStatus::Success was false. Failed to get a WebGPU adapter: No supported adapters';
    const r = conciseReason(new Error(raw), 'webgpu');
    assert.match(r, /^no WebGPU adapter/);
    assert.ok(!r.includes('.cc:136'), r);
  });
  it('an unknown failure is its first line', () => {
    assert.equal(conciseReason(new Error('something odd\nmore detail'), 'dml'), 'something odd');
  });
  it('each has a kind the UI says in the user\'s language', () => {
    assert.equal(explainFailure(new Error('Failed to load shared library libcudnn.so.9'), 'cuda').kind, 'no-libraries');
    assert.equal(explainFailure(new Error('CUDA failure 100: no CUDA-capable device is detected'), 'cuda').kind, 'no-device');
    assert.equal(explainFailure(new Error('Failed to get a WebGPU adapter: No supported adapters'), 'webgpu').kind, 'no-device');
    assert.equal(explainFailure(new Error('something odd'), 'dml').kind, 'failed');
  });
});

describe('a model the CPU provider cannot load', () => {
  it('is MODEL_INVALID naming the file, not PROVIDER_UNAVAILABLE', async () => {
    const unknownOp = tinyModel({ nodes: [makeNode('Frobnicate', ['x'], ['y'], 'n')], inputs: [{ name: 'x', shape: [2] }], outputs: ['y'] });
    for (const bytes of [unknownOp, new TextEncoder().encode('hello, I am not a model\n')]) {
      await assert.rejects(createSession(bytes, { force: 'cpu', modelPath: '/models/broken.onnx' }), (e: ResightError) => {
        assert.equal(e.code, 'MODEL_INVALID', e.message);
        assert.equal(e.path, '/models/broken.onnx');
        assert.match(e.detail, /^ONNX Runtime cannot load broken\.onnx: /);
        return true;
      });
    }
  });
});

describe("ORT's log level", () => {
  it('fatal by default (as docs/inference.md says); RESIGHT_ORT_LOG raises it', () => {
    const saved = process.env.RESIGHT_ORT_LOG;
    try {
      delete process.env.RESIGHT_ORT_LOG;
      assert.equal(ortLogSeverity(), 4);
      process.env.RESIGHT_ORT_LOG = 'bogus';
      assert.equal(ortLogSeverity(), 4);
      process.env.RESIGHT_ORT_LOG = 'warning';
      assert.equal(ortLogSeverity(), 2);
      process.env.RESIGHT_ORT_LOG = 'verbose';
      assert.equal(ortLogSeverity(), 0);
    } finally {
      if (saved === undefined) delete process.env.RESIGHT_ORT_LOG;
      else process.env.RESIGHT_ORT_LOG = saved;
    }
  });
});
