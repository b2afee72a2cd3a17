/** Exporting from a session: failures are typed and never name an absolute path to the viewer. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { dispatch } from '../../../../src/core/session/dispatch';
import { analysedDemo } from '../../../helpers/session';
import { tempDir } from '../../../helpers/tmp';

describe('Session.exportReport', () => {
  it('an export folder that cannot be made is EXPORT_FAILED, and the reply does not name it', { timeout: 120_000 }, async (t) => {
    const root = tempDir(t, 'export-blocked');
    fs.writeFileSync(path.join(root, 'afile'), 'x');
    const exportDir = path.join(root, 'afile', 'exports');
    const { s, seriesId } = await analysedDemo(t, { exportDir });
    const reply = await dispatch(s, 'report.export', { seriesId, formats: ['json'] });
    assert.ok(!reply.ok);
    assert.equal(reply.error.code, 'EXPORT_FAILED', reply.error.message);
    assert.ok(!reply.error.message.includes(root), reply.error.message);
  });
});
