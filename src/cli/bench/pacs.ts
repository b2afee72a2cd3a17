/**
 * Sending to a PACS: ReSight's C-STORE (dcmjs-dimse, src/core/pacs) against DCMTK's storescu, the
 * tool a PACS administrator would reach for, both sending the same files over one association to
 * the same receiver (DCMTK's storescp on loopback, writing to a temporary folder), alternated, the
 * median of the repetitions each. Needs dcmtk (Debian: apt-get install dcmtk).
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { echo, parseDestination, storeFiles } from '../../core/pacs/store';
import { f2, machineLine, median, repoFile } from './common';

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/** A port nothing listens on now (loopback). */
const freePort = () =>
  new Promise<number>((resolve) => {
    const s = http.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

async function waitForPort(port: number): Promise<void> {
  const dest = parseDestination(`BENCH@127.0.0.1:${port}`);
  for (const t0 = Date.now(); Date.now() - t0 < 10_000; ) {
    try {
      await echo(dest, { connectTimeoutMs: 500 });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error('storescp did not start');
}

export async function runPacsBench(opts: { reps: number }): Promise<string> {
  const title = '## Sending to a PACS (C-STORE over one association)';
  if (!has('storescp') || !has('storescu')) return `${title}\n\nSkipped: DCMTK (storescp, storescu) is not installed (Debian: apt-get install dcmtk).`;
  const demo = repoFile('resources/demo');
  if (!demo) return `${title}\n\nSkipped: the demo study (resources/demo) is not here.`;
  const files = fs.readdirSync(demo).filter((f) => f.endsWith('.dcm')).sort().map((f) => path.join(demo, f));
  const bytes = files.reduce((n, f) => n + fs.statSync(f).size, 0);
  const inbox = fs.mkdtempSync(path.join(os.tmpdir(), 'resight-bench-pacs-'));
  const port = await freePort();
  const scp: ChildProcess = spawn('storescp', ['-aet', 'BENCH', '-od', inbox, String(port)], { stdio: 'ignore' });
  try {
    await waitForPort(port);
    const dest = parseDestination(`BENCH@127.0.0.1:${port}`);
    const empty = () => {
      for (const f of fs.readdirSync(inbox)) fs.rmSync(path.join(inbox, f));
    };
    const ours: number[] = [];
    const dcmtk: number[] = [];
    for (let r = 0; r < opts.reps + 1; r++) {
      empty();
      let t0 = performance.now();
      const out = await storeFiles(files, dest);
      const a = performance.now() - t0;
      if (out.error || out.outcomes.some((o) => !o.ok) || fs.readdirSync(inbox).length !== files.length) throw new Error('ReSight: not every file was stored');
      empty();
      t0 = performance.now();
      const peer = await new Promise<number | null>((resolve) => spawn('storescu', ['-aec', 'BENCH', '-aet', 'RESIGHT', '127.0.0.1', String(port), ...files], { stdio: 'ignore' }).on('exit', resolve));
      const b = performance.now() - t0;
      if (peer !== 0 || fs.readdirSync(inbox).length !== files.length) throw new Error('storescu: not every file was stored');
      // the first round warms both up (file cache, the receiver's first association)
      if (r > 0) {
        ours.push(a);
        dcmtk.push(b);
      }
    }
    const mb = bytes / 1024 ** 2;
    const mo = median(ours);
    const md = median(dcmtk);
    return [
      title,
      '',
      `The demo CT (${files.length} files, ${mb.toFixed(1)} MiB) to DCMTK storescp on 127.0.0.1, one association each time, ${opts.reps} repetitions after a warm-up, alternated. Machine: ${machineLine()}.`,
      '',
      '| sender | median | MiB/s | time vs storescu |',
      '|---|---:|---:|---:|',
      `| ReSight (dcmjs-dimse) | ${f2(mo)} ms | ${f2(mb / (mo / 1000))} | ${f2(mo / md)}x |`,
      `| DCMTK storescu (a new process, reading the files) | ${f2(md)} ms | ${f2(mb / (md / 1000))} | 1.00x |`,
    ].join('\n');
  } finally {
    scp.kill('SIGKILL');
    fs.rmSync(inbox, { recursive: true, force: true });
  }
}
