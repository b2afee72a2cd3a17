/**
 * The site policy (core/settings/policy.ts): an administrator's policy.json fixes preferences and
 * where exports may be sent, for every account; user settings, the page and command-line flags
 * cannot change it, and a policy file that cannot be used turns sending off.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { loadSettings, updateSettings } from '../../../../src/core/settings/file';
import { loadPolicy, lockedPreferences, machinePolicyFiles, policyRefusesDestination } from '../../../../src/core/settings/policy';
import { Session } from '../../../../src/core/session/session';
import { tempDir } from '../../../helpers/tmp';

const write = (dir: string, name: string, v: unknown) => {
  const f = path.join(dir, name);
  fs.writeFileSync(f, typeof v === 'string' ? v : JSON.stringify(v));
  return f;
};

describe('site policy', () => {
  it('lives where each platform keeps machine-wide configuration; on Windows the environment can add a file, never move C:\\ProgramData\'s away', () => {
    assert.deepEqual(machinePolicyFiles('linux'), ['/etc/resight/policy.json']);
    assert.deepEqual(machinePolicyFiles('darwin'), ['/Library/Application Support/ReSight/policy.json']);
    assert.deepEqual(machinePolicyFiles('win32', {}), ['C:\\ProgramData\\ReSight\\policy.json']);
    assert.deepEqual(machinePolicyFiles('win32', { ProgramData: 'C:\\programdata' }), ['C:\\ProgramData\\ReSight\\policy.json']);
    // an account that points ProgramData at its own folder still gets the machine's policy
    assert.deepEqual(machinePolicyFiles('win32', { ProgramData: 'C:\\Users\\me\\x' }), ['C:\\ProgramData\\ReSight\\policy.json', 'C:\\Users\\me\\x\\ReSight\\policy.json']);
  });

  it('fixes preferences (the machine\'s file wins over another), and the PACS: one destination, or none when any file says false or two disagree', (t) => {
    const dir = tempDir(t, 'policy');
    const machine = write(dir, 'machine.json', { preferences: { deidentifyByDefault: true, exportFolder: '/srv/exports' }, pacs: { destination: 'PACS@10.0.0.5:104' } });
    const extra = write(dir, 'extra.json', { preferences: { exportFolder: '/elsewhere', provider: 'cpu' } });
    const p = loadPolicy([machine, extra]);
    assert.deepEqual(p.preferences, { deidentifyByDefault: true, exportFolder: '/srv/exports', provider: 'cpu' });
    assert.deepEqual(lockedPreferences(p), ['provider', 'exportFolder', 'deidentifyByDefault']);
    assert.deepEqual(p.pacs, { destination: 'PACS@10.0.0.5:104' });
    assert.equal(policyRefusesDestination(p, 'PACS@10.0.0.5:104'), null);
    assert.match(policyRefusesDestination(p, 'OTHER@10.0.0.9:104') ?? '', /allows sending to PACS@10\.0\.0\.5:104 only/);
    // another file can only add restrictions: false there is no sending, whatever the machine allows
    const off = write(dir, 'off.json', { pacs: false });
    assert.equal(loadPolicy([machine, off]).pacs, false);
    assert.equal(loadPolicy([machine, write(dir, 'other.json', { pacs: { destination: 'OTHER@10.0.0.9:104' } })]).pacs, false, 'two destinations: none');
    assert.equal(loadPolicy([path.join(dir, 'absent.json')]).pacs, undefined, 'no file: the site says nothing');
  });

  it('a policy file that is not valid turns sending off and says why; its valid preferences still hold', (t) => {
    const dir = tempDir(t, 'policy-bad');
    const notJson = loadPolicy([write(dir, 'a.json', '{"pacs": ')]);
    assert.equal(notJson.pacs, false);
    assert.match(notJson.problems.join(), /a\.json is not JSON/);
    assert.match(policyRefusesDestination(notJson, 'PACS@h:104') ?? '', /turned off by the site policy .*not JSON/);
    const partly = loadPolicy([write(dir, 'b.json', { preferences: { deidentifyByDefault: true, threads: 'many' }, pacs: { destination: 'X@h:104' } })]);
    assert.equal(partly.pacs, false);
    assert.deepEqual(partly.preferences, { deidentifyByDefault: true });
    assert.match(partly.problems.join(), /preferences\.threads/);
  });

  it('settings read through it show its values; a change to one is refused, the same value is not a change; the user\'s file keeps its own', (t) => {
    const dir = tempDir(t, 'policy-settings');
    const policy = loadPolicy([write(dir, 'p.json', { preferences: { deidentifyByDefault: true } })]);
    updateSettings(dir, { camMethod: 'hirescam', deidentifyByDefault: true }, policy);
    assert.equal(loadSettings(dir, policy).settings.deidentifyByDefault, true);
    assert.throws(() => updateSettings(dir, { deidentifyByDefault: false }, policy), /deidentifyByDefault is set by the site policy .*p\.json/);
    assert.throws(() => updateSettings(dir, { deidentifyByDefault: null }, policy), /set by the site policy/);
    const own = JSON.parse(fs.readFileSync(path.join(dir, 'settings.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(own.camMethod, 'hirescam');
    assert.equal(own.deidentifyByDefault, undefined, 'the policy\'s value is laid over the file, never saved into it');
  });

  it('the session (the page\'s settings, policy.get, the PACS exports go to) follows RESIGHT_POLICY_FILE', async (t) => {
    const dir = tempDir(t, 'policy-session');
    const saved = process.env.RESIGHT_POLICY_FILE;
    process.env.RESIGHT_POLICY_FILE = write(dir, 'p.json', { preferences: { exportFolder: '/srv/exports' }, pacs: false });
    const session = new Session({ dataDir: path.join(dir, 'data'), cacheDir: null, sliceUrl: () => '', pacs: { destination: 'PACS@127.0.0.1:104' } });
    try {
      assert.equal(session.getPreferences().exportFolder, '/srv/exports');
      assert.throws(() => session.setPreferences({ exportFolder: '/tmp/mine' }), /exportFolder is set by the site policy/);
      const info = session.policyInfo();
      assert.deepEqual([info.locked, info.pacs], [['exportFolder'], 'off']);
      const pacs = session.pacsInfo();
      assert.equal(pacs.destination, null, '--pacs given, and still no sending');
      assert.match(pacs.problem ?? '', /turned off by the site policy/);
    } finally {
      await session.dispose();
      if (saved === undefined) delete process.env.RESIGHT_POLICY_FILE;
      else process.env.RESIGHT_POLICY_FILE = saved;
    }
  });
});
