/**
 * A finding the reviewer adds carries where they placed it: from the review to the report's marker
 * (and SR SCOORD, CSV centroid); a review file with a point that is not two numbers keeps the
 * finding without a place.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { reviewsAndAdded } from '../../../../src/core/report/build';
import { storedReviews } from '../../../../src/core/session/review-anchor';

describe('a reviewer-added finding\'s place', () => {
  it('goes from the review to the report context as its centroid', () => {
    const at = '2026-11-30T01:00:00Z';
    const { added } = reviewsAndAdded([
      { findingId: 'added:lung_nodule:3', decision: 'accepted', at, comment: '6 mm nodule', point: [300, 200] },
      { findingId: 'added:liver_lesion:5', decision: 'accepted', at },
    ]);
    assert.deepEqual(added, [
      { id: 'added:lung_nodule:3', class: 'lung_nodule', sliceStart: 3, sliceEnd: 3, comment: '6 mm nodule', centroid: [300, 200] },
      { id: 'added:liver_lesion:5', class: 'liver_lesion', sliceStart: 5, sliceEnd: 5 },
    ]);
  });

  it('a point in a review file that is not two finite numbers is dropped, the finding kept', () => {
    const at = '2026-11-30T01:00:00Z';
    const kept = storedReviews([
      { findingId: 'added:lung_nodule:3', decision: 'accepted', at, point: ['x', 2] },
      { findingId: 'added:lung_nodule:4', decision: 'accepted', at, point: [1, 2, 3] },
      { findingId: 'added:lung_nodule:5', decision: 'accepted', at, point: [7.5, 8] },
    ]);
    assert.deepEqual(kept.map((r) => [r.findingId, r.point ?? null]), [['added:lung_nodule:3', null], ['added:lung_nodule:4', null], ['added:lung_nodule:5', [7.5, 8]]]);
  });
});
