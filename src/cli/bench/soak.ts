/**
 * `resight bench --suite soak` (`npm run soak`): a long session the way a radiologist's day
 * goes, in one process through the real Session (the state the viewer drives): open a generated
 * 1,000-slice CT series, view every slice, analyze it, explain a slice, close the study; five
 * times. Memory must come back (RSS after the fifth cycle within 10% of after the first) and no
 * file handle may stay open. Runs in a child process with --expose-gc so RSS is its own.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Session } from '../../core/session/session';
import { writeSyntheticSeries } from '../../core/synthetic/ct-series';
import { childMain, f0, machineLine, runChild } from './common';

interface Cycle {
  ms: number;
  rssMb: number;
  heapMb: number;
  fds: number;
  /** Descriptors still open on the study's files. */
  studyFds: number;
  findings: number;
}

interface SoakResult {
  slices: number;
  fdsBefore: number;
  cycles: Cycle[];
}

const openFds = () => {
  try {
    return fs.readdirSync('/proc/self/fd').length;
  } catch {
    return NaN; // not Linux: no cheap way to count
  }
};

/** Open descriptors that point into `dir` (files of the study left open). */
const fdsInto = (dir: string) => {
  try {
    return fs.readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return fs.readlinkSync(`/proc/self/fd/${fd}`).startsWith(dir);
      } catch {
        return false;
      }
    }).length;
  } catch {
    return NaN;
  }
};

async function soakChild(dir: string, cycles: number): Promise<SoakResult> {
  const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
  const session = new Session({ sliceUrl: () => '', cacheDir: null });
  session.grant([dir]);
  const out: SoakResult = { slices: 0, fdsBefore: openFds(), cycles: [] };
  for (let c = 0; c < cycles; c++) {
    const t0 = performance.now();
    const opened = await session.open({ paths: [dir] });
    const study = opened.studies[0];
    const seriesId = study.series[0].id;
    const info = session.getSeries({ seriesId });
    out.slices = info.slices.length;
    for (let i = 0; i < info.slices.length; i++) await session.slice(seriesId, i); // scrolling through
    const findings = await new Promise<number>((resolve, reject) => {
      const off = session.onEvent((event, payload) => {
        if (event === 'analysis.done') {
          off();
          resolve((payload as { analysis: { findings: unknown[] } }).analysis.findings.length);
        } else if (event === 'analysis.failed') {
          off();
          reject(new Error((payload as { error: { message: string } }).error.message));
        }
      });
      session.startAnalysis({ seriesId, noCache: true });
    });
    await session.explain({ seriesId, slice: Math.floor(info.slices.length / 2) });
    await session.close({ studyInstanceUid: study.studyInstanceUid });
    gc();
    await new Promise((r) => setTimeout(r, 50));
    gc();
    const mem = process.memoryUsage();
    out.cycles.push({ ms: performance.now() - t0, rssMb: mem.rss / 2 ** 20, heapMb: mem.heapUsed / 2 ** 20, fds: openFds(), studyFds: fdsInto(dir), findings });
  }
  await session.dispose();
  return out;
}

export async function runSoak(opts: { slices?: number; cycles?: number }): Promise<{ report: string; ok: boolean }> {
  const slices = opts.slices ?? 1000;
  const cycles = opts.cycles ?? 5;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resight-soak-'));
  try {
    writeSyntheticSeries(dir, { slices, rows: 512, columns: 512, seed: 3 });
    const r = runChild<SoakResult>(__filename, 'soak-child', [dir, String(cycles)]);
    const first = r.cycles[0];
    const last = r.cycles[r.cycles.length - 1];
    const growth = (last.rssMb - first.rssMb) / first.rssMb;
    // Worker threads and ORT hold a few descriptors of their own (eventfds, epoll) once started:
    // the test is that none points into the study and the count does not grow across cycles.
    const fdsOk = !Number.isFinite(r.fdsBefore) || (r.cycles.every((c) => c.studyFds === 0) && last.fds <= first.fds);
    const ok = growth <= 0.1 && fdsOk;
    const lines = [
      `### Soak: open, view every slice, analyze, explain, close a ${r.slices}-slice 512x512 CT series, ${cycles} times in one process`,
      '',
      '| cycle | time (s) | RSS after close (MB) | JS heap (MB) | open descriptors | of them on the study\'s files | findings |',
      '|---:|---:|---:|---:|---:|---:|---:|',
      ...r.cycles.map((c, i) => `| ${i + 1} | ${(c.ms / 1000).toFixed(1)} | ${f0(c.rssMb)} | ${f0(c.heapMb)} | ${c.fds} | ${c.studyFds} | ${c.findings} |`),
      '',
      `RSS after the last cycle vs the first: ${(growth * 100).toFixed(1)}% (limit +10%) -> ${growth <= 0.1 ? 'PASS' : 'FAIL'}. ` +
        `Descriptors before the first cycle: ${r.fdsBefore}; after each: ${r.cycles.map((c) => c.fds).join(', ')}; on the study's files: ${r.cycles.map((c) => c.studyFds).join(', ')} -> ${fdsOk ? 'PASS (none left on the study; no growth)' : 'FAIL'}.`,
      `Machine: ${machineLine()}.`,
    ];
    return { report: lines.join('\n'), ok };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module && process.argv[2] === '--soak-child') {
  childMain(() => soakChild(process.argv[3], Number(process.argv[4] ?? 5)));
}
