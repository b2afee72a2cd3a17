/**
 * Measurement labels stay where they can be read: right of their point when there is room, else
 * left of it, and inside the viewport vertically.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clearOf, labelPlacement } from '../../../../src/renderer/viewer/geometry';

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

describe('clearOf: labels never print over each other', () => {
  const box = (x0: number, y0: number, w = 60, h = 16) => ({ x0, y0, x1: x0 + w, y1: y0 + h });
  it('leaves a label that covers nothing where it is', () => {
    assert.deepEqual(clearOf(box(100, 100), [box(300, 100)], 600), box(100, 100));
  });
  it('moves a label down past those it would cover (a length\'s value over an ROI\'s three lines, then over M1)', () => {
    const roi = box(100, 100, 120, 48);
    const id = box(90, 150, 30, 16);
    assert.deepEqual(clearOf(box(110, 110), [roi, id], 600), box(110, 168));
  });
  it('moves it up instead where there is no room below, and leaves it when neither way is clear', () => {
    assert.deepEqual(clearOf(box(100, 570), [box(100, 560, 60, 36)], 600), box(100, 542));
    const wall = box(0, 4, 600, 592);
    assert.deepEqual(clearOf(box(100, 300), [wall], 600), box(100, 300));
  });
});
