/** The shell's security settings are the secure ones (issue 7, docs/security.md). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CSP, isTrustedSenderUrl, secureWebPreferences } from '../../../src/main/security';
import { scrub } from '../../../src/main/log';
import { guardFolderSettings } from '../../../src/main/ipc';

describe('window and CSP', () => {
  it('BrowserWindow: context isolation, sandbox, no Node, web security on', () => {
    const p = secureWebPreferences('/x/preload.js');
    assert.equal(p.contextIsolation, true);
    assert.equal(p.sandbox, true);
    assert.equal(p.nodeIntegration, false);
    assert.equal(p.nodeIntegrationInWorker, false);
    assert.equal(p.nodeIntegrationInSubFrames, false);
    assert.equal(p.webSecurity, true);
    assert.equal(p.allowRunningInsecureContent, false);
    assert.equal(p.webviewTag, false);
    assert.equal(p.preload, '/x/preload.js');
  });

  it('CSP: own origin only, no inline or eval script, no plugins', () => {
    const d = Object.fromEntries(CSP.split(';').map((x) => x.trim().split(/\s+/)).map(([k, ...v]) => [k, v]));
    assert.deepEqual(d['default-src'], ["'self'"]);
    assert.deepEqual(d['script-src'], ["'self'"]);
    assert.deepEqual(d['object-src'], ["'none'"]);
    assert.deepEqual(d['base-uri'], ["'none'"]);
    assert.ok(!CSP.includes('unsafe-eval'));
    assert.ok(!/script-src[^;]*unsafe-inline/.test(CSP));
  });

  it('IPC is trusted from app://resight only', () => {
    assert.equal(isTrustedSenderUrl('app://resight/index.html'), true);
    for (const u of ['file:///etc/passwd', 'https://resight/index.html', 'app://evil/index.html', 'http://127.0.0.1:8080/', '', null, 'not a url']) assert.equal(isTrustedSenderUrl(u), false, String(u));
  });

  it('the log never holds paths or UIDs', () => {
    assert.equal(scrub('open /home/pat/YAMADA^TARO/CT0001.dcm failed'), 'open <path> failed');
    assert.equal(scrub('series 1.2.840.113619.2.55.3 done'), 'series <uid> done');
    assert.equal(scrub('C:\\Users\\x\\study\\a.dcm'), '<path>');
    // folder names with spaces: no part of the name is left behind
    assert.equal(scrub('cannot read /data/Smith John/CT 1/x.dcm: truncated'), 'cannot read <path>: truncated');
    assert.equal(scrub('C:\\Data\\DOE JOHN 1960\\CT\\a.dcm missing'), '<path> missing');
    assert.equal(scrub('cannot read /data/CT/Smith John.dcm: truncated'), 'cannot read <path>: truncated');
    // a last name without an extension (a folder) runs to the end of its clause: no "John" left behind
    assert.equal(scrub('open failed for /data/Smith John'), 'open failed for <path>');
    assert.equal(scrub('cannot write /data/Smith John (EACCES)'), 'cannot write <path> (EACCES)');
    assert.equal(scrub('cannot open /data/Smith, John: EACCES'), 'cannot open <path>: EACCES');
    assert.equal(scrub("open failed for /data/O'Brien Pat"), 'open failed for <path>');
  });

  it('a folder setting from the renderer (model, exports) takes effect only once the user confirms it in the main process', async () => {
    const passed: unknown[] = [];
    const asked: string[] = [];
    const stored: Record<string, unknown> = { modelFolder: '/models/approved' };
    const call = async (method: string, params: unknown) => {
      if (method === 'settings.get') return { ok: true as const, value: stored } as never;
      passed.push([method, params]);
      return { ok: true as const, value: {} } as never;
    };
    let answer = false;
    const guarded = guardFolderSettings(call, async (setting, folder) => {
      asked.push(`${setting}=${folder}`);
      return answer;
    });
    const denied = await guarded('settings.set', { exportFolder: '/home/someone', camMethod: 'hirescam' });
    assert.equal(denied.ok, false);
    assert.equal(!denied.ok && denied.error.code, 'ACCESS_DENIED');
    assert.deepEqual(passed, [], 'nothing of the call reaches the engine');
    answer = true;
    assert.equal((await guarded('settings.set', { modelFolder: '/models/mine' })).ok, true);
    assert.deepEqual(asked, ['exportFolder=/home/someone', 'modelFolder=/models/mine']);
    await guarded('settings.set', { exportFolder: null, camMethod: 'gradcam' });
    await guarded('studies.list', {});
    answer = false;
    assert.equal((await guarded('settings.set', { modelFolder: '/models/approved', camMethod: 'layercam' })).ok, true, 'the folder already set, sent back with another change');
    assert.equal(asked.length, 2, 'a reset to the default folder, a folder already set and other calls ask nothing');
    assert.equal(passed.length, 4);
  });
});

