/**
 * Measurement labels stay where they can be read: right of their point when there is room, else
 * left of it, and inside the viewport vertically.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { labelPlacement } from '../../../../src/renderer/viewer/geometry';

describe('labelPlacement', () => {
  it('right of the point (6 px gap) when the label fits there', () => {
    assert.deepEqual(labelPlacement(100, 100, 50, 60, 16, 800, 600), { x: 106, top: 50, anchor: 'start' });
  });

  it('left of the span, right-aligned, when the right side has no room (a point near the right edge)', () => {
    assert.deepEqual(labelPlacement(780, 780, 50, 60, 16, 800, 600), { x: 774, top: 50, anchor: 'end' });
  });

  it('an ellipse\'s label flips to the left of the whole ellipse, not over it', () => {
    assert.deepEqual(labelPlacement(600, 790, 50, 150, 47, 800, 600), { x: 594, top: 50, anchor: 'end' });
  });

  it('kept inside vertically: moved down at the top edge and up at the bottom edge', () => {
    assert.equal(labelPlacement(100, 100, -10, 60, 16, 800, 600).top, 4);
    assert.equal(labelPlacement(100, 100, 590, 60, 47, 800, 600).top, 600 - 4 - 47);
  });

  it('with room on neither side, as far right as it fits inside', () => {
    assert.deepEqual(labelPlacement(20, 180, 50, 150, 16, 200, 600), { x: 46, top: 50, anchor: 'start' });
  });
});
