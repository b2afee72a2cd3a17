/** Shared plumbing of the benchmark suites: medians, peer scripts, child processes, machine line. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const median = (xs: readonly number[]): number => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** A file of the source checkout (bench/peers/..., training/...), if this is one. */
export function repoFile(rel: string): string | undefined {
  // src/cli/bench (tsx) or app/dist/cli/bench (built): the repository root is 3 or 4 levels up.
  for (const up of [3, 4]) {
    const p = path.resolve(__dirname, ...Array<string>(up).fill('..'), rel);
    if (fs.existsSync(p)) return p;
  }
  return undefined;
}

export const f0 = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
export const f2 = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : 'n/a');

export function machineLine(): string {
  return `${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 1024 ** 3)} GiB, Node ${process.version}`;
}

/** Run this module again as a child (`--<flag> ...args`) and parse the JSON it prints last. */
export function runChild<T>(file: string, flag: string, args: string[]): T {
  const child = spawnSync(process.execPath, ['--expose-gc', file, `--${flag}`, ...args], { encoding: 'utf8', maxBuffer: 16 << 20 });
  if (child.status !== 0) throw new Error(`bench child failed: ${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').pop() as string) as T;
}

/** Entry point of a child: run `fn` and print its JSON, or the error and exit 1. */
export function childMain<T>(fn: () => Promise<T>): void {
  fn().then(
    (r) => process.stdout.write(JSON.stringify(r) + '\n'),
    (e: unknown) => {
      process.stderr.write(String((e as Error)?.stack ?? e) + '\n');
      process.exit(1);
    },
  );
}

/**
 * Run a Python peer script that prints one JSON object as its last stdout line ({error} on
 * failure). Returns the result, or why there is none, naming the Debian packages to install.
 */
export function runPythonPeer<T>(python: string, args: string[], packages: string): { result?: T; note: string } {
  const p = spawnSync(python, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  const last = (p.stdout ?? '').trim().split('\n').pop() ?? '';
  const parsed = last.startsWith('{') ? (JSON.parse(last) as T & { error?: string }) : undefined;
  if (p.status === 0 && parsed && !parsed.error) return { result: parsed, note: '' };
  return { note: `PyTorch peer missing or failed (${python}; apt-get install ${packages}): ${parsed?.error ?? (p.stderr || p.error?.message || '').trim().split('\n').pop()}` };
}
