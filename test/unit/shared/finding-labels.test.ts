/** Findings are F1, F2, ... by one rule everywhere: the model's in slice order (then class), then the reviewer's. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findingLabelsOf } from '../../../src/shared/finding-labels';

describe('findingLabelsOf', () => {
  it('labels the model\'s findings by first slice, a tie by class, then the reviewer\'s in the order added', () => {
    const f = (id: string, sliceStart: number, cls: string) => ({ id, sliceStart, class: cls });
    const labels = findingLabelsOf([f('n30', 30, 'lung_nodule'), f('l7', 7, 'liver_lesion'), f('n7', 7, 'lung_nodule')], [{ id: 'added:b' }, { id: 'added:a' }]);
    assert.deepEqual([...labels], [['l7', 'F1'], ['n7', 'F2'], ['n30', 'F3'], ['added:b', 'F4'], ['added:a', 'F5']]);
  });
});
