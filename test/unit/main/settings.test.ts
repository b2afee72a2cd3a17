/** Desktop settings (zod-validated, defaults on a bad file) and the rotating log. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { RotatingLog } from '../../../src/main/log';
import { loadSettings, modelCardIn, saveSettings, updateSettings } from '../../../src/main/settings';
import { tempDir } from '../../helpers/tmp';

describe('settings', () => {
  it('defaults when missing, round-trips, and ignores what is invalid with a reason (only that)', (t) => {
    const dir = tempDir(t, 'settings');
    const d = loadSettings(dir);
    assert.equal(d.settings.camMethod, undefined);
    assert.deepEqual(d.settings.recent, []);
    saveSettings(dir, { ...d.settings, provider: 'cpu', threads: 2, recent: ['/a'] });
    assert.equal(loadSettings(dir).settings.provider, 'cpu');
    // the shell's window state merges into what the viewer saved meanwhile
    fs.writeFileSync(path.join(dir, 'settings.json'), JSON.stringify({ camMethod: 'hirescam' }));
    updateSettings(dir, { window: { width: 1000 } });
    assert.equal(loadSettings(dir).settings.camMethod, 'hirescam');
    assert.equal(loadSettings(dir).settings.window.width, 1000);
    fs.writeFileSync(path.join(dir, 'settings.json'), JSON.stringify({ provider: 'tpu', camMethod: 'layercam' }));
    const bad = loadSettings(dir);
    assert.equal(bad.settings.provider, undefined);
    assert.equal(bad.settings.camMethod, 'layercam', 'the valid keys still apply');
    assert.match(bad.problem ?? '', /settings\.json: "provider" ignored/);
    fs.writeFileSync(path.join(dir, 'settings.json'), '{ not json');
    assert.match(loadSettings(dir).problem ?? '', /settings\.json ignored/);
  });

  it('finds the card in a bring-your-own model folder', (t) => {
    const dir = tempDir(t, 'byo');
    assert.equal(modelCardIn(dir), undefined);
    fs.writeFileSync(path.join(dir, 'mine.card.json'), '{}');
    assert.equal(modelCardIn(dir), path.join(dir, 'mine.card.json'));
  });
});

describe('log', () => {
  it('rotates at 1 MiB and keeps five files, without paths', (t) => {
    const dir = tempDir(t, 'log');
    const log = new RotatingLog(dir);
    const line = 'x'.repeat(1000);
    for (let i = 0; i < 7000; i++) log.write('info', `${line} /home/p/YAMADA/CT1.dcm`);
    const files = fs.readdirSync(dir).sort();
    assert.deepEqual(files, ['resight.log', 'resight.log.1', 'resight.log.2', 'resight.log.3', 'resight.log.4', 'resight.log.5']);
    assert.ok(!fs.readFileSync(path.join(dir, 'resight.log'), 'utf8').includes('YAMADA'));
  });
});
