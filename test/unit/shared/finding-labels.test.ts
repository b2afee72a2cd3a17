/** Findings are F1, F2, ... by one rule everywhere: the model's in reading order of their key slices (then class), then the reviewer's. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findingLabelsOf } from '../../../src/shared/finding-labels';

describe('findingLabelsOf', () => {
  const f = (id: string, sliceStart: number, sliceEnd: number, cls: string) => ({ id, sliceStart, sliceEnd, class: cls });
  const findings = [f('n30', 30, 33, 'lung_nodule'), f('l7', 7, 20, 'liver_lesion'), f('n7', 7, 9, 'lung_nodule')];

  it('in index order, labels the model\'s findings by first slice, a tie by class, then the reviewer\'s in the order added', () => {
    const labels = findingLabelsOf(findings, [{ id: 'added:b' }, { id: 'added:a' }]);
    assert.deepEqual([...labels], [['l7', 'F1'], ['n7', 'F2'], ['n30', 'F3'], ['added:b', 'F4'], ['added:a', 'F5']]);
  });

  it('read against the index (an axial stack from the head down), labels by the slice the reader meets first: the highest', () => {
    const labels = findingLabelsOf(findings, [{ id: 'added:b' }], -1);
    // n30 reaches slice 33, l7 slice 20, n7 slice 9: the reviewer's still come last
    assert.deepEqual([...labels], [['n30', 'F1'], ['l7', 'F2'], ['n7', 'F3'], ['added:b', 'F4']]);
  });

  it('orders by key slice, where N stops: a long finding whose key slice is lower comes after one it overlaps', () => {
    const a = { id: 'a', sliceStart: 10, sliceEnd: 40, keySlice: 12, class: 'liver_lesion' };
    const b = { id: 'b', sliceStart: 30, sliceEnd: 35, keySlice: 33, class: 'lung_nodule' };
    // read from the top (index 44 down): N meets b's key slice (33) before a's (12)
    assert.deepEqual([...findingLabelsOf([a, b], [], -1)], [['b', 'F1'], ['a', 'F2']]);
    assert.deepEqual([...findingLabelsOf([a, b], [], 1)], [['a', 'F1'], ['b', 'F2']]);
  });
});
