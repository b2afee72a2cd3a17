/**
 * N / P go from finding to finding by their key slices (and to positive slices no finding covers);
 * inside a finding that was just decided, N goes on to the next finding instead of to the decided
 * one's key slice, where the next X would overwrite the decision.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findingStops, nextStop } from '../../../../src/renderer/viewer/finding-nav';

// the demo's findings: F1 liver 7-20 (key 10), F2 liver 27 (key 27), F3 nodule 31-34 (key 33), F4 nodule 37-39 (key 37)
const findings = [
  { id: 'liver_lesion:7-20', sliceStart: 7, sliceEnd: 20, keySlice: 10 },
  { id: 'liver_lesion:27-27', sliceStart: 27, sliceEnd: 27, keySlice: 27 },
  { id: 'lung_nodule:31-34', sliceStart: 31, sliceEnd: 34, keySlice: 33 },
  { id: 'lung_nodule:37-39', sliceStart: 37, sliceEnd: 39, keySlice: 37 },
];
const positives = [8, 9, 10, 11, 27, 31, 32, 33, 34, 37, 38, 42];
const none = () => false;

describe('N / P between findings', () => {
  it('stops at each key slice and at positive slices outside every finding, never inside a finding', () => {
    assert.deepEqual(findingStops(findings, positives), [10, 27, 33, 37, 42]);
  });

  it('N from before a finding goes to its key slice; P goes back to the previous stop', () => {
    const stops = findingStops(findings, positives);
    assert.equal(nextStop(findings, stops, 0, 1, none), 10);
    assert.equal(nextStop(findings, stops, 10, 1, none), 27);
    assert.equal(nextStop(findings, stops, 37, -1, none), 33);
    assert.equal(nextStop(findings, stops, 42, 1, none), undefined, 'nothing after the last');
  });

  it('inside an undecided finding, short of its key slice, N goes to that key slice', () => {
    assert.equal(nextStop(findings, findingStops(findings, positives), 32, 1, none), 33);
  });

  it('inside a decided finding, N goes on to the next finding (A on slice 32, then N, then X must not reject F3)', () => {
    const decided = (id: string) => id === 'lung_nodule:31-34';
    assert.equal(nextStop(findings, findingStops(findings, positives), 32, 1, decided), 37);
    assert.equal(nextStop(findings, findingStops(findings, positives), 34, -1, decided), 27, 'and P, back past its key slice, to the previous one');
  });
});
