/**
 * `resight bench --suite ingest`: header scan and full decode of a generated 300-slice
 * 512x512 16-bit CT series, ReSight vs pydicom, side by side, in the same run.
 *
 * ReSight is measured in a child process so its peak RSS is its own (not the generator's).
 * Figures are medians of the repetitions; the ratio is what to read, not absolute numbers.
 */
import { spawnSync } from 'node:child_process';
import * as dicomParser from 'dicom-parser';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { scanPaths } from '../../core/dicom/scan';
import { VolumeCache } from '../../core/imaging/volume';
import { sharedWorkerPool } from '../../core/workers/pool';
import { writeSyntheticSeries } from '../../core/synthetic/ct-series';
import { childMain, f0, machineLine, median, repoFile, runChild } from './common';

export interface IngestBenchOptions {
  slices: number;
  reps?: number;
  python?: string;
}


interface ChildResult {
  scanFilesPerS: number[];
  /** Into a freshly allocated volume (includes first-touch page faults). */
  decodeSlicesPerS: number[];
  /** Into an already-touched volume (steady state, e.g. re-decoding or a recycled buffer). */
  warmSlicesPerS: number[];
  /** dicom-parser alone on files already in memory, stopping at Pixel Data: the parse floor. */
  floorFilesPerS: number[];
  workers: number;
  peakRssBytes: number;
  volumeBytes: number;
  slices: number;
}

/** Runs inside the child process: scan + decode `reps` times, report rates and peak RSS. */
export async function ingestChild(dir: string, reps: number): Promise<ChildResult> {
  const scan: number[] = [];
  const decode: number[] = [];
  const warm: number[] = [];
  let volumeBytes = 0;
  let slices = 0;
  for (let r = 0; r < reps; r++) {
    let t0 = process.hrtime.bigint();
    const result = await scanPaths([dir]);
    const files = result.filesScanned;
    scan.push(files / (Number(process.hrtime.bigint() - t0) / 1e9));
    const series = result.studies[0].series[0];
    const cache = new VolumeCache();
    t0 = process.hrtime.bigint();
    const volume = await cache.load(series);
    decode.push(series.slices / (Number(process.hrtime.bigint() - t0) / 1e9));
    if (volume.failures.size) throw new Error(`bench: ${volume.failures.size} slices failed`);
    volume.loaded.fill(0);
    t0 = process.hrtime.bigint();
    await cache.load(series);
    warm.push(series.slices / (Number(process.hrtime.bigint() - t0) / 1e9));
    volumeBytes = volume.byteLength;
    slices = series.slices;
    cache.clear();
    // As when a study is closed: idle workers go, and with them their views of the old volume.
    await sharedWorkerPool()?.trim();
    await scanPaths([dir]); // untimed: start the workers again, so the next scan measures scanning

    // A viewer evicts and the GC reclaims; collect now so peak RSS reflects one volume, not
    // every repetition's garbage (the child runs with --expose-gc).
    (globalThis as { gc?: () => void }).gc?.();
  }
  // Peak RSS of the scans and decodes (the floor below holds every file in memory).
  const peakRssBytes = process.resourceUsage().maxRSS * 1024;
  // The floor: dicom-parser's header parse on bytes already in memory (no I/O, no assembly).
  const files = fs.readdirSync(dir).map((f) => fs.readFileSync(path.join(dir, f)));
  const floor: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = process.hrtime.bigint();
    for (const b of files) dicomParser.parseDicom(b, { untilTag: 'x7fe00010' });
    floor.push(files.length / (Number(process.hrtime.bigint() - t0) / 1e9));
  }
  return { scanFilesPerS: scan, decodeSlicesPerS: decode, warmSlicesPerS: warm, floorFilesPerS: floor, workers: sharedWorkerPool()?.size ?? 0, peakRssBytes, volumeBytes, slices };
}


