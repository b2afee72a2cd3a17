/** Electron entry point (app/dist/main/index.js): the real electron module into startApp. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as electron from 'electron';
import { registerScheme, startApp } from './app';

registerScheme(electron);
const dist = path.resolve(__dirname, '..');
// the demo study: beside the checkout in development, in resources/ when packaged (extraResources)
const demo = [path.resolve(dist, '..', '..', 'resources', 'demo'), path.join(process.resourcesPath ?? '', 'demo')].find((p) => p && fs.existsSync(p));
void startApp(electron, { renderer: path.join(dist, 'renderer'), preload: path.join(dist, 'preload', 'index.js'), engine: path.join(dist, 'main', 'engine-child.js'), gpuCheck: path.join(dist, 'main', 'gpu-check.js'), demo }, process.argv.slice(electron.app.isPackaged ? 1 : 2)).catch((err: unknown) => {
  electron.dialog.showErrorBox('ReSight could not start', (err as Error).message);
  electron.app.exit(1);
});
