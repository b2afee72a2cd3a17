/**
 * Temporary folders for tests that generate DICOM files: always under os.tmpdir() (never in
 * the repository or the shared corpus), always removed afterwards — when the test ends (through
 * the test context) and, as a safety net, when the process exits.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

interface CleanupContext {
  after(fn: () => void | Promise<void>): void;
}

const live = new Set<string>();
let exitHookInstalled = false;

function removeNow(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  live.delete(dir);
}

function makeDir(prefix: string): string {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const dir of [...live]) removeNow(dir);
    });
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `resight-${prefix.replace(/[^A-Za-z0-9_-]/g, '_')}-`));
  live.add(dir);
  return dir;
}

/** A fresh empty folder, removed when the test `t` finishes (pass or fail). */
export function tempDir(t: CleanupContext, prefix = 'test'): string {
  const dir = makeDir(prefix);
  t.after(() => removeNow(dir));
  return dir;
}

/** Run `fn` with a fresh empty folder that is removed afterwards, whatever `fn` does. */
export async function withTempDir<T>(fn: (dir: string) => T | Promise<T>, prefix = 'test'): Promise<T> {
  const dir = makeDir(prefix);
  try {
    return await fn(dir);
  } finally {
    removeNow(dir);
  }
}

/** Every regular file under `dir`, relative paths with '/', sorted. */
export function listTree(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(child);
      else out.push(child);
    }
  };
  walk('');
  return out.sort();
}