export async function runIngestBench(opts: IngestBenchOptions): Promise<string> {
  const reps = opts.reps ?? 3;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resight-bench-'));
  try {
    writeSyntheticSeries(dir, { slices: opts.slices, rows: 512, columns: 512, seed: 42 });
    const ours = runChild<ChildResult>(__filename, 'ingest-child', [dir, String(reps)]);
    let peer: { scanFilesPerS: number[]; decodeSlicesPerS: number[]; volumeSlicesPerS: number[]; pydicom: string } | undefined;
    let peerNote = '';
    const script = repoFile('bench/peers/pydicom_ingest.py');
    const python = opts.python ?? '/usr/bin/python3';
    if (!script) peerNote = 'pydicom peer script not found (bench/peers/pydicom_ingest.py: run from a source checkout)';
    else {
      const p = spawnSync(python, [script, dir, String(reps)], { encoding: 'utf8' });
      if (p.status === 0) peer = JSON.parse(p.stdout.trim().split('\n').pop() as string);
      else peerNote = `pydicom peer failed (${python}: apt-get install python3-pydicom python3-numpy): ${(p.stderr || p.error?.message || '').trim().split('\n').pop()}`;
    }
    // dcmtk: dcmdump over the folder, skipping long values (pixel data): one process, all files.
    const dcm: number[] = [];
    let dcmNote = '';
    for (let r = 0; r < reps && !dcmNote; r++) {
      const t0 = process.hrtime.bigint();
      const d = spawnSync('dcmdump', ['-q', '-M', '+sd', dir], { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 64 << 20 });
      if (d.error || d.status !== 0) dcmNote = `dcmtk missing or failed (apt-get install dcmtk): ${d.error?.message ?? String(d.stderr).trim().split('\n').pop()}`;
      else dcm.push(opts.slices / (Number(process.hrtime.bigint() - t0) / 1e9));
    }
    if (dcmNote) peerNote = peerNote ? `${peerNote}; ${dcmNote}` : dcmNote;
    const oScan = median(ours.scanFilesPerS);
    const oDec = median(ours.decodeSlicesPerS);
    const oWarm = median(ours.warmSlicesPerS);
    const pScan = peer ? median(peer.scanFilesPerS) : NaN;
    const pDec = peer ? median(peer.decodeSlicesPerS) : NaN;
    const pVol = peer ? median(peer.volumeSlicesPerS) : NaN;
    const ratio = (a: number, b: number) => (peer ? `${(a / b).toFixed(2)}x` : 'n/a');
    const mb = (b: number) => `${Math.round(b / 1024 / 1024)} MB`;
    const rssBudget = 2 * ours.volumeBytes + 200 * 1024 * 1024;
    const lines = [
      `### Ingest: ${ours.slices} slices, 512x512, 16-bit signed CT (Explicit VR LE), median of ${reps}`,
      '',
      `| work | ReSight | pydicom ${peer?.pydicom ?? ''} | ratio | target |`,
      '|---|---:|---:|---:|---:|',
      `| header scan (files/s) | ${f0(oScan)} | ${f0(pScan)} | ${ratio(oScan, pScan)} | >= 3x |`,
      `| header dump, dcmtk \`dcmdump -M +sd\` (files/s) | | ${f0(median(dcm))} (dcmtk) | ${dcm.length ? `${(oScan / median(dcm)).toFixed(2)}x` : 'n/a'} | |`,
      `| floor: dicom-parser alone, bytes in memory, no I/O or assembly (files/s) | ${f0(median(ours.floorFilesPerS))} | | | |`,
      `| decode + rescale into a new volume (slices/s) | ${f0(oDec)} | ${f0(pVol)} | ${ratio(oDec, pVol)} | |`,
      `| decode + rescale, volume memory already touched (slices/s) | ${f0(oWarm)} | ${f0(pDec)} (per-slice pixel_array) | ${ratio(oWarm, pDec)} | >= 5x |`,
      `| ReSight peak RSS | ${mb(ours.peakRssBytes)} | | | < ${mb(rssBudget)} (2 x ${mb(ours.volumeBytes)} volume + 200 MB) |`,
      '',
      `ReSight decodes with ${ours.workers} worker thread(s) into a shared ${ours.volumeBytes === ours.slices * 512 * 512 * 2 ? 'Int16' : 'Float32'} volume. ` +
        `"New volume" includes first-touch page faults of the freshly allocated volume; pydicom's column for that row stores into a fresh numpy volume the same way.`,
      `Machine: ${machineLine()}. Per rep, ReSight: scan ${ours.scanFilesPerS.map(f0).join(', ')}; new-volume decode ${ours.decodeSlicesPerS.map(f0).join(', ')}; warm decode ${ours.warmSlicesPerS.map(f0).join(', ')}.` +
        (peer ? ` pydicom: scan ${peer.scanFilesPerS.map(f0).join(', ')}; per-slice decode ${peer.decodeSlicesPerS.map(f0).join(', ')}; into volume ${peer.volumeSlicesPerS.map(f0).join(', ')}.` : ''),
    ];
    if (peerNote) lines.push('', `Note: ${peerNote}`);
    return lines.join('\n');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module && process.argv[2] === '--ingest-child') childMain(() => ingestChild(process.argv[3], Number(process.argv[4] ?? 3)));
