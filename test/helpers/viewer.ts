/**
 * The end-to-end tests' viewer: the browser bridge (`resight serve`) on a study, with its own data
 * and cache folders, and headless Chromium on its page. Shared by the e2e files so they start the
 * viewer the same way.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { CLI_MAIN } from './cli';
import { REPO_ROOT } from './corpus';

export const CHROMIUM = process.env.RESIGHT_CHROMIUM ?? '/usr/bin/chromium';
/** Where the e2e tests leave their screenshots. */
export const ARTIFACTS = process.env.RESIGHT_TEST_ARTIFACTS ?? path.join(REPO_ROOT, 'test-results', 'e2e');
const RENDERER_OUT = path.join(REPO_ROOT, 'app', 'dist', 'renderer', 'index.html');
/** Why the e2e tests cannot run here, or false. */
export const noChromium = !fs.existsSync(CHROMIUM) && `Chromium not installed at ${CHROMIUM} (apt-get install chromium)`;

function newest(p: string): number {
  const st = fs.statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...fs.readdirSync(p).map((n) => newest(path.join(p, n))));
}

/** Build the viewer when app/dist/renderer is missing or older than src/renderer or src/shared. */
export function ensureRendererBuilt(): void {
  const stale = !fs.existsSync(RENDERER_OUT) || Math.max(newest(path.join(REPO_ROOT, 'src', 'renderer')), newest(path.join(REPO_ROOT, 'src', 'shared'))) > fs.statSync(RENDERER_OUT).mtimeMs;
  if (!stale) return;
  const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build'], { cwd: REPO_ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, `vite build failed: ${r.stderr}`);
}

export interface RunningViewer {
  server: ChildProcess;
  url: string;
  browser: Browser;
  page: Page;
}

/** `resight serve <root>` with its own cache and data folders (extra arguments after them), and Chromium on its page at 1400 x 900. */
export async function launchViewer(root: string, dataDir: string, cache: string, extra: string[] = []): Promise<RunningViewer> {
  const server = spawn(process.execPath, [CLI_MAIN, 'serve', root, '--port', '0', ...extra], { cwd: REPO_ROOT, env: { ...process.env, RESIGHT_CACHE_DIR: cache, RESIGHT_DATA_DIR: dataDir }, stdio: ['ignore', 'pipe', 'pipe'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    server.stdout?.on('data', (d) => {
      out += d;
      const m = /ReSight listening on (\S+)/.exec(out);
      if (m) resolve(m[1] as string);
    });
    server.on('exit', (code) => reject(new Error(`resight serve exited with ${code}`)));
  });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist'] });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 }, deviceScaleFactor: 1, locale: 'en-US' });
  page.on('pageerror', (e) => console.error('page error:', e.message));
  return { server, url, browser, page };
}

/**
 * Stop `resight serve` and wait until it has exited: on SIGTERM it closes its session, which
 * writes the audit trail's session.stop into the data folder; removing that folder before the
 * process is gone races with the write.
 */
export async function stopServer(server: ChildProcess | undefined): Promise<void> {
  if (!server || server.exitCode !== null || server.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  server.kill();
  await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, 10_000))]);
}

/** A screenshot of the page under ARTIFACTS (for a person looking at a run; nothing compares them). */
export async function saveShot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
}

/** Sign the series off in the findings panel, accepting the "slices not yet viewed" question it may ask first. */
export async function signOffAnyway(page: Page): Promise<void> {
  const accept = (d: { accept(): Promise<void> }) => void d.accept();
  page.on('dialog', accept);
  try {
    await page.click('[data-testid=signoff]');
    await page.waitForSelector('[data-testid=signoff-status][data-current=true]');
  } finally {
    page.off('dialog', accept);
  }
}
