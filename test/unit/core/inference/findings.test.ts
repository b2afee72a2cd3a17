/**
 * Study-level findings are the runs of contiguous slices whose probability reaches the class's
 * operating threshold: one finding per run, its score the run's peak, its key slice where the
 * peak is; an undecodable slice ends a run.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findingsFrom, withCores } from '../../../../src/core/inference/findings';
import type { SliceResult } from '../../../../src/shared/analysis';

const slices = (rows: (number[] | null)[]): SliceResult[] =>
  rows.map((p, i) => ({ index: i, sopInstanceUid: `1.2.3.${i}`, frame: 0, probabilities: p ? { a: p[0], b: p[1] } : null }));

describe('findings from per-slice probabilities', () => {
  it('one finding per run above the threshold, per class, with peak score and key slice', () => {
    const s = slices([[0.1, 0.9], [0.6, 0.9], [0.8, 0.2], [0.7, 0.2], [0.2, 0.2], [0.5, 0.95]]);
    const f = findingsFrom(s, ['a', 'b'], { a: 0.5, b: 0.9 });
    assert.deepEqual(
      f.map((x) => [x.class, x.sliceStart, x.sliceEnd, x.keySlice, x.score]),
      [
        ['a', 1, 3, 2, 0.8],
        ['a', 5, 5, 5, 0.5],
        ['b', 0, 1, 0, 0.9],
        ['b', 5, 5, 5, 0.95],
      ],
    );
    assert.equal(f[0].id, 'a:1-3');
    assert.equal(f[0].keySopInstanceUid, '1.2.3.2');
    assert.equal(f[0].threshold, 0.5);
    assert.equal(f[0].centroid, null);
  });

  it('a slice that could not be decoded splits a run', () => {
    const f = findingsFrom(slices([[0.9, 0], null, [0.9, 0]]), ['a', 'b'], { a: 0.5, b: 0.5 });
    assert.deepEqual(f.map((x) => [x.sliceStart, x.sliceEnd]), [[0, 0], [2, 2]]);
  });

  it('a finding\'s core is the slices around its key slice scoring at least half its peak: long weak tails are not the lesion', () => {
    // the demo's liver lesion: a run of 14 slices over a low threshold, 5 of them strong
    const ps = [0.1, 0.172, 0.208, 0.89, 0.98, 0.975, 0.958, 0.897, 0.262, 0.248, 0.233, 0.25, 0.202, 0.203, 0.177, 0.141];
    const f = findingsFrom(slices(ps.map((p) => [p, 0])), ['a'], { a: 0.162 });
    assert.deepEqual(f.map((x) => [x.sliceStart, x.sliceEnd, x.keySlice, x.coreStart, x.coreEnd]), [[1, 14, 4, 3, 7]]);
    // a weak finding's core never goes below the threshold, and a dip ends it
    const g = findingsFrom(slices([[0.6, 0], [0.9, 0], [0.3, 0], [0.8, 0]]), ['a'], { a: 0.25 });
    assert.deepEqual(g.map((x) => [x.sliceStart, x.sliceEnd, x.coreStart, x.coreEnd]), [[0, 3, 0, 1]]);
  });

  it('a finding cached before cores existed gets its core from the cached scores, nothing else changed', () => {
    const s = slices([[0.1, 0], [0.2, 0], [0.9, 0], [0.8, 0], [0.2, 0], [0.1, 0]]);
    const [f] = findingsFrom(s, ['a'], { a: 0.15 });
    assert.ok(f);
    const { coreStart: _s, coreEnd: _e, ...old } = f;
    const cachedWithCentroid = { ...old, centroid: [10, 20] as [number, number] };
    assert.deepEqual(withCores([cachedWithCentroid], s), [{ ...cachedWithCentroid, coreStart: 2, coreEnd: 3 }]);
  });

  it('nothing above the threshold: no findings', () => {
    assert.deepEqual(findingsFrom(slices([[0.49, 0.1], [0.3, 0.2]]), ['a', 'b'], { a: 0.5, b: 0.5 }), []);
  });
});
