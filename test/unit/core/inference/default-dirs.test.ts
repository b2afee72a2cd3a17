/**
 * Where the data and the cache go by default: RESIGHT_DATA_DIR / RESIGHT_CACHE_DIR made absolute,
 * else the platform's convention; an empty or relative XDG_DATA_HOME / XDG_CACHE_HOME counts as
 * unset (as the XDG spec says), never as the current folder, which could be a study folder.
 */
import assert from 'node:assert/strict';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { defaultCacheDir, defaultDataDir } from '../../../../src/core/inference/cache';
import { relativeFolderVariables } from '../../../../src/core/settings/env';

function withEnv<T>(vars: Record<string, string | undefined>, fn: () => T): T {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  try {
    for (const [k, v] of Object.entries(vars)) if (v === undefined) delete process.env[k];
    else process.env[k] = v;
    return fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
}

describe('default data and cache folders', { skip: process.platform !== 'linux' && 'the XDG rules are Linux\'s' }, () => {
  it('an empty or relative XDG folder is not the current folder', () => {
    for (const bad of ['', 'relative/dir']) {
      withEnv({ RESIGHT_DATA_DIR: undefined, RESIGHT_CACHE_DIR: undefined, XDG_DATA_HOME: bad, XDG_CACHE_HOME: bad }, () => {
        assert.equal(defaultDataDir(), path.join(os.homedir(), '.local', 'share', 'resight'), `XDG_DATA_HOME='${bad}'`);
        assert.equal(defaultCacheDir(), path.join(os.homedir(), '.cache', 'resight', 'analysis'), `XDG_CACHE_HOME='${bad}'`);
      });
    }
    withEnv({ RESIGHT_DATA_DIR: undefined, XDG_DATA_HOME: '/srv/xdg' }, () => assert.equal(defaultDataDir(), '/srv/xdg/resight'));
  });

  it('a relative RESIGHT_DATA_DIR or RESIGHT_CACHE_DIR is not used: it would follow the current folder, a study folder perhaps', () => {
    withEnv({ RESIGHT_DATA_DIR: 'rel/data', RESIGHT_CACHE_DIR: 'rel/cache' }, () => {
      assert.notEqual(defaultDataDir(), path.resolve('rel/data'));
      assert.notEqual(defaultCacheDir(), path.resolve('rel/cache'));
      assert.ok(path.isAbsolute(defaultDataDir()) && path.isAbsolute(defaultCacheDir()));
      assert.deepEqual(relativeFolderVariables(), ['RESIGHT_DATA_DIR', 'RESIGHT_CACHE_DIR']);
    });
    withEnv({ RESIGHT_DATA_DIR: '/abs/data', RESIGHT_CACHE_DIR: '/abs/cache' }, () => {
      assert.equal(defaultDataDir(), '/abs/data');
      assert.equal(defaultCacheDir(), '/abs/cache');
      assert.deepEqual(relativeFolderVariables(), []);
    });
  });
});
