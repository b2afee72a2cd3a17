/** How decisions that are not on one model finding travel as reviews: reviewer-added findings and the sign-off. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Review } from '../../../src/shared/api';
import { reviewerFindings, SIGN_OFF_ID, signOffOf } from '../../../src/shared/review';

const at = (min: number) => new Date(Date.UTC(2026, 10, 29, 10, min)).toISOString();

describe('the sign-off', () => {
  it('is the series\' signed state while no decision changed after it', () => {
    const reviews: Review[] = [
      { findingId: 'lung_nodule:3-5', decision: 'accepted', at: at(1) },
      { findingId: SIGN_OFF_ID, decision: 'accepted', at: at(2), reviewer: 'Sato^Hanako' },
    ];
    assert.deepEqual(signOffOf(reviews), { at: at(2), reviewer: 'Sato^Hanako', current: true });
    assert.deepEqual(reviewerFindings(reviews), [], 'it is not a finding the reviewer added');
  });

  it('goes stale when a decision is changed after it, and is gone when withdrawn or never given', () => {
    const signed: Review = { findingId: SIGN_OFF_ID, decision: 'accepted', at: at(2) };
    assert.equal(signOffOf([signed, { findingId: 'lung_nodule:3-5', decision: 'rejected', at: at(3) }])?.current, false);
    assert.equal(signOffOf([signed, { findingId: 'added:liver_lesion:7', decision: 'accepted', at: at(4) }])?.current, false, 'adding a finding counts too');
    assert.equal(signOffOf([{ ...signed, decision: 'pending' }]), undefined);
    assert.equal(signOffOf([{ findingId: 'lung_nodule:3-5', decision: 'accepted', at: at(1) }]), undefined);
  });
});
