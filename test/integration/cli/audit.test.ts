/**
 * `resight analyze` leaves its analysis and its exports in the audit trail, and `resight audit`
 * reads the trail back, filtered, as a table or JSON.
 */
import assert from 'node:assert/strict';
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
    assert.match(table.stdout, /cli\s+\|\s+Export \(R\)\s+\|\s+ok\s+\|\s+report\.export\s+\|\s+DEMO\^PHANTOM \[RESIGHT-DEMO-0001\]\s+\|\s+2 files/);
    assert.match(table.stderr, /2 of 2 events/);

    assert.equal(JSON.parse(runCli(['audit', '--json', '--patient', 'someone-else'], { env }).stdout).records.length, 0);
    assert.equal(JSON.parse(runCli(['audit', '--json', '--until', '2000-01-01'], { env }).stdout).records.length, 0);
    assert.equal(runCli(['audit', '--since', 'yesterday'], { env }).status, 2, 'a bad day is a usage error');
    assert.equal(runCli(['audit', '--since', '2026-02-30'], { env }).status, 2, 'a day that does not exist too');
  });

  it('records nothing when RESIGHT_AUDIT=off, and says so', { timeout: 180_000 }, (t) => {
    const work = tempDir(t, 'cli-audit-off');
    const env = { RESIGHT_AUDIT: 'off', RESIGHT_CACHE_DIR: path.join(work, 'cache'), RESIGHT_DATA_DIR: path.join(work, 'data') };
    assert.equal(runCli(['analyze', DEMO, '--json', path.join(work, 'r.json')], { env }).status, 0);
    const r = runCli(['audit'], { env });
    assert.equal(r.status, 0);
    assert.match(r.stderr, /audit trail is off/);
    assert.deepEqual(JSON.parse(runCli(['audit', '--json'], { env }).stdout), { dir: null, records: [], unreadableLines: 0 }, 'a script still gets JSON');
    assert.equal(runCli(['audit', '--json', '--dir', path.join(work, 'data', 'audit')], { env }).stdout.includes('"records": []'), true);
  });
});
