/**
 * Reformats: square pixels at the axial spacing along the reformat's own horizontal axis, so a
 * sagittal of non-square axial pixels measures right; head at the top.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SliceData } from '../../../../src/renderer/api/client';
import { reformat } from '../../../../src/renderer/viewer/mpr';

/** n axial slices of rows x columns where every value is its slice index. */
const stack = (n: number, rows: number, columns: number): SliceData[] => Array.from({ length: n }, (_, k) => ({ rows, columns, samples: 1, values: new Float32Array(rows * columns).fill(k) }));
/** n colour slices where slice k is (10k, 255 - 10k, 7) everywhere, 8-bit. */
const colourStack = (n: number, rows: number, columns: number): SliceData[] =>
  Array.from({ length: n }, (_, k) => ({ rows, columns, samples: 3, rgb: Uint8Array.from({ length: rows * columns * 3 }, (_, i) => [10 * k, 255 - 10 * k, 7][i % 3]) }));
const grey = (s: SliceData): ArrayLike<number> => {
  assert.equal(s.samples, 1);
  return s.samples === 1 ? s.values : [];
};
const AXIAL = [1, 0, 0, 0, 1, 0];

describe('reformat', () => {
  it('coronal: columns across at the column spacing, slices resampled to it, head at the top', () => {
    const r = reformat('coronal', stack(5, 4, 6), 2, [0.5, 1], 2, AXIAL);
    assert.ok(r);
    assert.deepEqual(r.pixelSpacing, [1, 1]);
    assert.equal(r.slice.columns, 6);
    assert.equal(r.slice.rows, 9, '4 gaps of 2 mm at 1 mm');
    assert.equal(grey(r.slice)[0], 4, 'top row: the last slice');
    assert.equal(grey(r.slice)[(r.slice.rows - 1) * 6], 0);
  });

  it('sagittal: rows across at the row spacing (not the column spacing), so non-square pixels measure right', () => {
    const r = reformat('sagittal', stack(5, 4, 6), 3, [0.5, 1], 2, AXIAL);
    assert.ok(r);
    assert.deepEqual(r.pixelSpacing, [0.5, 0.5]);
    assert.equal(r.slice.columns, 4, 'one value per axial row');
    assert.equal(r.slice.rows, 17, '8 mm of slices at 0.5 mm');
  });

  it('waits for every slice', () => {
    const s = stack(3, 2, 2);
    assert.equal(reformat('coronal', [s[0], undefined, s[2]], 0, [1, 1], 1, AXIAL), null);
  });

  it('a colour series is reformatted in colour: each channel resampled, 8-bit colour kept as bytes', () => {
    const r = reformat('coronal', colourStack(3, 4, 5), 1, [1, 1], 2, AXIAL);
    assert.ok(r);
    assert.equal(r.slice.samples, 3);
    assert.ok(r.slice.samples === 3 && r.slice.rgb instanceof Uint8Array);
    assert.equal(r.slice.rows, 5, '2 gaps of 2 mm at 1 mm');
    const px = (y: number, x: number) => (r.slice.samples === 3 ? Array.from(r.slice.rgb.slice((y * 5 + x) * 3, (y * 5 + x) * 3 + 3)) : []);
    assert.deepEqual(px(0, 0), [20, 235, 7], 'top row: the last slice, in its colour');
    assert.deepEqual(px(1, 4), [15, 240, 7], 'half way between slices 2 and 1: each channel interpolated');
    assert.deepEqual(px(4, 2), [0, 255, 7]);
  });

  it('a slice of a colour series that could not be loaded is black in its colour reformat', () => {
    const s = colourStack(3, 2, 2);
    const blank: SliceData = { rows: 2, columns: 2, samples: 1, values: new Float32Array(4) };
    const r = reformat('sagittal', [s[0], blank, s[2]], 0, [1, 1], 1, AXIAL);
    assert.ok(r && r.slice.samples === 3);
    assert.deepEqual(Array.from(r.slice.rgb.slice(6, 9)), [0, 0, 0], 'the middle row (2 pixels wide): the blank slice');
    assert.deepEqual(Array.from(r.slice.rgb.slice(0, 3)), [20, 235, 7]);
  });
});
