/**
 * Crash safety of exports: a process killed while writing leaves no partial file under the
 * target name (writeFileAtomic writes a hidden temp file, fsyncs, then renames or links it), and
 * the no-overwrite mode refuses an existing target atomically.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { writeFileAtomic } from '../../../../src/core/io/atomic';
import { ensureCliBuilt, CLI_MAIN } from '../../../helpers/cli';
import { REPO_ROOT } from '../../../helpers/corpus';
import { tempDir } from '../../../helpers/tmp';

const ATOMIC = path.join(REPO_ROOT, 'src', 'core', 'io', 'atomic.ts');

/** Start a child that writes `mb` MiB to `target` (announcing the start on stdout) and SIGKILL it mid-write. */
function killDuringWrite(target: string, mb: number): Promise<void> {
  const code = `
    const { writeFileAtomic } = require(${JSON.stringify(ATOMIC)});
    const big = new Uint8Array(${mb} * 1024 * 1024).fill(7);
    process.stdout.write('go\\n');
    for (;;) writeFileAtomic(${JSON.stringify(target)}, big);`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', code], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.stdout.once('data', () => setTimeout(() => child.kill('SIGKILL'), 150));
    child.on('exit', (_code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`child exited without being killed: ${err}`))));
  });
}

describe('files ReSight writes are the user\'s alone', { skip: process.platform === 'win32' && 'POSIX modes' }, () => {
  it('0600 whatever the umask allows (reports, decisions, settings and cached results are about patients)', (t) => {
    const dir = tempDir(t, 'modes');
    const old = process.umask(0o022);
    try {
      writeFileAtomic(path.join(dir, 'a.json'), '{}');
      writeFileAtomic(path.join(dir, 'b.json'), '{}', { mode: 0o644 });
    } finally {
      process.umask(old);
    }
    assert.equal(fs.statSync(path.join(dir, 'a.json')).mode & 0o777, 0o600);
    assert.equal(fs.statSync(path.join(dir, 'b.json')).mode & 0o777, 0o644, 'a caller may ask for another mode');
  });
});

describe('atomic writes', () => {
  it('a process killed while writing never leaves a partial file under the target name', { timeout: 60_000 }, async (t) => {
    const dir = tempDir(t, 'atomic');
    const target = path.join(dir, 'report.pdf');
    const mb = 64;
    for (let round = 0; round < 3; round++) {
      await killDuringWrite(target, mb);
      if (fs.existsSync(target)) assert.equal(fs.statSync(target).size, mb * 1024 * 1024, 'complete or absent, never partial');
      // what a crash may leave: hidden temp files only
      for (const n of fs.readdirSync(dir)) assert.ok(n === 'report.pdf' || /^\.report\.pdf\.\d+\.\d+\.tmp$/.test(n), n);
    }
  });

  it('refuses to replace an existing file without overwrite, and leaves no temp file', (t) => {
    const dir = tempDir(t, 'atomic');
    const target = path.join(dir, 'out.json');
    writeFileAtomic(target, 'one', { overwrite: false });
    assert.throws(() => writeFileAtomic(target, 'two', { overwrite: false }), (e: NodeJS.ErrnoException) => e.code === 'EEXIST');
    assert.equal(fs.readFileSync(target, 'utf8'), 'one');
    writeFileAtomic(target, 'three');
    assert.equal(fs.readFileSync(target, 'utf8'), 'three');
    assert.deepEqual(fs.readdirSync(dir), ['out.json']);
  });

  it('`resight analyze --report` killed at any moment leaves the report complete or absent', { timeout: 180_000 }, async (t) => {
    await ensureCliBuilt();
    const dir = tempDir(t, 'killed-export');
    const report = path.join(dir, 'r.pdf');
    // kill points spread over the run (model load, analysis, key images, PDF, write)
    for (const ms of [600, 1500, 2500, 3500, 4500]) {
      fs.rmSync(report, { force: true });
      await new Promise<void>((resolve) => {
        const child = spawn(process.execPath, [CLI_MAIN, 'analyze', 'resources/demo', '--report', report, '--sr', path.join(dir, `sr-${ms}.dcm`), '--no-cache'], { cwd: REPO_ROOT, stdio: 'ignore' });
        const timer = setTimeout(() => child.kill('SIGKILL'), ms);
        child.on('exit', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      if (fs.existsSync(report)) {
        const b = fs.readFileSync(report);
        assert.equal(b.subarray(0, 5).toString(), '%PDF-', `killed at ${ms} ms`);
        assert.ok(b.subarray(-8).toString().includes('%%EOF'), `killed at ${ms} ms: the PDF is complete`);
      }
    }
  });
});
