/**
 * Decisions follow the instances they were made on, not the slice numbers: when slices are
 * inserted before a finding its decision moves with it; when its instances are not in the stack it
 * does not apply there, instead of landing on whatever has its old numbers.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Review } from '../../../../src/shared/api';
import { IMPRESSION_ID, parseReviewId, SIGN_OFF_ID } from '../../../../src/shared/review';
import { anchorReview, placeReviews, plainReview, reviewKey, storedReviews } from '../../../../src/core/session/review-anchor';

const stack = (uids: string[]) => uids.map((u) => ({ sopInstanceUid: u, frame: 0 }));
const review = (findingId: string, at = '2026-11-29T10:00:00.000Z'): Review => ({ findingId, decision: 'accepted', at });

describe('review anchors', () => {
  it('reads the slice numbers of finding ids and reviewer-added ids, and nothing else', () => {
    assert.deepEqual(parseReviewId('lung_nodule:31-34')?.slices, [31, 34]);
    assert.equal(parseReviewId('lung_nodule:31-34')?.make([1, 2]), 'lung_nodule:1-2');
    assert.equal(parseReviewId('lung_nodule:31-34')?.make([9, 4]), 'lung_nodule:4-9', 'a range is written low-high');
    assert.deepEqual(parseReviewId('added:liver_lesion:12')?.slices, [12]);
    assert.equal(parseReviewId('added:liver_lesion:12')?.make([40]), 'added:liver_lesion:40');
    assert.equal(parseReviewId('note'), null);
  });

  it('the sign-off and the impression are anchored to the stack\'s ends: each is one per stack, and both stay with the stack as it was', () => {
    const ends = stack(['a', 'b', 'c']);
    const stored = [anchorReview(review(SIGN_OFF_ID), ends), anchorReview({ ...review(IMPRESSION_ID), comment: 'No nodule.' }, ends)];
    assert.deepEqual(stored.map((r) => r.anchor), [['a#0', 'c#0'], ['a#0', 'c#0']]);
    assert.notEqual(reviewKey(stored[0] as Review), reviewKey(stored[1] as Review), 'writing the impression does not replace the sign-off');
    assert.equal(reviewKey(anchorReview({ ...review(IMPRESSION_ID, '2026-11-29T11:00:00.000Z'), comment: 'Nodule.' }, ends)), reviewKey(stored[1] as Review), 'a new impression replaces the old');
    assert.deepEqual([...placeReviews(stored, ends).keys()], [SIGN_OFF_ID, IMPRESSION_ID]);
    assert.equal(placeReviews(stored, ends).get(IMPRESSION_ID)?.comment, 'No nodule.');
    assert.deepEqual([...placeReviews(stored, stack(['a', 'b', 'c', 'd'])).keys()], [], 'not on a stack with other ends');
  });

  it('a decision made on slices 1-2 follows them when two slices are inserted before', () => {
    const before = stack(['a', 'b', 'c', 'd']);
    const stored = [anchorReview(review('lung_nodule:1-2'), before), anchorReview(review('added:liver_lesion:3'), before)];
    assert.deepEqual(stored[0]?.anchor, ['b#0', 'c#0']);
    const active = placeReviews(stored, stack(['y', 'z', 'a', 'b', 'c', 'd']));
    assert.deepEqual([...active.keys()], ['lung_nodule:3-4', 'added:liver_lesion:5']);
    assert.deepEqual(plainReview(active.get('lung_nodule:3-4') as Review), review('lung_nodule:3-4'), 'the wire form has no anchor');
  });

  it('a decision whose instances are not in the stack does not apply to the slices that now have its numbers', () => {
    const stored = [anchorReview(review('lung_nodule:1-2'), stack(['a', 'b', 'c']))];
    assert.equal(placeReviews(stored, stack(['x', 'y', 'z', 'c'])).size, 0);
    assert.deepEqual([...placeReviews(stored, stack(['a', 'b', 'c'])).keys()], ['lung_nodule:1-2'], 'back once its slices are open');
    assert.deepEqual([...placeReviews(stored, stack(['c', 'b', 'a'])).keys()], ['lung_nodule:0-1'], 'in reverse order (b, c now 1, 0): a low-high range');
  });

  it('a decision stored without an anchor applies at its numbers, where legacy decisions may, and stays unanchored', () => {
    const old = { ...review('lung_nodule:0-1', '2026-11-29T11:00:00.000Z'), decision: 'rejected' as const };
    const s = stack(['a', 'b', 'c']);
    const active = placeReviews([old, anchorReview(review('lung_nodule:0-1'), s)], s);
    assert.equal(active.get('lung_nodule:0-1')?.decision, 'rejected', 'the later of two on one id wins');
    assert.equal(active.get('lung_nodule:0-1')?.anchor, undefined, 'not anchored to whatever stack was open first');
    assert.equal(placeReviews([old], s, false).size, 0, 'not on a stack it was not made on');
    assert.equal(placeReviews([review('lung_nodule:2-7')], s).size, 0, 'not past the end of the stack');
  });

  it('two decisions are one when they name the same kind of finding on the same instances', () => {
    const s = stack(['a', 'b', 'c']);
    const a = anchorReview(review('lung_nodule:0-1'), s);
    assert.equal(reviewKey(a), reviewKey(anchorReview({ ...review('lung_nodule:0-1'), decision: 'rejected' }, s)));
    assert.notEqual(reviewKey(a), reviewKey(anchorReview(review('liver_lesion:0-1'), s)));
    assert.notEqual(reviewKey(a), reviewKey(review('lung_nodule:0-1')));
  });

  it('a review file with entries that are not decisions keeps only the decisions', () => {
    assert.deepEqual(storedReviews({ not: 'a list' }), []);
    const ok = review('lung_nodule:0-1');
    assert.deepEqual(storedReviews([ok, null, 3, { findingId: 'x', decision: 'maybe', at: 'now' }, { ...ok, anchor: [1] }]), [ok]);
  });
});
