/**
 * Reformats: square pixels at the axial spacing along the reformat's own horizontal axis, so a
 * sagittal of non-square axial pixels measures right; each plane named for the patient, not
 * for the button, and laid out as radiologists read it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SliceData } from '../../../../src/renderer/api/client';
import { planesOf, reformat, reformatPoint } from '../../../../src/renderer/viewer/mpr';
import { planeOf } from '../../../../src/shared/planes';

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
    const r = reformat('row', stack(5, 4, 6), 2, [0.5, 1], 2, AXIAL);
    assert.ok(r);
    assert.deepEqual(r.pixelSpacing, [1, 1]);
    assert.equal(r.slice.columns, 6);
    assert.equal(r.slice.rows, 9, '4 gaps of 2 mm at 1 mm');
    assert.equal(grey(r.slice)[0], 4, 'top row: the last slice');
    assert.equal(grey(r.slice)[(r.slice.rows - 1) * 6], 0);
  });

  it('sagittal: rows across at the row spacing (not the column spacing), so non-square pixels measure right', () => {
    const r = reformat('column', stack(5, 4, 6), 3, [0.5, 1], 2, AXIAL);
    assert.ok(r);
    assert.deepEqual(r.pixelSpacing, [0.5, 0.5]);
    assert.equal(r.slice.columns, 4, 'one value per axial row');
    assert.equal(r.slice.rows, 17, '8 mm of slices at 0.5 mm');
  });

  it('waits for every slice', () => {
    const s = stack(3, 2, 2);
    assert.equal(reformat('row', [s[0], undefined, s[2]], 0, [1, 1], 1, AXIAL), null);
  });

  it('a colour series is reformatted in colour: each channel resampled, 8-bit colour kept as bytes', () => {
    const r = reformat('row', colourStack(3, 4, 5), 1, [1, 1], 2, AXIAL);
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
    const r = reformat('column', [s[0], blank, s[2]], 0, [1, 1], 1, AXIAL);
    assert.ok(r && r.slice.samples === 3);
    assert.deepEqual(Array.from(r.slice.rgb.slice(6, 9)), [0, 0, 0], 'the middle row (2 pixels wide): the blank slice');
    assert.deepEqual(Array.from(r.slice.rgb.slice(0, 3)), [20, 235, 7]);
  });

  it('a sagittal stack (rows run posterior, columns to the feet) reformats to an axial plane with anterior up and the patient\'s left on the right, and a coronal one with the head up', () => {
    // slices stacked from the patient's left to right (normal = row x column = -x), 3 slices 2 mm apart;
    // slice k holds 100 k + its row (so the value tells the slice and the height)
    const SAG = [0, 1, 0, 0, 0, -1];
    const slices: SliceData[] = Array.from({ length: 3 }, (_, k) => ({ rows: 4, columns: 5, samples: 1, values: Float32Array.from({ length: 20 }, (_, i) => 100 * k + Math.floor(i / 5)) }));
    assert.deepEqual(planesOf(SAG), { stack: 'sagittal', row: 'axial', column: 'coronal' });
    // the row reformat at row 1 (1 mm below the top row): an axial plane
    const ax = reformat('row', slices, 1, [1, 1], 2, SAG);
    assert.ok(ax);
    // across: the normal (left-right), 4 mm at 1 mm = 5 samples; down: along the rows' direction (posterior), 5 columns
    assert.deepEqual([ax.slice.columns, ax.slice.rows], [5, 5]);
    assert.deepEqual(ax.orientation, [1, 0, 0, 0, 1, 0], 'screen right = patient left, down = posterior');
    const v = grey(ax.slice);
    // screen left is the patient's right: the last slice (k = 2, furthest along -x)
    assert.equal(v[0], 201);
    assert.equal(v[4], 1, 'screen right: the first slice, the patient\'s left');
    assert.equal(v[2], 101, 'the middle: slice 1');
    // the column reformat: a coronal plane, head up (row 0 of the slices at the top), patient's right on the left
    const co = reformat('column', slices, 2, [1, 1], 2, SAG);
    assert.ok(co);
    assert.deepEqual(co.orientation, [1, 0, 0, 0, 0, -1]);
    assert.deepEqual([co.slice.columns, co.slice.rows], [5, 4]);
    const c = grey(co.slice);
    assert.deepEqual([c[0], c[4], c[15]], [200, 0, 203], 'top left: the right-most slice\'s top row; top right: the left-most; bottom left: its bottom row');
  });

  it('names a plane by the axis its normal mostly lies along, and oblique when none dominates', () => {
    assert.equal(planeOf([0, 0, 1]), 'axial');
    assert.equal(planeOf([0.2, -0.97, 0.1]), 'coronal');
    assert.equal(planeOf([-1, 0, 0]), 'sagittal');
    assert.equal(planeOf([0.7, 0.7, 0.1]), 'oblique');
  });
});

describe('where a reformat opens', () => {
  it('through the finding on screen while the view is as it opened (its centre is only the image middle)', () => {
    assert.deepEqual(reformatPoint([256, 256], [162, 233], true), [162, 233]);
  });

  it('through the centre of the view once the reviewer has panned or zoomed: that is where they were looking', () => {
    assert.deepEqual(reformatPoint([300, 120], [162, 233], false), [300, 120]);
  });

  it('through the centre of the view on a slice without a located finding, else nowhere in particular', () => {
    assert.deepEqual(reformatPoint([256, 256], null, true), [256, 256]);
    assert.deepEqual(reformatPoint([256, 256], undefined, true), [256, 256]);
    assert.deepEqual(reformatPoint(null, [10, 20], false), [10, 20], 'no view yet: the finding');
    assert.equal(reformatPoint(null, null, true), null);
  });
});
