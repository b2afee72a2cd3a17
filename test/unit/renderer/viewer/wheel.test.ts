/**
 * The wheel over the image: one slice per notch of a mouse wheel, and a trackpad's stream of small
 * deltas added up, so a light swipe does not fly through the stack.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { wheelSteps } from '../../../../src/renderer/viewer/wheel';

/** Slices moved by a run of wheel events (pixel mode unless given). */
function run(deltas: number[], deltaMode = 0): number {
  let pending = 0;
  let moved = 0;
  for (const deltaY of deltas) {
    const s = wheelSteps({ deltaY, deltaMode }, pending);
    pending = s.pending;
    moved += s.slices;
  }
  return moved;
}

describe('wheelSteps', () => {
  it('a mouse wheel notch (53, 100 or 120 px, or one line; 53 px at 200 % page zoom is 26.5) is one slice, each way', () => {
    assert.equal(run([100, 100, 100]), 3);
    assert.equal(run([53, 53]), 2);
    assert.equal(run([26.5, 26.5]), 2);
    assert.equal(run([-120]), -1);
    assert.equal(run([3, 3], 1), 2, 'line mode (Firefox): a slice per event');
  });

  it('a trackpad\'s small deltas add up to a slice per 25 px: 20 events of 4 px are 3 slices, not 20', () => {
    assert.equal(run(Array(20).fill(4)), 3);
    assert.equal(run(Array(6).fill(4)), 0, 'less than 25 px: nothing yet');
  });

  it('turning back drops what was left over in the other direction', () => {
    assert.equal(run([20, -20, -10]), -1);
    assert.equal(run([20, -5, 20]), 0);
  });

  it('a zero delta (a sideways scroll) moves nothing and keeps what was pending', () => {
    assert.deepEqual(wheelSteps({ deltaY: 0, deltaMode: 0 }, 12), { slices: 0, pending: 12 });
  });
});
