/**
 * The desktop app's data moved from Electron's userData to the shared data folder: what an
 * earlier version kept there (settings, decisions, exports, logs) is copied once, never over a
 * data folder already in use, and Chromium's own files stay behind.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { migrateDataDir } from '../../../src/main/data-dir';
import { tempDir } from '../../helpers/tmp';

function oldUserData(root: string): string {
  const from = path.join(root, 'config-ReSight');
  fs.mkdirSync(path.join(from, 'reviews'), { recursive: true });
  fs.writeFileSync(path.join(from, 'settings.json'), '{"pacs":{"destination":"PACS@10.0.0.5:104"}}');
  fs.writeFileSync(path.join(from, 'reviews', 'abc.json'), '[{"findingId":"signoff","decision":"accepted","at":"2026-11-29T10:00:00Z"}]');
  fs.mkdirSync(path.join(from, 'GPUCache'));
  return from;
}

describe('the data folder of an earlier version', () => {
  it('is copied into the new one on the first start: settings and decisions, not Chromium\'s files', (t) => {
    const root = tempDir(t, 'migrate');
    const from = oldUserData(root);
    const to = path.join(root, 'share-resight');
    assert.deepEqual(migrateDataDir(from, to), ['settings.json', 'reviews']);
    assert.equal(fs.readFileSync(path.join(to, 'settings.json'), 'utf8'), '{"pacs":{"destination":"PACS@10.0.0.5:104"}}');
    assert.ok(fs.existsSync(path.join(to, 'reviews', 'abc.json')));
    assert.ok(!fs.existsSync(path.join(to, 'GPUCache')));
    assert.ok(fs.existsSync(path.join(from, 'settings.json')), 'copied, not moved');
    assert.deepEqual(migrateDataDir(from, to), [], 'once');
  });

  it('never over a data folder in use (resight serve wrote there), nor from itself, nor from nothing', (t) => {
    const root = tempDir(t, 'migrate-used');
    const from = oldUserData(root);
    const to = path.join(root, 'share-resight');
    fs.mkdirSync(path.join(to, 'reviews'), { recursive: true });
    assert.deepEqual(migrateDataDir(from, to), []);
    assert.ok(!fs.existsSync(path.join(to, 'settings.json')));
    assert.deepEqual(migrateDataDir(from, from), []);
    assert.deepEqual(migrateDataDir(path.join(root, 'nothing'), path.join(root, 'fresh')), []);
    assert.ok(!fs.existsSync(path.join(root, 'fresh')), 'no folder made for nothing');
  });
});
