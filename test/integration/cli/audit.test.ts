/**
 * `resight analyze` leaves its analysis and its exports in the audit trail, and `resight audit`
 * reads the trail back, filtered, as a table or JSON.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import type { AuditRecord } from '../../../src/core/audit/log';
import { ensureCliBuilt, runCli } from '../../helpers/cli';
import { REPO_ROOT } from '../../helpers/corpus';
import { tempDir } from '../../helpers/tmp';

const DEMO = path.join(REPO_ROOT, 'resources', 'demo');

describe('resight audit', () => {
  before(ensureCliBuilt, { timeout: 180_000 });

  it('lists what analyze read and where its exports went, by patient and day', { timeout: 180_000 }, (t) => {
    const work = tempDir(t, 'cli-audit');
    const env = { RESIGHT_AUDIT_DIR: path.join(work, 'audit'), RESIGHT_CACHE_DIR: path.join(work, 'cache'), RESIGHT_DATA_DIR: path.join(work, 'data') };
    const pdf = path.join(work, 'out', 'r.pdf');
    const run = runCli(['analyze', DEMO, '--report', pdf, '--json', path.join(work, 'out', 'r.json'), '--reviewer', 'Hanako Sato'], { env });
    assert.equal(run.status, 0, run.stderr);

    const listed = runCli(['audit', '--json', '--patient', 'RESIGHT-DEMO-0001'], { env });
    assert.equal(listed.status, 0, listed.stderr);
    const { dir, records } = JSON.parse(listed.stdout) as { dir: string; records: AuditRecord[] };
    assert.equal(dir, env.RESIGHT_AUDIT_DIR);
    assert.deepEqual(records.map((r) => r.what), ['analysis', 'report.export']);
    assert.ok(records.every((r) => r.source.process === 'cli'));
    const exp = records[1];
    assert.deepEqual(exp?.detail, { formats: ['pdf', 'json'], deidentified: false });
    assert.equal(exp?.reviewer, 'Hanako Sato');
    assert.ok(exp?.objects?.some((o) => o.role === 'file' && o.id === pdf));

    const table = runCli(['audit'], { env });
    assert.equal(table.status, 0, table.stderr);
    assert.match(table.stdout, /cli \d+\s+\|\s+Export \(R\)\s+\|\s+ok\s+\|\s+report\.export\s+\|\s+DEMO\^PHANTOM \[RESIGHT-DEMO-0001\]\s+\|\s+2 files in \S+\/out/);
    assert.match(table.stderr, /2 of 2 events/);

    assert.equal(JSON.parse(runCli(['audit', '--json', '--patient', 'someone-else'], { env }).stdout).records.length, 0);
    assert.equal(JSON.parse(runCli(['audit', '--json', '--until', '2000-01-01'], { env }).stdout).records.length, 0);
    assert.equal(runCli(['audit', '--since', 'yesterday'], { env }).status, 2, 'a bad day is a usage error');
    assert.equal(runCli(['audit', '--since', '2026-02-30'], { env }).status, 2, 'a day that does not exist too');
    assert.equal(runCli(['audit', '--what', 'exports'], { env }).status, 2, 'a typo in --what is an error, not "no activity"');
    assert.equal(runCli(['audit', '--dir', path.join(work, 'nowhere')], { env }).status, 1, 'a folder that is not there too');
    // RESIGHT_AUDIT_DIR is a shared folder: each account writes its own file there
    assert.ok(fs.readdirSync(env.RESIGHT_AUDIT_DIR).every((n) => /^audit-\d{4}-\d{2}\.[A-Za-z0-9._-]+\.jsonl$/.test(n)));
  });

  it('records nothing when RESIGHT_AUDIT=off, says so, and still lists what was recorded before', { timeout: 180_000 }, (t) => {
    const work = tempDir(t, 'cli-audit-off');
    const on = { RESIGHT_AUDIT_DIR: '', RESIGHT_CACHE_DIR: path.join(work, 'cache'), RESIGHT_DATA_DIR: path.join(work, 'data') };
    const off = { ...on, RESIGHT_AUDIT: 'off' };
    assert.equal(runCli(['analyze', DEMO, '--json', path.join(work, 'a.json')], { env: on }).status, 0);
    const run = runCli(['analyze', DEMO, '--json', path.join(work, 'r.json')], { env: off });
    assert.equal(run.status, 0);
    assert.match(run.stderr, /audit trail is off/, 'the run says nothing is recorded');
    const r = runCli(['audit', '--json'], { env: off });
    assert.equal(r.status, 0);
    assert.match(r.stderr, /audit trail is off/);
    const listed = JSON.parse(r.stdout) as { dir: string; records: AuditRecord[] };
    assert.equal(listed.dir, path.join(work, 'data', 'audit'));
    assert.deepEqual(listed.records.map((x) => x.what), ['analysis', 'report.export'], 'the first run\'s records, none of the second\'s');
  });
});
