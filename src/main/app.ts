/**
 * The Electron main process: a thin adapter that wires the core Session to a window. Electron
 * is passed in (index.ts passes the real module; tests a fake), so everything here runs in
 * plain Node under test.
 *
 * - one hardened BrowserWindow (security.ts) loading the viewer from app://resight, never file://;
 *   navigation and new windows blocked, every permission request denied;
 * - the contract over IPC (ipc.ts), sender-checked and zod-validated, answered by the engine
 *   process (engine-child.ts), which restarts after a crash (engine-host.ts); events forwarded;
 * - the renderer reads only what the user granted: paths picked in the Open dialog (or recent);
 * - menus: Open, Open recent, Export report, Preferences (the settings file), Help;
 * - window state and settings in the app data folder; a rotating log without patient data.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as ElectronNs from 'electron';
import type { BrowserWindow as BrowserWindowT, MenuItemConstructorOptions } from 'electron';
import type { ProviderProbe } from '../core/inference/provider-probe';
import { runProbeProcess } from '../core/inference/provider-probe';
import { defaultDataDir } from '../core/inference/cache';
import { auditDirFor } from '../core/audit/log';
import { migrateDataDir } from './data-dir';
import { inside } from '../core/session/resources';
import { exportRootOf } from '../core/session/session';
import { EngineHost } from './engine-host';
import type { EngineChannel } from './engine-host';
import type { ChildMessage } from './engine-protocol';
import { CALL_CHANNEL, createCallHandler, createDropHandler, DROP_CHANNEL, forwardEvents, guardFolderSettings } from './ipc';
import type { ConfirmFolder } from './ipc';
import { RotatingLog } from './log';
import { handleAppRequest, resolverOf } from './protocol';
import { APP_ORIGIN, APP_SCHEME, secureWebPreferences } from './security';
import { loadSettings, modelCardIn, updateSettings } from './settings';
import type { Settings } from './settings';

type ElectronModule = typeof ElectronNs;

export interface AppPaths {
  /** The built viewer (app/dist/renderer). */
  renderer: string;
  /** The compiled preload (app/dist/preload/index.js). */
  preload: string;
  /** The bundled demo study, opened when the app starts without arguments. */
  demo?: string | undefined;
  /** The compiled engine process entry (app/dist/main/engine-child.js). */
  engine: string;
  /** The compiled GPU check (app/dist/main/gpu-check.js), run for the engine (probe-relay.ts). */
  gpuCheck?: string | undefined;
}

/** Start the engine process as an Electron utility process. */
export function spawnEngine(electron: Pick<ElectronModule, 'utilityProcess'>, entry: string): EngineChannel {
  const child = electron.utilityProcess.fork(entry, [], { serviceName: 'ReSight engine', stdio: 'inherit' });
  return {
    post: (msg) => child.postMessage(msg),
    onMessage: (cb) => child.on('message', (m: ChildMessage) => cb(m)),
    onExit: (cb) => {
      child.on('exit', (code: number) => cb(`exit code ${code}`));
      // a V8 fatal error (out of memory, ...) is reported as 'error' before the exit; never unhandled
      child.on('error', () => undefined);
    },
    kill: () => void child.kill(),
  };
}

/**
 * The engine's GPU checks, each in a utility process (gpu-check.js): the engine, itself a utility
 * process, cannot start one, and the app binary does not run as Node (probe-relay.ts).
 */
export function utilityProbe(electron: Pick<ElectronModule, 'utilityProcess'>, entry: string): ProviderProbe {
  return (provider, modelPath) =>
    modelPath
      ? runProbeProcess(provider, () => {
          const child = electron.utilityProcess.fork(entry, [provider, modelPath], { serviceName: 'ReSight GPU check', stdio: ['ignore', 'pipe', 'ignore'] });
          return {
            stdout: child.stdout,
            kill: () => void child.kill(),
            onExit: (cb) => void child.once('exit', (code: number) => cb(code)),
            onError: (cb) => void child.once('error', (type: string, location: string) => cb(new Error(`${type} at ${location}`))),
          };
        })
      : Promise.resolve(null);
}

/** Register app:// as a privileged scheme: must run before the app is ready. */
export function registerScheme(electron: Pick<ElectronModule, 'protocol'>): void {
  electron.protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true, corsEnabled: false } }]);
}

