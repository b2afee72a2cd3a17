/** Findings are F1, F2, ... by one rule everywhere: the model's in reading order (then class), then the reviewer's. */
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
});
