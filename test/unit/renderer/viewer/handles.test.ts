/**
 * Editing a measurement by its handles: a length's ends, an ellipse's extremes, and a
 * bidirectional measurement that stays perpendicular (in mm) and crossing whichever end moves.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lengthOf } from '../../../../src/shared/roi';
import { handleAt, handlesOf, moveHandle } from '../../../../src/renderer/viewer/handles';

const close = (got: readonly number[], want: readonly number[], what: string) => assert.ok(got.every((v, i) => Math.abs(v - want[i]) < 1e-9), `${what}: ${got} != ${want}`);
/** The dot product of the two axes in mm: 0 when perpendicular. */
const dotMm = (m: { a: number[]; b: number[]; c?: number[]; d?: number[] }, sp: [number, number]) =>
  ((m.b[0] - m.a[0]) * sp[1]) * (((m.d as number[])[0] - (m.c as number[])[0]) * sp[1]) + ((m.b[1] - m.a[1]) * sp[0]) * (((m.d as number[])[1] - (m.c as number[])[1]) * sp[0]);

describe('measurement handles', () => {
  it('a length: its two ends; moving one leaves the other', () => {
    const m = { kind: 'length' as const, a: [10, 10] as [number, number], b: [50, 10] as [number, number] };
    assert.deepEqual(handlesOf(m), [[10, 10], [50, 10]]);
    assert.deepEqual(moveHandle(m, 1, [50, 40]), { ...m, b: [50, 40] });
  });

  it('an ellipse: its left, right, top and bottom extremes; dragging one moves that edge of its box only', () => {
    const m = { kind: 'ellipse' as const, a: [40, 30] as [number, number], b: [10, 10] as [number, number] };
    assert.deepEqual(handlesOf(m), [[10, 20], [40, 20], [25, 10], [25, 30]]);
    assert.deepEqual(moveHandle(m, 1, [60, 99]), { ...m, a: [10, 10], b: [60, 30] }, 'right edge out to x 60; y ignored');
    assert.deepEqual(moveHandle(m, 2, [0, 0]), { ...m, a: [10, 0], b: [40, 30] }, 'top edge up to y 0');
    assert.deepEqual(moveHandle(m, 0, [50, 20]), { ...m, a: [40, 10], b: [50, 30] }, 'dragged past the right edge: the box turns round');
  });

  it('the handle under the pointer: the nearest within the radius, else none', () => {
    const hs: [number, number][] = [[0, 0], [10, 0]];
    assert.equal(handleAt(hs, [9, 1], 3), 1);
    assert.equal(handleAt(hs, [5, 0], 3), -1);
  });

  describe('bidirectional', () => {
    const sp: [number, number] = [0.5, 1]; // rows 0.5 mm apart, columns 1 mm: non-square pixels
    const m = { kind: 'bidirectional' as const, a: [0, 0] as [number, number], b: [40, 0] as [number, number], c: [10, -20] as [number, number], d: [10, 10] as [number, number] };

    it('an end of the short axis moves its half only: the crossing and the other half stay', () => {
      const e = moveHandle(m, 2, [13, -30], sp);
      close(e.c as number[], [10, -30], 'c follows the pointer across the long axis, kept on its line');
      close(e.d as number[], [10, 10], 'd stays');
      close(e.a, m.a, 'a stays');
    });

    it('an end of the short axis cannot be dragged past the long axis: it stops on it', () => {
      close(moveHandle(m, 3, [10, -5], sp).d as number[], [10, 0], 'd');
    });

    it('an end of the long axis carries the short axis along, perpendicular in mm, crossing at the same share of the length, with the same halves', () => {
      const e = moveHandle(m, 1, [40, 40], sp);
      close(e.b, [40, 40], 'b');
      assert.ok(Math.abs(dotMm(e, sp)) < 1e-9, 'perpendicular in mm');
      const half = (p: number[], q: number[]) => lengthOf(p as [number, number], q as [number, number], sp).value;
      // the halves in mm: c is 20 rows = 10 mm from the long axis, d 10 rows = 5 mm
      const long0 = lengthOf(m.a, m.b, sp).value;
      const long1 = lengthOf(e.a, e.b, sp).value;
      // the crossing: a quarter of the way along, as before (10 of 40 columns)
      const cross = [e.a[0] + (e.b[0] - e.a[0]) / 4, e.a[1] + (e.b[1] - e.a[1]) / 4];
      assert.ok(Math.abs(half(e.c as number[], cross) - 10) < 1e-9 && Math.abs(half(e.d as number[], cross) - 5) < 1e-9, 'halves 10 and 5 mm');
      assert.ok(long1 > long0);
    });
  });
});
