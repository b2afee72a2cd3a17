/**
 * Reformats: square pixels at the axial spacing along the reformat's own horizontal axis, so a
 * sagittal of non-square axial pixels measures right; head at the top.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { reformat } from '../../../../src/renderer/viewer/mpr';

/** n axial slices of rows x columns where every value is its slice index. */
const stack = (n: number, rows: number, columns: number) => Array.from({ length: n }, (_, k) => ({ rows, columns, values: new Float32Array(rows * columns).fill(k) }));
const AXIAL = [1, 0, 0, 0, 1, 0];

describe('reformat', () => {
  it('coronal: columns across at the column spacing, slices resampled to it, head at the top', () => {
    const r = reformat('coronal', stack(5, 4, 6), 2, [0.5, 1], 2, AXIAL);
    assert.ok(r);
    assert.deepEqual(r.pixelSpacing, [1, 1]);
    assert.equal(r.slice.columns, 6);
    assert.equal(r.slice.rows, 9, '4 gaps of 2 mm at 1 mm');
    assert.equal(r.slice.values[0], 4, 'top row: the last slice');
    assert.equal(r.slice.values[(r.slice.rows - 1) * 6], 0);
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
});
