/**
 * The Electron main process in plain Node: startApp with a mocked `electron` module, the IPC
 * handler's sender checks and validation, the app:// protocol (viewer, slices, exports), the
 * conformance of both transports (the same calls answer the same over IPC and over the bridge),
 * and the slice latency through the protocol handler (reported, not asserted).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type * as ElectronNs from 'electron';
import { WebSocket } from 'ws';
import { fork } from 'node:child_process';
import type { ChildProcess, Serializable } from 'node:child_process';
import type { EngineHost } from '../../../src/main/engine-host';
import { startBridge } from '../../../src/bridge/server';
import type { Bridge } from '../../../src/bridge/server';
import { Session } from '../../../src/core/session/session';
import { defaultDataDir } from '../../../src/core/inference/cache';
import { registerScheme, startApp } from '../../../src/main/app';
import { CALL_CHANNEL, createCallHandler, DROP_CHANNEL } from '../../../src/main/ipc';
import { handleAppRequest, resolverOf } from '../../../src/main/protocol';
import { secureWebPreferences } from '../../../src/main/security';
import { sessionSources } from '../../../src/core/session/resources';
import type { Method, Reply } from '../../../src/shared/api';
import { REPO_ROOT } from '../../helpers/corpus';

const DEMO = path.join(REPO_ROOT, 'resources', 'demo');
const RENDERER = path.join(REPO_ROOT, 'app', 'dist', 'renderer');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'resight-shell-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const trusted = { senderFrame: { url: 'app://resight/index.html', parent: null } };

/** A recording fake of the parts of electron startApp uses. */
function fakeElectron() {
  const rec = {
    schemes: [] as unknown[],
    handled: new Map<string, (req: { url: string; method: string }) => Promise<Response>>(),
    ipc: new Map<string, (...a: unknown[]) => unknown>(),
    windows: [] as { options: Record<string, unknown>; loaded: string[]; handlers: Map<string, (...a: unknown[]) => void>; openHandler?: (d: { url: string }) => { action: string } }[],
    permission: undefined as undefined | ((wc: unknown, perm: string, cb: (ok: boolean) => void) => void),
    menu: [] as { label?: string; submenu?: { label?: string }[] }[],
    engines: [] as ChildProcess[],
  };
  class BrowserWindow {
    webContents: Record<string, unknown>;
    constructor(options: Record<string, unknown>) {
      const w = { options, loaded: [] as string[], handlers: new Map<string, (...a: unknown[]) => void>(), openHandler: undefined as undefined | ((d: { url: string }) => { action: string }) };
      rec.windows.push(w);
      this.webContents = {
        on: (ev: string, fn: (...a: unknown[]) => void) => w.handlers.set(ev, fn),
        setWindowOpenHandler: (fn: (d: { url: string }) => { action: string }) => (w.openHandler = fn),
        send: () => undefined,
        isDestroyed: () => false,
        reload: () => undefined,
        executeJavaScript: async () => undefined,
      };
      this.loadURL = async (u: string) => void w.loaded.push(u);
    }
    loadURL: (u: string) => Promise<void>;
    maximize() {}
    on() {}
    getBounds() {
      return { x: 0, y: 0, width: 1400, height: 900 };
    }
    isMaximized() {
      return false;
    }
  }
  const electron = {
    app: { whenReady: async () => undefined, getPath: () => path.join(tmp, 'electron-userData'), on: () => undefined, quit: () => undefined, isPackaged: false },
    BrowserWindow,
    Menu: { buildFromTemplate: (t: { label?: string; submenu?: { label?: string }[] }[]) => (rec.menu = t), setApplicationMenu: () => undefined },
    dialog: { showOpenDialog: async () => ({ canceled: true, filePaths: [] }) },
    ipcMain: { handle: (ch: string, fn: (...a: unknown[]) => unknown) => rec.ipc.set(ch, fn) },
    protocol: {
      handle: (scheme: string, fn: (req: { url: string; method: string }) => Promise<Response>) => rec.handled.set(scheme, fn),
      registerSchemesAsPrivileged: (s: unknown[]) => rec.schemes.push(...s),
    },
    // the engine process: a Node child running the same entry (TypeScript through tsx) stands in
    // for Electron's utilityProcess (same message API, structured-clone serialization)
    utilityProcess: {
      fork: (entry: string) => {
        const child = fork(entry, [], { execArgv: ['--import', 'tsx'], serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
        rec.engines.push(child);
        return {
          postMessage: (m: unknown) => child.connected && child.send(m as Serializable),
          on: (ev: string, cb: (...a: unknown[]) => void) => (ev === 'exit' ? child.on('exit', (code, signal) => cb(code ?? signal)) : child.on(ev, cb)),
          kill: () => child.kill('SIGKILL'),
        };
      },
    },
    session: { defaultSession: { setPermissionRequestHandler: (fn: typeof rec.permission) => (rec.permission = fn), setPermissionCheckHandler: () => undefined } },
    shell: { openPath: async () => '' },
  };
  return { electron: electron as unknown as typeof ElectronNs, rec };
}

describe('the main process with a mocked electron', () => {
  let rec: ReturnType<typeof fakeElectron>['rec'];
  let engine: EngineHost;
  const savedDataDir = process.env.RESIGHT_DATA_DIR;
  before(
    async () => {
      // the app's data folder is the one resight serve uses: here, the test's
      process.env.RESIGHT_DATA_DIR = path.join(tmp, 'userData');
      const f = fakeElectron();
      rec = f.rec;
      registerScheme(f.electron);
      const r = await startApp(f.electron, { renderer: RENDERER, preload: '/app/dist/preload/index.js', engine: path.join(REPO_ROOT, 'src', 'main', 'engine-child.ts'), demo: DEMO });
      engine = r.engine;
    },
    { timeout: 60_000 },
  );
  after(() => {
    engine?.dispose();
    if (savedDataDir === undefined) delete process.env.RESIGHT_DATA_DIR;
    else process.env.RESIGHT_DATA_DIR = savedDataDir;
  });

  it('keeps its data where resight serve and the CLI keep theirs (RESIGHT_DATA_DIR, else the OS convention), not in Electron\'s userData', () => {
    assert.equal(defaultDataDir(), path.join(tmp, 'userData'));
    assert.ok(fs.existsSync(path.join(tmp, 'userData', 'logs')), 'the log folder is there');
    assert.ok(!fs.existsSync(path.join(tmp, 'electron-userData')), 'nothing of ReSight\'s in Electron\'s userData');
  });

  it('registers app:// as a privileged scheme and loads the viewer from it, not file://', () => {
    assert.deepEqual(rec.schemes, [{ scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true, corsEnabled: false } }]);
    assert.ok(rec.handled.has('app'));
    assert.deepEqual(rec.windows[0].loaded, ['app://resight/index.html']);
  });

  it('creates the window with the secure web preferences', () => {
    // exactly the set tests/unit/main/security.test.ts pins down (context isolation, sandbox, no
    // Node, web security, ...): the values app.ts spells out for static checkers agree with it
    assert.deepEqual(rec.windows[0].options.webPreferences, secureWebPreferences('/app/dist/preload/index.js'));
  });

  it('blocks navigation away and new windows, denies every permission', () => {
    let prevented = false;
    rec.windows[0].handlers.get('will-navigate')?.({ preventDefault: () => (prevented = true) }, 'https://evil.example/');
    assert.ok(prevented, 'navigation to the web is blocked');
    assert.deepEqual(rec.windows[0].openHandler?.({ url: 'https://evil.example/' }), { action: 'deny' });
    let granted: boolean | undefined;
    rec.permission?.(null, 'media', (ok) => (granted = ok));
    assert.equal(granted, false);
  });

  it('has the menus (Open, Open Recent, Export Report, Preferences, Help)', () => {
    const labels = rec.menu.flatMap((m) => [m.label, ...(m.submenu ?? []).map((s) => s.label)]).filter(Boolean);
    for (const l of ['Open…', 'Open Recent', 'Export Report…', 'Preferences…', 'Keyboard Shortcuts']) assert.ok(labels.includes(l), l);
  });

  it('opened the demo study and answers calls over IPC from the app:// window only', async () => {
    const call = rec.ipc.get(CALL_CHANNEL) as (e: unknown, m: unknown, p: unknown) => Promise<Reply<Method>>;
    const ok = await call(trusted, 'studies.list', {});
    assert.ok(ok.ok && (ok.value as { studies: unknown[] }).studies.length === 1);
    for (const frame of [{ url: 'file:///x/index.html', parent: null }, { url: 'https://evil.example/', parent: null }, { url: 'app://resight/index.html', parent: {} }, null]) {
      const r = await call({ senderFrame: frame }, 'studies.list', {});
      assert.equal(!r.ok && r.error.code, 'ACCESS_DENIED', JSON.stringify(frame));
    }
    const bad = await call(trusted, 'series.get', { seriesId: 42 });
    assert.equal(!bad.ok && bad.error.code, 'VALIDATION');
    const outside = await call(trusted, 'studies.open', { paths: ['/etc'] });
    assert.equal(!outside.ok && outside.error.code, 'ACCESS_DENIED', 'only granted paths');
  });

  it('opens dropped paths (resolved by the preload) only from the window, only if they exist', async () => {
    const drop = rec.ipc.get(DROP_CHANNEL) as (e: unknown, paths: unknown) => Promise<Reply<Method>>;
    const ok = await drop(trusted, [DEMO]);
    assert.ok(ok.ok, JSON.stringify(ok));
    assert.equal(((await drop({ senderFrame: { url: 'https://evil.example/', parent: null } }, [DEMO])) as { error?: { code: string } }).error?.code, 'ACCESS_DENIED');
    assert.equal(((await drop(trusted, ['/no/such/folder'])) as { error?: { code: string } }).error?.code, 'FILE_UNREADABLE');
    for (const bad of [[], 'x', [42], null]) assert.equal(((await drop(trusted, bad)) as { error?: { code: string } }).error?.code, 'VALIDATION', JSON.stringify(bad));
  });

  it('serves the viewer, slices and nothing outside its folders through app://', async (t) => {
    const handle = rec.handled.get('app') as (req: { url: string; method: string }) => Promise<Response>;
    const index = await handle({ url: 'app://resight/index.html', method: 'GET' });
    if (fs.existsSync(path.join(RENDERER, 'index.html'))) assert.equal(index.status, 200);
    assert.match(index.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    const listed = (await engine.call('studies.list', {})) as { ok: true; value: { studies: { series: { id: string }[] }[] } };
    const seriesId = listed.value.studies[0].series[0].id;
    const slice = await handle({ url: `app://resight/series/${encodeURIComponent(seriesId)}/slice/0`, method: 'GET' });
    assert.equal(slice.status, 200);
    assert.equal(slice.headers.get('x-resight-rows'), '512');
    assert.equal((await slice.arrayBuffer()).byteLength, 512 * 512 * 2);
    // latency of a 512x512 slice from the engine process through app:// (reported, not asserted)
    for (let i = 0; i < 45; i++) await (await handle({ url: `app://resight/series/${encodeURIComponent(seriesId)}/slice/${i}`, method: 'GET' })).arrayBuffer();
    const times: number[] = [];
    for (let i = 0; i < 60; i++) {
      const t0 = performance.now();
      await (await handle({ url: `app://resight/series/${encodeURIComponent(seriesId)}/slice/${i % 45}`, method: 'GET' })).arrayBuffer();
      times.push(performance.now() - t0);
    }
    times.sort((x, y) => x - y);
    t.diagnostic(`512x512 slice from the engine process via app:// (decoded before): median ${times[30].toFixed(2)} ms, p95 ${times[57].toFixed(2)} ms (target < 5 ms)`);
    assert.equal((await handle({ url: 'app://resight/..%2F..%2F..%2Fetc%2Fpasswd', method: 'GET' })).status, 404);
    assert.equal((await handle({ url: 'app://other/index.html', method: 'GET' })).status, 404);
    assert.equal((await handle({ url: 'app://resight/index.html', method: 'POST' })).status, 405);
  });

  it('a crash of the engine process never takes the window down: it restarts, re-opens the study and says so', { timeout: 90_000 }, async () => {
    const call = rec.ipc.get(CALL_CHANNEL) as (e: unknown, m: unknown, p: unknown) => Promise<Reply<Method>>;
    const restarted = new Promise<{ reason: string; restarts: number }>((resolve) => engine.onEvent((e, p) => e === 'engine.restarted' && resolve(p as { reason: string; restarts: number })));
    const inFlight = call(trusted, 'model.get', {});
    rec.engines[rec.engines.length - 1].kill('SIGKILL');
    const r = await inFlight;
    assert.equal(!r.ok && r.error.code, 'INTERNAL', 'the call in flight gets a typed error, not a hang');
    const ev = await restarted;
    assert.equal(ev.restarts, 1);
    assert.match(ev.reason, /SIGKILL/);
    const list = (await call(trusted, 'studies.list', {})) as { ok: true; value: { studies: unknown[] } };
    assert.equal(list.ok, true);
    assert.equal(list.value.studies.length, 1, 'the demo study is open again');
    const handle = rec.handled.get('app') as (req: { url: string; method: string }) => Promise<Response>;
    const seriesId = (list.value.studies[0] as { series: { id: string }[] }).series[0].id;
    assert.equal((await handle({ url: `app://resight/series/${encodeURIComponent(seriesId)}/slice/1`, method: 'GET' })).status, 200);
  });
});

describe('both transports answer the contract alike (conformance)', () => {
  let bridge: Bridge;
  let ws: WebSocket;
  let ipcSession: Session;
  let next = 1;
  const pending = new Map<number, (r: Reply<Method>) => void>();
  before(async () => {
    bridge = await startBridge({ grant: [DEMO], dataDir: path.join(tmp, 'b-data'), cacheDir: null });
    ws = new WebSocket(`ws://127.0.0.1:${bridge.port}/ws?token=${bridge.token}`);
    ws.on('message', (d) => {
      const m = JSON.parse(String(d)) as { id?: number; reply?: Reply<Method> };
      if (typeof m.id === 'number' && m.reply) pending.get(m.id)?.(m.reply);
    });
    await new Promise((r) => ws.once('open', r));
    ipcSession = new Session({ dataDir: path.join(tmp, 'i-data'), cacheDir: null, sliceUrl: (id) => `app://resight/series/${id}/slice/{i}` });
    ipcSession.grant([DEMO]);
  });
  after(async () => {
    ws?.close();
    await bridge?.close();
    await ipcSession?.dispose();
  });
  const overBridge = (method: string, params: unknown) =>
    new Promise<Reply<Method>>((resolve) => {
      const id = next++;
      pending.set(id, resolve);
      ws.send(JSON.stringify({ id, method, params }));
    });
  const overIpc = (method: string, params: unknown) => createCallHandler(ipcSession)(trusted, method, params);
  /** Transport-specific fields (URLs carry each transport's scheme and token). */
  const normalize = (v: unknown) => JSON.parse(JSON.stringify(v).replace(/"(sliceUrl|url)":"[^"]*"/g, '"$1":"<url>"')) as unknown;

  it('the same calls give the same replies over IPC and over the bridge', async (t) => {
    const calls: [string, unknown][] = [['studies.open', { paths: [DEMO] }], ['studies.list', {}]];
    for (const [m, p] of calls) assert.deepEqual(normalize(await overIpc(m, p)), normalize(await overBridge(m, p)), m);
    const list = (await overIpc('studies.list', {})) as { ok: true; value: { studies: { series: { id: string }[] }[] } };
    const seriesId = list.value.studies[0].series[0].id;
    const more: [string, unknown][] = [
      ['series.get', { seriesId }],
      ['instance.tags', { seriesId, slice: 3 }],
      ['slice.overlays', { seriesId, slice: 3 }],
      ['review.get', { seriesId }],
      ['analysis.get', { seriesId }],
      ['series.get', { seriesId: 'nope' }],
      ['series.get', { seriesId: 42 }],
      ['no.such', {}],
      ['explain.slice', { seriesId, slice: -1 }],
      ['report.export', { seriesId, formats: ['pdf'] }],
    ];
    for (const [m, p] of more) assert.deepEqual(normalize(await overIpc(m, p)), normalize(await overBridge(m, p)), `${m} ${JSON.stringify(p)}`);
    const a = (await overIpc('review.set', { seriesId, findingId: 'f:1-2', decision: 'accepted' })) as { ok: true; value: { at: string } };
    const b = (await overBridge('review.set', { seriesId, findingId: 'f:1-2', decision: 'accepted' })) as { ok: true; value: { at: string } };
    assert.deepEqual({ ...a.value, at: '' }, { ...b.value, at: '' });

    // a 512x512 slice through the protocol handler, the Electron path minus Electron
    for (let i = 0; i < 45; i++) await (await handleAppRequest(resolverOf(sessionSources(ipcSession, undefined)), `app://resight/series/${encodeURIComponent(seriesId)}/slice/${i}`)).arrayBuffer();
    const times: number[] = [];
    for (let i = 0; i < 60; i++) {
      const t0 = performance.now();
      const r = await handleAppRequest(resolverOf(sessionSources(ipcSession, undefined)), `app://resight/series/${encodeURIComponent(seriesId)}/slice/${i % 45}`);
      await r.arrayBuffer();
      times.push(performance.now() - t0);
    }
    times.sort((x, y) => x - y);
    t.diagnostic(`512x512 slice via app:// handler (slices decoded once before): median ${times[30].toFixed(2)} ms, p95 ${times[57].toFixed(2)} ms (target < 5 ms)`);
  });
});