export async function startApp(electron: ElectronModule, paths: AppPaths, argv: string[] = []): Promise<{ engine: EngineHost; window: BrowserWindowT }> {
  const { app, BrowserWindow, Menu, dialog, ipcMain, protocol, session: electronSession, shell } = electron;
  await app.whenReady();
  // ReSight's own data (settings, decisions, exports, logs) in the folder `resight serve` and the
  // CLI use (RESIGHT_DATA_DIR, else the OS convention): one admin's settings.json and one set of
  // decisions whichever way the viewer runs. Electron's userData (Chromium's own files) differs on
  // Linux (~/.config/<name>, the name even differing between development and packaged builds).
  const dataDir = defaultDataDir();
  // what an earlier version kept in userData comes along once (data-dir.ts)
  let migrated: string[] = [];
  let migrationProblem = '';
  try {
    migrated = migrateDataDir(app.getPath('userData'), dataDir);
  } catch (err) {
    migrationProblem = `could not copy the earlier data folder ${app.getPath('userData')} into ${dataDir}: ${(err as Error).message}`;
  }
  const log = new RotatingLog(path.join(dataDir, 'logs'));
  // the engine process writes the audit trail there (core/audit); Help opens the folder
  const auditDir = auditDirFor(dataDir);
  if (migrated.length) log.write('info', `copied ${migrated.join(', ')} from the earlier data folder ${app.getPath('userData')} into ${dataDir}`);
  if (migrationProblem) log.write('warn', migrationProblem);
  const { settings, problem } = loadSettings(dataDir);
  if (problem) log.write('warn', problem);
  // The core Session runs in an engine process (engine-child.ts): a native crash there (ONNX
  // Runtime, a codec) restarts it and the window stays.
  const engineOptions = { modelCard: modelCardIn(settings.modelFolder), provider: settings.provider, threads: settings.threads, dataDir, exportDir: settings.exportFolder || undefined };
  const engine = new EngineHost(() => spawnEngine(electron, paths.engine), engineOptions, paths.gpuCheck ? utilityProbe(electron, paths.gpuCheck) : undefined, (m) => log.write('warn', m));
  engine.onEvent((event, payload) => {
    if (event === 'engine.restarted') log.write('error', `engine restarted: ${(payload as { reason: string }).reason}`);
  });
  const exportRoot = exportRootOf(engineOptions);

  const resolve = resolverOf({ slice: (id, i) => engine.slice(id, i), exportRoot, staticDir: paths.renderer });
  protocol.handle(APP_SCHEME, (req) => handleAppRequest(resolve, req.url, req.method));
  // No permission (camera, notifications, geolocation, ...) is ever granted to the renderer.
  electronSession.defaultSession.setPermissionRequestHandler((_wc, _perm, cb) => cb(false));
  electronSession.defaultSession.setPermissionCheckHandler(() => false);
  // the window the confirmation belongs to (made below; calls arrive only once it exists)
  const mainWindow: { current?: BrowserWindowT } = {};
  const confirmFolder: ConfirmFolder = async (setting, folder) => {
    const what = setting === 'modelFolder' ? 'load models from' : 'write and serve exports from';
    const options = { type: 'question' as const, buttons: ['Use this folder', 'Cancel'], defaultId: 1, cancelId: 1, title: 'ReSight', message: `Let ReSight ${what} this folder from its next start?`, detail: folder };
    const r = mainWindow.current ? await dialog.showMessageBox(mainWindow.current, options) : await dialog.showMessageBox(options);
    const ok = r.response === 0;
    log.write('info', `${setting} change ${ok ? 'confirmed' : 'declined'} in the main process dialog`);
    return ok;
  };
  ipcMain.handle(CALL_CHANNEL, createCallHandler(guardFolderSettings((m, p) => engine.call(m, p), confirmFolder)));
  ipcMain.handle(
    DROP_CHANNEL,
    createDropHandler(async (dropped) => {
      engine.grant(dropped);
      const r = await engine.call('studies.open', { paths: dropped });
      log.write('info', r.ok ? 'opened dropped files' : `dropped files not opened: ${r.error.code}`);
      return r;
    }, fs.existsSync),
  );

  const w = settings.window;
  const win = new BrowserWindow({
    width: w.width ?? 1400,
    height: w.height ?? 900,
    ...(w.x !== undefined && w.y !== undefined ? { x: w.x, y: w.y } : {}),
    backgroundColor: '#0b0d10',
    title: 'ReSight',
    // spelled out (not only secureWebPreferences()) so static checkers such as Electronegativity
    // see the values; the test checks both agree
    webPreferences: {
      ...secureWebPreferences(paths.preload),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      disableBlinkFeatures: 'Auxclick',
    },
  });
  mainWindow.current = win;
  if (w.maximized) win.maximize();
  const wc = win.webContents;
  wc.on('will-navigate', (e, url) => {
    if (!url.startsWith(`${APP_ORIGIN}/`)) e.preventDefault();
  });
  wc.on('will-redirect', (e) => e.preventDefault());
  wc.setWindowOpenHandler(({ url }) => {
    // exported files open in the OS's viewer (PDF reader, DICOM viewer), never in a new Electron
    // window; only files inside the export folder, resolved here, not paths from the renderer
    // only ReSight's own export folders (<time>-<id>) and the file types it writes
    try {
      const m = new RegExp(`^${APP_ORIGIN}/exports/(\\d{8}-\\d{6}-[0-9a-f]{8})/([^?#]+\\.(?:pdf|dcm|csv|json))$`).exec(url);
      const file = m ? inside(exportRoot, m[1], ...decodeURIComponent(m[2]).split('/')) : null;
      if (file) void shell.openPath(file);
    } catch {
      // a malformed URL opens nothing
    }
    return { action: 'deny' };
  });
  wc.on('render-process-gone', (_e, d) => log.write('error', `renderer gone: ${d.reason}`));
  const offEvents = forwardEvents(engine, (channel, payload) => {
    if (!wc.isDestroyed()) wc.send(channel, payload);
  });

  const remember = (patch: Partial<Settings>) => updateSettings(dataDir, patch);
  const openPaths = async (picked: string[]) => {
    if (!picked.length) return;
    engine.grant(picked);
    const r = await engine.call('studies.open', { paths: picked });
    log.write('info', r.ok ? `opened ${(r.value as { studies: unknown[] }).studies.length} study(ies)` : `open failed: ${r.error.code}`);
    settings.recent = [...picked, ...settings.recent.filter((p) => !picked.includes(p))].slice(0, 10);
    remember({ recent: settings.recent });
    wc.reload();
  };
  const openDialog = async () => {
    const r = await dialog.showOpenDialog(win, { title: 'Open DICOM study', properties: ['openDirectory', 'openFile', 'multiSelections'] });
    if (!r.canceled) await openPaths(r.filePaths);
  };

  const template: MenuItemConstructorOptions[] = [
    {
      label: 'File',
      submenu: [
        { label: 'Open…', accelerator: 'CmdOrCtrl+O', click: () => void openDialog() },
        { label: 'Open Recent', submenu: settings.recent.length ? settings.recent.map((p) => ({ label: path.basename(p), click: () => void openPaths([p]) })) : [{ label: '(none)', enabled: false }] },
        { label: 'Export Report…', accelerator: 'CmdOrCtrl+E', click: () => void wc.executeJavaScript("document.querySelector('[data-testid=export-button]')?.click()") },
        { type: 'separator' },
        { label: 'Preferences…', accelerator: 'CmdOrCtrl+,', click: () => void wc.executeJavaScript("document.querySelector('[data-testid=preferences-button]')?.click()") },
        { type: 'separator' },
        { role: 'quit' },
      ],
    },
    { label: 'View', submenu: [{ role: 'resetZoom' }, { role: 'zoomIn' }, { role: 'zoomOut' }, { type: 'separator' }, { role: 'togglefullscreen' }] },
    { label: 'Help', submenu: [{ label: 'Keyboard Shortcuts', accelerator: '?', click: () => void wc.executeJavaScript("window.dispatchEvent(new KeyboardEvent('keydown', { key: '?' }))") }, { label: 'Log Folder', click: () => void shell.openPath(path.join(dataDir, 'logs')) }, ...(auditDir ? [{ label: 'Audit Trail Folder', click: () => void shell.openPath(auditDir) }] : [])] },
  ];
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));

  win.on('close', () => {
    const b = win.getBounds();
    remember({ window: { x: b.x, y: b.y, width: b.width, height: b.height, maximized: win.isMaximized() } });
    offEvents();
  });

  // studies given on the command line (or the demo) are granted and opened before the first paint
  const initial = argv.filter((a) => !a.startsWith('-') && fs.existsSync(a));
  const start = initial.length ? initial : paths.demo && fs.existsSync(paths.demo) ? [paths.demo] : [];
  if (start.length) {
    engine.grant(start);
    const r = await engine.call('studies.open', { paths: start });
    if (!r.ok) log.write('error', `open failed: ${r.error.code}`);
  }
  await win.loadURL(`${APP_ORIGIN}/index.html`);
  log.write('info', 'window ready');
  app.on('window-all-closed', () => {
    engine.dispose();
    app.quit();
  });
  return { engine, window: win };
}
