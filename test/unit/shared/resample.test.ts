/**
 * The one bilinear resize (src/shared/resample.ts): the preprocessing's formula, used by the
 * engine's heatmap geometry and by the viewer's CPU heatmap path alike.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resizeSlice } from '../../../src/core/inference/preprocess';
import { bilinearAxis, mapToSliceSize, resizeBilinear } from '../../../src/shared/resample';

describe('shared bilinear resize', () => {
  it('clamps at the borders like torch (align_corners=False)', () => {
    const ax = bilinearAxis(3, 5);
    assert.equal(ax.i0[0], 0);
    assert.equal(ax.t[0], 0);
    assert.equal(ax.i1[4], 2);
    assert.equal(ax.t[4], 0);
  });

  it('a 2x downsample averages 2x2 blocks; a 2x upsample interpolates at quarter positions', () => {
    const v = Float32Array.from([0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30]);
    assert.deepEqual(Array.from(resizeBilinear(v, 4, 4, 2, 2)), [5, 9, 21, 25]);
    assert.deepEqual(Array.from(resizeBilinear(Float32Array.from([0, 4]), 1, 2, 1, 4)), [0, 1, 3, 4]);
  });

  it('gives bit-identical results to the preprocessing resize on a non-square map', () => {
    const h = 7;
    const w = 5;
    const map = Float32Array.from({ length: h * w }, (_, i) => Math.sin(i * 1.7) * 3 + i / 11);
    for (const [oh, ow] of [[16, 16], [13, 29], [3, 2]] as const) {
      assert.deepEqual(resizeBilinear(map, h, w, oh, ow), resizeSlice({ values: map, rows: h, columns: w }, oh, ow, 0));
    }
  });

  it('maps a layer map to the slice through the model input, as the preprocessing went', () => {
    const map = Float32Array.from([0, 0, 0, 0, 9, 0, 0, 0, 0]);
    const out = mapToSliceSize(map, 3, 3, [12, 12], 30, 20);
    assert.equal(out.length, 600);
    assert.deepEqual(out, resizeBilinear(resizeBilinear(map, 3, 3, 12, 12), 12, 12, 30, 20));
    let peak = 0;
    out.forEach((v, i) => (peak = v > out[peak] ? i : peak));
    // the peak sits at the centre of the slice (rows 14-15, columns 9-10)
    assert.ok(Math.abs(Math.floor(peak / 20) - 14.5) <= 0.5 && Math.abs((peak % 20) - 9.5) <= 0.5);
  });
});
