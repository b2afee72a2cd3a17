/** Measurement numbers stay with their measurements: deleting M1 does not make M3 into M2. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { labelNumber, nextLabel } from '../../../../src/renderer/viewer/measure-labels';

describe('measurement labels', () => {
  it('a new measurement takes the next number after the highest, whatever was deleted before it', () => {
    assert.equal(nextLabel([]), 1);
    assert.equal(nextLabel([{ label: 1 }, { label: 2 }, { label: 3 }]), 4);
    assert.equal(nextLabel([{ label: 2 }, { label: 3 }]), 4, 'M1 deleted: the next is M4, not a second M3');
    assert.equal(nextLabel([{ label: 1 }]), 2);
  });

  it('one saved before labels were kept is numbered by its place, and the next follows them all', () => {
    assert.deepEqual([{}, {}, { label: 7 }].map((m, i) => labelNumber(m, i)), [1, 2, 7]);
    assert.equal(nextLabel([{}, {}]), 3);
  });
});

describe('numbers only count up', () => {
  it('the last deleted and another drawn: M4, not a second M3 (the list remembers its highest)', () => {
    assert.equal(nextLabel([{ label: 1 }, { label: 2 }], 3), 4);
    assert.equal(nextLabel([], 7), 8, 'all cleared: still after the highest it had');
    assert.equal(nextLabel([{ label: 9 }], 3), 10, 'the list\'s own highest when it is higher');
  });
});
