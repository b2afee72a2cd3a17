/**
 * The hot spot a finding's location comes from: the weighted centre of the connected region at
 * or above half the map's maximum around its peak; a non-finite value is passed over, so a
 * location is always two numbers or null.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { camFromGradCam } from '../../../../src/core/explain/cam';
import { hotSpot } from '../../../../src/core/explain/geometry';

const map = (values: number[], w = 4) => camFromGradCam(Float32Array.from(values), values.length / w, w);

describe('hot spot', () => {
  it('is the weighted centre of the region around the peak', () => {
    // 4 x 4, a 2 x 1 blob at (1, 1)-(2, 1) of equal weight
    assert.deepEqual(hotSpot(map([0, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0])), [1.5, 1]);
  });
  it('passes over non-finite values: two numbers or null, never NaN', () => {
    const withInf = Array(16).fill(1);
    withInf[5] = Infinity;
    const spot = hotSpot(map(withInf));
    assert.ok(spot && spot.every(Number.isFinite), JSON.stringify(spot));
    assert.equal(hotSpot(map(Array(16).fill(NaN))), null);
    assert.equal(hotSpot(map(Array(16).fill(0))), null, 'a map that looked nowhere has no spot');
  });
});
