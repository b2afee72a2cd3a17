/**
 * Execution-provider order and the reasons shown for a fallback: a forced provider is tried
 * first and the CPU is always the last resort; ORT's raw errors become sentences an IT admin
 * can act on, with the original kept.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { conciseReason, DEFAULT_PREFERENCE, providerOrder } from '../../../../src/core/inference/providers';

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
});
