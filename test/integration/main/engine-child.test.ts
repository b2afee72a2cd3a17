/**
 * The desktop engine process is stopped by a kill (utilityProcess.kill: SIGTERM): it writes the
 * session's end into the audit trail before it goes, so the trail has a stop for each start.
 */
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { readAudit } from '../../../src/core/audit/log';
import { REPO_ROOT } from '../../helpers/corpus';
import { tempDir } from '../../helpers/tmp';

describe('engine process and the audit trail', () => {
  it('records session.stop when it is terminated', { timeout: 60_000 }, async (t) => {
    const root = tempDir(t, 'engine-child-audit');
    const audit = path.join(root, 'audit');
    const child = fork(path.join(REPO_ROOT, 'src', 'main', 'engine-child.ts'), [], {
      execArgv: ['--import', 'tsx'],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, RESIGHT_AUDIT_DIR: audit },
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.send({ type: 'init', options: { dataDir: path.join(root, 'data'), cacheDir: null } });
    // the session is made on init; a call answered means it exists
    const answered = new Promise<void>((resolve) => child.on('message', (m: { type?: string }) => m.type === 'reply' && resolve()));
    child.send({ type: 'call', id: 1, method: 'studies.list', params: {} });
    await answered;
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.deepEqual(readAudit(audit).records.map((r) => `${r.what} ${r.source.process}`), ['session.start desktop', 'session.stop desktop']);
  });
});
