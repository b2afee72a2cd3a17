/**
 * Thick slabs of the axial stack: which slices a thickness takes, and each pixel's maximum,
 * minimum or mean over them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SliceData } from '../../../../src/renderer/api/client';
import { slabChoices, slabImage, slabRange } from '../../../../src/renderer/viewer/slab';

const grey = (values: number[], rows = 1, columns = values.length): SliceData => ({ rows, columns, samples: 1, values: Float32Array.from(values) });

describe('slabRange: the odd number of slices nearest the thickness, centred on the slice on screen', () => {
  it('10 mm of 5 mm slices is 3 slices (the nearest odd count), 10 mm of 1 mm slices is 11, 5 mm of 5 mm slices is the slice alone', () => {
    assert.deepEqual(slabRange(20, 45, 10, 5), [19, 21]);
    assert.deepEqual(slabRange(20, 100, 10, 1), [15, 25]);
    assert.deepEqual(slabRange(20, 45, 5, 5), [20, 20]);
  });

  it('is cut at the ends of the series, never past them', () => {
    assert.deepEqual(slabRange(0, 45, 30, 5), [0, 3]);
    assert.deepEqual(slabRange(44, 45, 30, 5), [41, 44]);
  });

  it('an unknown spacing makes no slab', () => {
    assert.deepEqual(slabRange(7, 45, 10, 0), [7, 7]);
    assert.deepEqual(slabRange(7, 45, 10, Number.NaN), [7, 7]);
  });
});

describe('slabImage', () => {
  const stack = [grey([0, 5, -3, 100]), grey([10, -5, 7, 100]), grey([4, 6, -9, 100])];
  const at = (i: number) => stack[i];

  it('MIP takes each pixel\'s maximum, MinIP its minimum, Average its mean', () => {
    assert.deepEqual([...(slabImage(at, 0, 2, 'mip')?.slice as { values: Float32Array }).values], [10, 6, 7, 100]);
    assert.deepEqual([...(slabImage(at, 0, 2, 'minip')?.slice as { values: Float32Array }).values], [0, -5, -9, 100]);
    assert.deepEqual([...(slabImage(at, 0, 2, 'mean')?.slice as { values: Float32Array }).values], [14 / 3, 2, -5 / 3, 100].map(Math.fround));
  });

  it('leaves out slices not loaded, and says which it used', () => {
    const made = slabImage((i) => (i === 1 ? undefined : stack[i]), 0, 2, 'mip');
    assert.deepEqual(made?.used, [0, 2]);
    assert.deepEqual([...(made?.slice as { values: Float32Array }).values], [4, 6, -3, 100]);
  });

  it('never changes the slices it reads', () => {
    slabImage(at, 0, 2, 'mean');
    assert.deepEqual([...(stack[0] as { values: Float32Array }).values], [0, 5, -3, 100]);
  });

  it('makes no slab of colour slices, of slices of another size, or of none', () => {
    const colour: SliceData = { rows: 1, columns: 4, samples: 3, rgb: new Uint8Array(12) };
    assert.equal(slabImage((i) => (i === 1 ? colour : stack[i]), 0, 2, 'mip'), null);
    assert.equal(slabImage((i) => (i === 1 ? grey([1, 2, 3, 4], 2, 2) : stack[i]), 0, 2, 'mip'), null);
    assert.equal(slabImage(() => undefined, 0, 2, 'mip'), null);
  });
});

describe('slabChoices: the thicknesses a series can give, in whole slices', () => {
  it('on 5 mm slices: 5 mm would be the slice alone (left out), 10 and 15 mm are both 3 slices (listed once)', () => {
    assert.deepEqual(slabChoices(5), [
      { mm: 10, slices: 3, thicknessMm: 15 },
      { mm: 20, slices: 5, thicknessMm: 25 },
      { mm: 30, slices: 7, thicknessMm: 35 },
    ]);
  });

  it('on 1 mm slices every thickness is its own odd number of slices', () => {
    assert.deepEqual(slabChoices(1).map((c) => c.slices), [5, 11, 15, 21, 31]);
  });
});
