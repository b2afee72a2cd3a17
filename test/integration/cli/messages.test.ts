/**
 * What the `resight` command says in the cases people hit first: `--version`, a mistyped path to
 * `info`, a result read from the cache, an object the PACS did not store, and a destination that
 * is not a DICOM peer at all (a web server on the port).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import { ensureCliBuilt, runCli, runCliAsync, stackTraceLines } from '../../helpers/cli';
import { REPO_ROOT } from '../../helpers/corpus';
import { tempDir } from '../../helpers/tmp';
import { count } from '../../../src/cli/io';

before(ensureCliBuilt, { timeout: 180_000 });

const VERSION = (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'app', 'package.json'), 'utf8')) as { version: string }).version;

/** A port nothing listens on (taken, then given back). */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

describe('resight: what the command says', () => {
  it('--version and -V print the package version on stdout and exit 0; --help lists them', () => {
    for (const flag of ['--version', '-V']) {
      const r = runCli([flag]);
      assert.equal(r.status, 0, `${flag}: exit ${r.status}, stderr: ${r.stderr}`);
      assert.equal(r.stdout, `${VERSION}\n`);
      assert.equal(r.stderr, '');
    }
    assert.match(runCli(['--help']).stdout, /resight --version \| -V/);
  });

  it('info on a path that does not exist says it is not found, as analyze does', () => {
    const missing = path.join(REPO_ROOT, 'no-such-study-folder');
    const plain = runCli(['info', missing]);
    assert.equal(plain.status, 1);
    assert.deepEqual(stackTraceLines(plain.stderr), []);
    assert.equal(plain.stderr, `resight: ${missing}: not found [FILE_UNREADABLE]\n`);
    const json = runCli(['info', missing, '--json']);
    assert.equal(json.status, 1);
    assert.deepEqual((JSON.parse(json.stderr) as { error: unknown }).error, { code: 'FILE_UNREADABLE', message: 'not found', path: missing });
  });

  it('a result read from the cache says so instead of timing 0 slices', { timeout: 300_000 }, (t) => {
    const env = { RESIGHT_CACHE_DIR: tempDir(t, 'cache') };
    const first = runCli(['analyze', 'resources/demo'], { env, timeoutMs: 120_000 });
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, /^Timing: 45 slices in \d+ ms/m);
    const second = runCli(['analyze', 'resources/demo'], { env, timeoutMs: 120_000 });
    assert.equal(second.status, 0, second.stderr);
    assert.match(second.stdout, /\[cached\]/);
    assert.doesNotMatch(second.stdout, /0 slices in|slices\/s/);
    assert.match(second.stdout, /^Timing: results from the cache \(1 series, 45 slices scored earlier; --no-cache to score again\) in \d+ ms$/m);
  });

  it('an object the PACS did not store is said once: "NOT stored: <file>: <why>"', { timeout: 300_000 }, async (t) => {
    const dir = tempDir(t, 'send');
    const port = await closedPort();
    const r = runCli(['analyze', 'resources/demo', '--sr', path.join(dir, 'sr.dcm'), '--send', `PACS@127.0.0.1:${port}`], { env: { RESIGHT_CACHE_DIR: tempDir(t, 'cache') }, timeoutMs: 120_000 });
    assert.equal(r.status, 1, r.stderr);
    const out = r.stdout + r.stderr;
    assert.match(out, new RegExp(`NOT stored: ${path.join(dir, 'sr.dcm').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: PACS@127\\.0\\.0\\.1:${port}`));
    assert.doesNotMatch(out, /not stored[^\n]*not stored/i, `said twice:\n${out}`);
  });

  it('echo to a port that does not speak DICOM (a web server) says so, not "Unknown PDU type"', { timeout: 60_000 }, async () => {
    // answers anything with an HTTP error, as a web server on the wrong port does ('H' = PDU type 72)
    const web = net.createServer((sock) => {
      sock.once('data', () => sock.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'));
      sock.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = web.address() as net.AddressInfo;
      const r = await runCliAsync(['echo', `PACS@127.0.0.1:${port}`, '--json'], { timeoutMs: 30_000 });
      assert.equal(r.status, 1, r.stderr);
      const { error } = JSON.parse(r.stderr) as { error: { code: string; message: string } };
      assert.equal(error.code, 'PACS_UNREACHABLE');
      assert.match(error.message, new RegExp(`^PACS@127\\.0\\.0\\.1:${port} does not speak DICOM`));
    } finally {
      await new Promise<void>((resolve) => web.close(() => resolve()));
    }
  });
});

describe('counts in the CLI\'s words', () => {
  it('says "1 file" and "3 files", never "file(s)"', () => {
    assert.equal(count(1, 'file'), '1 file');
    assert.equal(count(3, 'file'), '3 files');
    assert.equal(count(0, 'object'), '0 objects');
    const sources = ['analyze.ts', 'info.ts'].map((f) => fs.readFileSync(path.join(REPO_ROOT, 'src', 'cli', 'commands', f), 'utf8'));
    assert.ok(sources.every((src) => !/\w\(s\)/.test(src.replace(/\/\/.*$/gm, ''))), 'no "(s)" left in the messages');
  });
});
