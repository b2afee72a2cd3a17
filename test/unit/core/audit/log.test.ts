/**
 * The audit trail's file: one JSON line per event in a file per UTC month, private to the user,
 * read back in time order; where it goes is the environment's choice; a trail that cannot be
 * written says so once and never stops the work.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { AuditLog, auditDirFor, auditFileFor, openAuditLog, readAudit } from '../../../../src/core/audit/log';
import { tempDir } from '../../../helpers/tmp';

describe('where the audit trail goes', () => {
  it('is the data folder\'s audit/ by default, RESIGHT_AUDIT_DIR when set, and nowhere when RESIGHT_AUDIT=off or there is no data folder', () => {
    assert.equal(auditDirFor('/data/resight', {}), path.resolve('/data/resight/audit'));
    assert.equal(auditDirFor('/data/resight', { RESIGHT_AUDIT_DIR: '/var/log/resight' }), path.resolve('/var/log/resight'));
    assert.equal(auditDirFor(undefined, { RESIGHT_AUDIT_DIR: '/var/log/resight' }), path.resolve('/var/log/resight'));
    assert.equal(auditDirFor(undefined, {}), null);
    // a relative folder would follow the current folder (a study folder perhaps): not used
    assert.equal(auditDirFor('/data/resight', { RESIGHT_AUDIT_DIR: 'audit-here' }), path.resolve('/data/resight/audit'));
    for (const off of ['off', 'OFF', '0', 'false', 'no']) assert.equal(auditDirFor('/data/resight', { RESIGHT_AUDIT: off, RESIGHT_AUDIT_DIR: '/x' }), null, off);
    assert.equal(openAuditLog('/data/resight', 'cli', undefined, { RESIGHT_AUDIT: 'off' }), null);
    assert.equal(openAuditLog('/data/resight', 'cli', undefined, {})?.dir, path.resolve('/data/resight/audit'));
  });

  it('keeps one file per UTC month', () => {
    assert.equal(path.basename(auditFileFor('/a', new Date('2026-11-30T23:59:59.999Z'))), 'audit-2026-11.jsonl');
    assert.equal(path.basename(auditFileFor('/a', new Date('2026-12-01T00:00:00.000Z'))), 'audit-2026-12.jsonl');
  });
});

describe('AuditLog', () => {
  it('appends one DICOM-coded record per event, private to the user, and reads them back in time order across months', (t) => {
    const dir = path.join(tempDir(t, 'audit'), 'audit');
    const log = new AuditLog(dir, 'serve');
    // written out of order, across a month boundary, as two processes sharing the trail would
    log.record({ event: 'export', action: 'R', what: 'report.export', patients: [{ id: 'MRN-1', name: 'Yamada^Taro' }], objects: [{ role: 'file', id: '/x/r.pdf' }], detail: { formats: ['pdf'], deidentified: false } }, new Date('2026-12-01T00:00:01Z'));
    const first = log.record({ event: 'instancesAccessed', action: 'R', what: 'study.open', patients: [{ id: 'MRN-1', name: 'Yamada^Taro' }] }, new Date('2026-11-30T10:00:00Z'));
    log.record({ event: 'applicationActivity', type: 'applicationStart', action: 'E', what: 'session.start' }, new Date('2026-11-30T09:00:00Z'));

    assert.deepEqual(fs.readdirSync(dir).sort(), ['audit-2026-11.jsonl', 'audit-2026-12.jsonl']);
    const lines = fs.readFileSync(path.join(dir, 'audit-2026-11.jsonl'), 'utf8').split('\n');
    assert.equal(lines.length, 3, 'two records, each one line ending in a newline');
    assert.deepEqual(JSON.parse(lines[0] as string), first);
    assert.deepEqual(first?.event, { code: '110103', scheme: 'DCM', meaning: 'DICOM Instances Accessed' });
    assert.equal(first?.outcome, 0);
    assert.equal(first?.source.process, 'serve');
    assert.equal(first?.source.pid, process.pid);
    assert.ok(first?.user);
    if (process.platform !== 'win32') {
      assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
      assert.equal(fs.statSync(path.join(dir, 'audit-2026-11.jsonl')).mode & 0o777, 0o600);
    }

    fs.appendFileSync(path.join(dir, 'audit-2026-12.jsonl'), 'not json\n{"v":2}\n');
    const { records, badLines } = readAudit(dir);
    assert.deepEqual(records.map((r) => r.what), ['session.start', 'study.open', 'report.export']);
    assert.deepEqual(records[0]?.type, { code: '110120', scheme: 'DCM', meaning: 'Application Start' });
    assert.equal(badLines, 2);
    assert.deepEqual(readAudit(path.join(dir, 'none')), { records: [], badLines: 0, unreadableFiles: [] });
  });

  it('narrows a folder that existed with wider modes: the trail names patients', { skip: process.platform === 'win32' && 'POSIX modes' }, (t) => {
    const dir = path.join(tempDir(t, 'audit-open'), 'audit');
    fs.mkdirSync(dir, { mode: 0o755 });
    fs.chmodSync(dir, 0o755);
    new AuditLog(dir, 'cli').record({ event: 'export', action: 'R', what: 'report.export' });
    assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
  });

  it('in a shared folder (RESIGHT_AUDIT_DIR) leaves the folder\'s modes alone and writes one group-readable file per account', { skip: process.platform === 'win32' && 'POSIX modes' }, (t) => {
    const dir = tempDir(t, 'audit-shared');
    fs.chmodSync(dir, 0o1777);
    const log = openAuditLog(undefined, 'cli', undefined, { RESIGHT_AUDIT_DIR: dir });
    log?.record({ event: 'export', action: 'R', what: 'report.export' }, new Date('2026-11-30T12:00:00Z'));
    assert.equal(fs.statSync(dir).mode & 0o7777, 0o1777, 'the administrator\'s modes stay');
    const files = fs.readdirSync(dir);
    assert.equal(files.length, 1);
    assert.match(files[0] as string, /^audit-2026-11\.[A-Za-z0-9._-]+\.jsonl$/);
    assert.equal(fs.statSync(path.join(dir, files[0] as string)).mode & 0o777, 0o640);
    assert.equal(readAudit(dir).records.length, 1, 'read back with the others');
    // a file this account cannot read (another account's, closed to it; here a folder by that name) is listed, not fatal
    fs.mkdirSync(path.join(dir, 'audit-2026-11.other.jsonl'));
    const r = readAudit(dir);
    assert.equal(r.records.length, 1, 'the rest is still read');
    assert.deepEqual(r.unreadableFiles, ['audit-2026-11.other.jsonl']);
  });

  it('in a shared folder, a file another account planted under this account\'s name gets none of its records: a link, one it owns, one others may write', { skip: process.platform === 'win32' && 'POSIX modes and owners' }, (t) => {
    const at = new Date('2026-11-30T12:00:00Z');
    const planted = (plant: (file: string, dir: string) => void): { said: string[]; dir: string; file: string } => {
      const dir = tempDir(t, 'audit-planted');
      fs.chmodSync(dir, 0o1777);
      const said: string[] = [];
      const log = openAuditLog(undefined, 'cli', (m) => said.push(m), { RESIGHT_AUDIT_DIR: dir }) as AuditLog;
      const file = auditFileFor(dir, at, os.userInfo().username);
      plant(file, dir);
      assert.equal(log.record({ event: 'export', action: 'R', what: 'report.export', patients: [{ id: 'MRN-1', name: 'Yamada^Taro' }] }, at), null);
      return { said, dir, file };
    };
    // a link to a file of this account's that the planter cannot read: not followed
    const victim = planted((file, dir) => {
      fs.writeFileSync(path.join(dir, 'victim'), 'mine\n', { mode: 0o600 });
      fs.symlinkSync(path.join(dir, 'victim'), file);
    });
    assert.equal(fs.readFileSync(path.join(victim.dir, 'victim'), 'utf8'), 'mine\n');
    assert.match(victim.said.join(), /could not be written .*ELOOP/);
    // a file others may write to (and so truncate)
    const open = planted((file) => {
      fs.writeFileSync(file, '');
      fs.chmodSync(file, 0o666);
    });
    assert.equal(fs.readFileSync(open.file, 'utf8'), '');
    assert.match(open.said.join(), /EPERMISSIVE/);
    // a file another account owns (only root can make one here)
    if (process.getuid?.() === 0) {
      const theirs = planted((file) => {
        fs.writeFileSync(file, '', { mode: 0o600 });
        fs.chownSync(file, 65534, 65534);
      });
      assert.equal(fs.readFileSync(theirs.file, 'utf8'), '');
      assert.match(theirs.said.join(), /EOWNER/);
    }
  });

  it('says, once, when it is switched off', () => {
    const said: string[] = [];
    assert.equal(openAuditLog('/data/resight', 'cli', (m) => said.push(m), { RESIGHT_AUDIT: 'off' }), null);
    assert.match(said.join(), /audit trail is off \(RESIGHT_AUDIT=off\)/);
  });

  it('that cannot write says so once and lets the work go on', (t) => {
    const root = tempDir(t, 'audit-blocked');
    fs.writeFileSync(path.join(root, 'afile'), 'x');
    const said: string[] = [];
    const log = new AuditLog(path.join(root, 'afile', 'audit'), 'cli', (m) => said.push(m));
    assert.equal(log.record({ event: 'export', action: 'R', what: 'report.export' }), null);
    assert.equal(log.record({ event: 'export', action: 'R', what: 'report.export' }), null);
    assert.equal(said.length, 1);
    assert.match(said[0] as string, /audit trail could not be written .*afile.*the work goes on/);
  });
});
