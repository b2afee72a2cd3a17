#!/usr/bin/env node
// `npm start`: the desktop app on the demo study, or, where the Electron binary is not installed
// (offline installs use ELECTRON_SKIP_BINARY_DOWNLOAD=1), browser mode on the demo study:
// `resight serve resources/demo`, which prints the URL to open.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const demo = join(root, 'resources', 'demo');
const args = process.argv.slice(2);
const study = args.length ? args : [demo];
if (!existsSync(join(root, 'app', 'dist', 'main', 'index.js')) || !existsSync(join(root, 'app', 'dist', 'renderer', 'index.html'))) {
  console.error('resight: not built yet: run `npm run build` (or `bash scripts/setup.sh`) first');
  process.exit(2);
}

/**
 * The Electron binary, found without running the electron package's index.js (which starts a
 * download when the binary is missing): ELECTRON_OVERRIDE_DIST_PATH, else the package's path.txt.
 */
function electronBinary() {
  const exe = process.platform === 'win32' ? 'electron.exe' : process.platform === 'darwin' ? 'Electron.app/Contents/MacOS/Electron' : 'electron';
  if (process.env.ELECTRON_OVERRIDE_DIST_PATH) {
    const p = join(process.env.ELECTRON_OVERRIDE_DIST_PATH, exe);
    return existsSync(p) ? p : null;
  }
  let dir;
  try {
    dir = dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  } catch {
    return null;
  }
  const pathTxt = join(dir, 'path.txt');
  if (!existsSync(pathTxt)) return null;
  const p = join(dir, 'dist', readFileSync(pathTxt, 'utf8').trim());
  return existsSync(p) ? p : null;
}
const electron = electronBinary();

const run = (cmd, argv) => {
  const child = spawn(cmd, argv, { cwd: root, stdio: 'inherit' });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code) => process.exit(code ?? 0));
};

if (electron) run(electron, [join(root, 'app'), ...study]);
else {
  console.error('resight: the Electron binary is not installed on this machine (offline install with ELECTRON_SKIP_BINARY_DOWNLOAD=1);');
  console.error('resight: starting browser mode on the same study instead; open the URL below. See README "Desktop app" to install Electron.');
  run(process.execPath, [join(root, 'app', 'dist', 'cli', 'main.js'), 'serve', ...study]);
}
