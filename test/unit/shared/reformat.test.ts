/**
 * The reformat layout the viewer draws by and the report measures by (shared/reformat.ts): a point
 * of a reformat maps to the place in the stack the viewer took that pixel's value from.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { reformat } from '../../../src/renderer/viewer/mpr';
import { reformatLayout, reformatReadingStep, reformatToStack, type ReformatPlane } from '../../../src/shared/reformat';

/** A stack whose value is linear in column, row and slice, so the reformat's interpolation is exact there. */
function linearStack(rows: number, columns: number, n: number) {
  return Array.from({ length: n }, (_, k) => {
    const values = new Float32Array(rows * columns);
    for (let r = 0; r < rows; r++) for (let c = 0; c < columns; c++) values[r * columns + c] = 1000 * k + 10 * r + c;
    return { rows, columns, samples: 1 as const, values };
  });
}

const STACKS: [string, number[]][] = [
  ['axial', [1, 0, 0, 0, 1, 0]],
  ['sagittal (rows posterior, columns to the feet)', [0, 1, 0, 0, 0, -1]],
  ['coronal', [1, 0, 0, 0, 0, -1]],
];

describe('reformat layout', () => {
  for (const [name, iop] of STACKS) {
    for (const plane of ['row', 'column'] as ReformatPlane[]) {
      it(`${name} stack, ${plane} reformat: every pixel's value is the stack's at the place reformatToStack names`, () => {
        const [rows, columns, n] = [6, 7, 5];
        const stack = linearStack(rows, columns, n);
        const index = 3;
        const shown = reformat(plane, stack, index, [0.8, 0.7], 2.5, iop);
        assert.ok(shown && shown.slice.samples === 1);
        const l = reformatLayout(plane, rows, columns, n, [0.8, 0.7], 2.5, iop);
        assert.deepEqual([l.outW, l.outH, l.orientation], [shown.slice.columns, shown.slice.rows, shown.orientation]);
        for (let y = 0; y < l.outH; y++) {
          for (let x = 0; x < l.outW; x++) {
            // the pixel's centre, in the image coordinates measurements use (pixel edges)
            const at = reformatToStack(l, index, [x + 0.5, y + 0.5]);
            const want = 1000 * at.slice + 10 * at.row + at.column;
            assert.ok(Math.abs(shown.slice.values[y * l.outW + x] - want) < 1e-3, `(${x}, ${y}): ${shown.slice.values[y * l.outW + x]} vs ${want}`);
          }
        }
        // the pixels' sides are the stack's: across the slices' own axis its spacing, along the normal their span over the samples
        const normalMm = (4 * 2.5) / (l.depth - 1);
        assert.deepEqual(l.pixelSpacing, l.across === 'along' ? [normalMm, plane === 'row' ? 0.7 : 0.8] : [plane === 'row' ? 0.7 : 0.8, normalMm]);
      });
    }
  }

  it('reads a coronal reformat front to back and a sagittal one from the patient\'s right', () => {
    const axial = [1, 0, 0, 0, 1, 0];
    // rows advance posterior (+y): front to back is the index order; columns advance to the left (+x)
    assert.equal(reformatReadingStep('row', axial), 1);
    assert.equal(reformatReadingStep('column', axial), 1);
    // a stack whose rows advance anterior reads its coronal positions backwards
    assert.equal(reformatReadingStep('row', [1, 0, 0, 0, -1, 0]), -1);
  });
});
