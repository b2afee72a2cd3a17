/** `npm start` without the Electron binary says so and serves the demo study in browser mode. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import { ensureCliBuilt } from '../../helpers/cli';
import { REPO_ROOT } from '../../helpers/corpus';
import { loopbackFetch } from '../../helpers/http';
import { tempDir } from '../../helpers/tmp';

before(ensureCliBuilt, { timeout: 180_000 });

describe('npm start', () => {
  it('falls back to `resight serve resources/demo` and prints the URL when Electron is missing', { timeout: 60_000 }, async (t) => {
    const env = { ...process.env, ELECTRON_OVERRIDE_DIST_PATH: path.join(tempDir(t, 'no-electron'), 'none'), RESIGHT_DATA_DIR: tempDir(t, 'data'), RESIGHT_CACHE_DIR: tempDir(t, 'cache') };
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'scripts', 'start.mjs')], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d) => {
          out += d;
          const m = /ReSight listening on (\S+)/.exec(out);
          if (m) resolve(m[1]);
        });
        child.on('exit', (c) => reject(new Error(`exited ${c}: ${err}`)));
      });
      assert.match(err, /Electron binary is not installed/);
      const res = await loopbackFetch(url);
      assert.equal(res.status, 200);
    } finally {
      child.kill();
    }
  });
});
