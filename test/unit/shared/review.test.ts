/** How decisions that are not on one model finding travel as reviews: reviewer-added findings, the sign-off and the impression. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Review } from '../../../src/shared/api';
import { IMPRESSION_ID, impressionOf, isStackReview, MEASUREMENTS_ID, reviewerFindings, SIGN_OFF_ID, signOffOf } from '../../../src/shared/review';

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

describe('the impression', () => {
  it('is the reviewer\'s text, trimmed, while accepted; withdrawn or blank, there is none', () => {
    const written: Review = { findingId: IMPRESSION_ID, decision: 'accepted', at: at(1), comment: '  No suspicious nodule.\n' };
    assert.equal(impressionOf([written]), 'No suspicious nodule.');
    assert.equal(impressionOf([{ ...written, decision: 'rejected' }]), undefined, 'withdrawn');
    assert.equal(impressionOf([{ ...written, comment: '   ' }]), undefined, 'blank');
    assert.equal(impressionOf([{ findingId: 'lung_nodule:3-5', decision: 'accepted', at: at(1), comment: 'a finding\'s comment' }]), undefined);
  });

  it('is a review of the stack, not of a finding, and writing it after the sign-off makes the sign-off stale', () => {
    assert.ok(isStackReview(IMPRESSION_ID) && isStackReview(SIGN_OFF_ID) && !isStackReview('lung_nodule:3-5') && !isStackReview('added:liver_lesion:7'));
    const signed: Review = { findingId: SIGN_OFF_ID, decision: 'accepted', at: at(2) };
    const before: Review = { findingId: IMPRESSION_ID, decision: 'accepted', at: at(1), comment: 'Benign.' };
    assert.equal(signOffOf([before, signed])?.current, true, 'written before the sign-off: signed off with it');
    assert.equal(signOffOf([signed, { ...before, at: at(3) }])?.current, false, 'changed after it: sign off again');
    assert.deepEqual(reviewerFindings([before]), [], 'it is not a finding the reviewer added');
  });
});

describe('measurements changed after the sign-off', () => {
  it('make it stale (the viewer records the change as the review measurements), and are no finding', () => {
    const signed: Review = { findingId: SIGN_OFF_ID, decision: 'accepted', at: at(2) };
    assert.ok(isStackReview(MEASUREMENTS_ID));
    assert.equal(signOffOf([signed, { findingId: MEASUREMENTS_ID, decision: 'edited', at: at(3) }])?.current, false);
    assert.equal(signOffOf([{ findingId: MEASUREMENTS_ID, decision: 'edited', at: at(1) }, signed])?.current, true, 'signed off again after them: current');
  });
});
