/**
 * The result cache holds patient studies' scores: its entries are the user's alone (0600), and an
 * entry another account wrote, or could have changed, is never served (in a shared cache folder it
 * could carry scores that hide a finding).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { ResultCache } from '../../../../src/core/inference/cache';
import type { SeriesAnalysis } from '../../../../src/shared/analysis';
import { tempDir } from '../../../helpers/tmp';

const analysis = { seriesInstanceUid: '1.2.3', seriesId: '1.2.3', modality: 'CT', scored: true, slices: [], findings: [], cached: false } as unknown as SeriesAnalysis;

describe('ResultCache', { skip: process.platform === 'win32' && 'POSIX owners and modes' }, () => {
  it('writes its entries private to the user and serves them back', (t) => {
    const cache = new ResultCache(path.join(tempDir(t, 'cache'), 'c'));
    assert.ok(cache.put('k1', analysis));
    assert.equal(fs.statSync(path.join(cache.dir, 'k1.json')).mode & 0o777, 0o600);
    assert.equal(fs.statSync(cache.dir).mode & 0o777, 0o700);
    assert.equal(cache.get('k1')?.seriesId, '1.2.3');
  });

  it('does not serve an entry others could have written', (t) => {
    const cache = new ResultCache(path.join(tempDir(t, 'cache'), 'c'));
    cache.put('k1', analysis);
    fs.chmodSync(path.join(cache.dir, 'k1.json'), 0o666);
    assert.equal(cache.get('k1'), undefined, 'writable by others');
  });

  it('does not serve an entry another account owns', { skip: (typeof process.getuid !== 'function' || process.getuid() !== 0) && 'needs root to give a file away' }, (t) => {
    const cache = new ResultCache(path.join(tempDir(t, 'cache'), 'c'));
    cache.put('k1', analysis);
    fs.chownSync(path.join(cache.dir, 'k1.json'), 65534, 65534);
    assert.equal(cache.get('k1'), undefined);
  });
});
