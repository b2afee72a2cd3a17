/**
 * Slices as the viewer keeps them: int16 modality values stay int16 (the viewer holds every loaded
 * slice: float32 would double its memory), float32 stays float32, colour stays colour (8-bit
 * colour as bytes: a quarter of the engine's float32).
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { loadSlice } from '../../../../src/renderer/api/client';
import type { ResightApi } from '../../../../src/shared/api';

const api = { sliceUrl: () => 'http://127.0.0.1/slice' } as unknown as ResightApi;
const realFetch = globalThis.fetch;
afterEach(() => {
  globalThis.fetch = realFetch;
});

/** The engine's slice response: binary values and their shape in headers (session/resources.ts). */
function serve(values: Int16Array<ArrayBuffer> | Float32Array<ArrayBuffer>, dtype: 'int16' | 'float32', rows: number, columns: number, samples = 1): void {
  globalThis.fetch = (async () =>
    new Response(values.buffer, {
      headers: { 'x-resight-dtype': dtype, 'x-resight-rows': String(rows), 'x-resight-columns': String(columns), 'x-resight-samples': String(samples) },
    })) as typeof fetch;
}

describe('loadSlice', () => {
  it('keeps int16 values as int16, value for value', async () => {
    serve(Int16Array.of(-1024, 0, 40, 3071), 'int16', 2, 2);
    const s = await loadSlice(api, 's', 0);
    assert.equal(s.samples, 1);
    assert.ok(s.samples === 1 && s.values instanceof Int16Array, 'half the memory of float32');
    assert.deepEqual(Array.from(s.values), [-1024, 0, 40, 3071]);
    assert.deepEqual([s.rows, s.columns], [2, 2]);
  });

  it('keeps float32 values (rescaled data with fractions) as float32', async () => {
    serve(Float32Array.of(0.5, -2.25), 'float32', 1, 2);
    const s = await loadSlice(api, 's', 0);
    assert.ok(s.samples === 1 && s.values instanceof Float32Array);
    assert.deepEqual(Array.from(s.values), [0.5, -2.25]);
  });

  it('keeps an 8-bit colour slice in colour, as bytes (R G B interleaved), whatever type the engine sent', async () => {
    // red, pure blue: the blue must stay blue (as luminance it was 29 of 255, and an auto window made it black)
    for (const [values, dtype] of [[Float32Array.of(255, 0, 0, 0, 0, 255), 'float32'], [Int16Array.of(255, 0, 0, 0, 0, 255), 'int16']] as const) {
      serve(values, dtype, 1, 2, 3);
      const s = await loadSlice(api, 's', 0);
      assert.equal(s.samples, 3, dtype);
      assert.ok(s.samples === 3 && s.rgb instanceof Uint8Array, `${dtype}: a byte per sample`);
      assert.deepEqual(Array.from(s.rgb), [255, 0, 0, 0, 0, 255]);
      assert.deepEqual([s.rows, s.columns], [1, 2]);
    }
  });

  it('keeps deeper colour (samples above 255, or fractions) as float32 RGB, value for value', async () => {
    serve(Float32Array.of(4095, 0, 1000, 0.5, 2, 3), 'float32', 1, 2, 3);
    const s = await loadSlice(api, 's', 0);
    assert.ok(s.samples === 3 && s.rgb instanceof Float32Array);
    assert.deepEqual(Array.from(s.rgb), [4095, 0, 1000, 0.5, 2, 3]);
  });
});
