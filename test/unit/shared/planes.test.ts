/** Readers go through an axial stack head to feet, a coronal one front to back, a sagittal one right to left. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readingStep, sliceNumber, sliceRangeText, stackReadingStep } from '../../../src/shared/planes';

const AXIAL = [1, 0, 0, 0, 1, 0];
const CORONAL = [1, 0, 0, 0, 0, -1];
const SAGITTAL = [0, 1, 0, 0, 0, -1];

describe('stackReadingStep', () => {
  it('reads an axial stack sorted by position (index 0 nearest the feet) from its highest index down', () => {
    assert.equal(stackReadingStep({ sortedBy: 'position', sliceSpacing: 5, orientation: AXIAL }), -1);
    // a normal given with the geometry counts, even one a few degrees off (gantry tilt)
    assert.equal(stackReadingStep({ sortedBy: 'position', sliceSpacing: 5, normal: [0, 0.1, 0.99] }), -1);
    // prone or feet-first with the normal toward the feet: index 0 is then the head-most slice
    assert.equal(stackReadingStep({ sortedBy: 'position', sliceSpacing: 5, normal: [0, 0, -1] }), 1);
  });

  it('reads a coronal stack front to back and a sagittal one from the patient\'s right to their left', () => {
    // row x column of CORONAL is (0, 1, 0): indices ascend toward the back (+y in LPS)
    assert.equal(stackReadingStep({ sortedBy: 'position', sliceSpacing: 5, orientation: CORONAL }), 1);
    assert.equal(stackReadingStep({ sortedBy: 'position', sliceSpacing: 5, normal: [0, -1, 0] }), -1);
    // row x column of SAGITTAL is (-1, 0, 0): indices ascend toward the patient's right
    assert.equal(stackReadingStep({ sortedBy: 'position', sliceSpacing: 5, orientation: SAGITTAL }), -1);
    assert.equal(stackReadingStep({ sortedBy: 'position', sliceSpacing: 5, normal: [1, 0, 0] }), 1);
  });

  it('keeps the stack\'s own order when it was not sorted by position, or has no usable orientation', () => {
    assert.equal(stackReadingStep({ sortedBy: 'instanceNumber', orientation: AXIAL }), 1);
    assert.equal(stackReadingStep({ sortedBy: 'file' }), 1);
    assert.equal(stackReadingStep({ sortedBy: 'position' }), 1);
    // a stack at one level (bolus tracking, perfusion): read in time order, not reversed as an axial stack
    assert.equal(stackReadingStep({ sortedBy: 'position', orientation: AXIAL }), 1);
    assert.equal(stackReadingStep({ sortedBy: 'position', sliceSpacing: 0, orientation: AXIAL }), 1);
    assert.equal(stackReadingStep(undefined), 1);
    // oblique (about 45 degrees between two axes): no convention, index order
    assert.equal(stackReadingStep({ sortedBy: 'position', sliceSpacing: 5, normal: [0, 0.7071, 0.7071] }), 1);
  });
});

describe('readingStep', () => {
  it('gives a reformat\'s positions their direction: rows of an axial stack (+y) front to back, columns (+x) right to left', () => {
    assert.equal(readingStep([0, 1, 0]), 1);
    assert.equal(readingStep([1, 0, 0]), 1);
    assert.equal(readingStep([0, 0, 1]), -1);
    assert.equal(readingStep([Number.NaN, 0, 1]), 1, 'no direction: index order');
  });
});

describe('sliceNumber and sliceRangeText', () => {
  it('numbers slices from 1 in reading order: an axial stack read head to feet counts from its top slice', () => {
    // 45 slices, index 0 the lowest: read from index 44 down
    assert.equal(sliceNumber(44, 45, -1), 1);
    assert.equal(sliceNumber(0, 45, -1), 45);
    assert.equal(sliceNumber(0, 45, 1), 1);
    assert.equal(sliceRangeText(7, 20, 45, -1), '25-38', 'lower number first');
    assert.equal(sliceRangeText(7, 20, 45, 1, '–'), '8–21');
    assert.equal(sliceRangeText(27, 27, 45, -1), '18', 'one slice is one number, not 18-18');
  });
});
