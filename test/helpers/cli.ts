/**
 * Running the built `resight` command (app/dist/cli/main.js) the way outside checks do: a child
 * process, exit code, stdout and stderr.
 *
 * `ensureCliBuilt()` compiles src/ with tsconfig.build.json when app/dist is missing or older
 * than any source file. Test files run in parallel, so the build is serialised with a lock
 * folder: a second caller waits for the first build and then finds the output fresh.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from './corpus';

export const CLI_MAIN = path.join(REPO_ROOT, 'app', 'dist', 'cli', 'main.js');
const BUILD_INPUTS = ['src/core', 'src/shared', 'src/cli', 'src/bridge', 'tsconfig.build.json', 'tsconfig.base.json'];
/** Outside the repository (nothing to clean up in the tree), one per checkout. */
const LOCK = path.join(os.tmpdir(), `resight-cli-build-${createHash('sha256').update(REPO_ROOT).digest('hex').slice(0, 12)}.lock`);

function newestMtime(p: string): number {
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs; // a deleted file changes its folder's mtime
  for (const name of fs.readdirSync(p)) newest = Math.max(newest, newestMtime(path.join(p, name)));
  return newest;
}

function isFresh(): boolean {
  if (!fs.existsSync(CLI_MAIN)) return false;
  const built = fs.statSync(CLI_MAIN).mtimeMs;
  return BUILD_INPUTS.every((p) => newestMtime(path.join(REPO_ROOT, p)) <= built);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Build the CLI unless app/dist is up to date. Throws with tsc's output when the build fails. */
export async function ensureCliBuilt(): Promise<void> {
  const deadline = Date.now() + 180_000;
  for (;;) {
    if (isFresh()) return;
    try {
      fs.mkdirSync(LOCK);
    } catch {
      // Someone else is building; a lock older than 3 minutes was left by a killed run.
      const age = Date.now() - (fs.statSync(LOCK, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 180_000) fs.rmSync(LOCK, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`timed out waiting for the CLI build lock ${LOCK}`);
      await sleep(200);
      continue;
    }
    try {
      if (isFresh()) return;
      const tsc = path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
      const res = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 170_000 });
      if (res.status !== 0) throw new Error(`tsc -p tsconfig.build.json failed (exit ${res.status}):\n${res.stdout}${res.stderr}`);
      // tsc does not touch unchanged outputs' mtimes on every platform: mark the build time.
      const now = new Date();
      fs.utimesSync(CLI_MAIN, now, now);
      return;
    } finally {
      fs.rmSync(LOCK, { recursive: true, force: true });
    }
  }
}

export interface CliResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Run `node app/dist/cli/main.js ...args` (cwd: the repository root unless given). */
export function runCli(args: string[], options: { cwd?: string; timeoutMs?: number; env?: Record<string, string> } = {}): CliResult {
  const started = Date.now();
  const res = spawnSync(process.execPath, [CLI_MAIN, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 60_000,
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, RESIGHT_DEBUG: '', ...options.env },
  });
  if (res.error && (res.error as NodeJS.ErrnoException).code !== 'ETIMEDOUT') throw res.error;
  return { status: res.status, signal: res.signal, stdout: res.stdout ?? '', stderr: res.stderr ?? '', ms: Date.now() - started };
}

/** `runCli` without blocking: for running many independent invocations side by side. */
export function runCliAsync(args: string[], options: { cwd?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_MAIN, ...args], { cwd: options.cwd ?? REPO_ROOT, env: { ...process.env, RESIGHT_DEBUG: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** Lines of a stack trace ("    at fn (file:line:col)"). */
export function stackTraceLines(text: string): string[] {
  return text.split('\n').filter((line) => /^\s*at\s/.test(line) || /\bat .*:\d+:\d+\)?$/.test(line));
}
