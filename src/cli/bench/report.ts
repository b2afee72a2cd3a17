/**
 * `resight bench --suite report`: what an export of the demo study costs, step by step, and the
 * DICOM encoding against pydicom (the peer a research engineer would script an export with):
 * key images (decode + Grad-CAM of each finding's key slice), the PDF, the SR and SC objects
 * (dcmjs vs pydicom's save_as on the same data sets), and the whole export written to disk
 * (atomic writes with fsync). Medians of the repetitions.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { scanPaths } from '../../core/dicom/scan';
import { Explainer } from '../../core/explain/explainer';
import { defaultModelCard } from '../../core/inference/default-model';
import { InferenceEngine } from '../../core/inference/engine';
import { buildReportContext } from '../../core/report/build';
import { decodePart10, encodePart10 } from '../../core/report/dicom-write';
import { writeExports } from '../../core/report/export';
import { renderPdf } from '../../core/report/pdf';
import { secondaryCaptures } from '../../core/report/sc';
import { structuredReport } from '../../core/report/sr';
import { f2, machineLine, median, repoFile, runPythonPeer } from './common';

const now = () => performance.now();

export async function runReportBench(opts: { reps?: number; python?: string } = {}): Promise<string> {
  const reps = opts.reps ?? 5;
  const demo = repoFile('resources/demo');
  const card = defaultModelCard();
  if (!demo || !card) return '### Report\n\nNot run: needs the demo study and the default model (a source checkout).';
  const scan = await scanPaths([demo]);
  const series = scan.studies[0].series[0];
  const engine = new InferenceEngine();
  const explainer = new Explainer();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'resight-bench-report-'));
  try {
    const model = await engine.model(card);
    const analysis = (await engine.analyze(model, [series], { cache: null })).series[0];
    const t = { keyImages: [] as number[], pdf: [] as number[], sr: [] as number[], sc: [] as number[], scEncode: [] as number[], srEncode: [] as number[], total: [] as number[] };
    let ctx = await buildReportContext(series, analysis, model, model.provider, { explainer });
    let pages = 0;
    let pdfBytes = 0;
    for (let r = 0; r < reps; r++) {
      let t0 = now();
      ctx = await buildReportContext(series, analysis, model, model.provider, { explainer });
      t.keyImages.push(now() - t0);
      t0 = now();
      const pdf = await renderPdf(ctx);
      t.pdf.push(now() - t0);
      pages = pdf.pages;
      pdfBytes = pdf.bytes.byteLength;
      t0 = now();
      const sr = structuredReport(ctx, `bench${r}`);
      t.sr.push(now() - t0);
      t0 = now();
      const scs = secondaryCaptures(ctx, `bench${r}`);
      t.sc.push(now() - t0);
      // encoding alone, on the decoded objects (what the pydicom peer times too)
      const scDs = decodePart10(scs[0].bytes);
      const srDs = decodePart10(sr.bytes);
      t0 = now();
      encodePart10(scDs);
      t.scEncode.push(now() - t0);
      t0 = now();
      encodePart10(srDs);
      t.srEncode.push(now() - t0);
      if (r === 0) {
        fs.writeFileSync(path.join(tmp, 'sc.dcm'), scs[0].bytes);
        fs.writeFileSync(path.join(tmp, 'sr.dcm'), sr.bytes);
      }
      const out = path.join(tmp, `export-${r}`);
      t0 = now();
      await writeExports([ctx], { pdf: path.join(out, 'r.pdf'), sr: path.join(out, 'sr.dcm'), scDir: path.join(out, 'sc'), json: path.join(out, 'a.json'), csv: path.join(out, 's.csv') });
      t.total.push(now() - t0);
    }
    const peer = runPythonPeer<{ msPerFile: Record<string, number[]>; pydicom: string }>(opts.python ?? '/usr/bin/python3', [repoFile('bench/peers/pydicom_write.py') ?? '', String(reps), path.join(tmp, 'sc.dcm'), path.join(tmp, 'sr.dcm')], 'python3-pydicom');
    const pSc = peer.result ? median(peer.result.msPerFile['sc.dcm']) : NaN;
    const pSr = peer.result ? median(peer.result.msPerFile['sr.dcm']) : NaN;
    const ms = (xs: number[]) => `${f2(median(xs))} ms`;
    const ratio = (ours: number[], theirs: number) => (Number.isFinite(theirs) ? `${f2(theirs / median(ours))}x` : 'n/a');
    const k = ctx.keyImages.length;
    return [
      '### Report and exports (demo study)',
      '',
      `${analysis.findings.length} findings, ${k} key images (512x512), ${reps} repetitions, medians. Machine: ${machineLine()}.${peer.result ? ` Peer: pydicom ${peer.result.pydicom}.` : ` ${peer.note}`}`,
      '',
      '| step | ReSight | pydicom | pydicom / ReSight |',
      '|---|---:|---:|---:|',
      `| key images: decode + Grad-CAM@layer4 of ${k} key slices | ${ms(t.keyImages)} | | |`,
      `| PDF (${pages} pages, ${(pdfBytes / 1024).toFixed(0)} KiB, ${k} PNG key images) | ${ms(t.pdf)} | | |`,
      `| DICOM SR built + encoded | ${ms(t.sr)} | | |`,
      `| ${k} Secondary Captures rendered + encoded | ${ms(t.sc)} | | |`,
      `| encode one SC (512x512 RGB, 0.77 MB) | ${ms(t.scEncode)} | ${f2(pSc)} ms | ${ratio(t.scEncode, pSc)} |`,
      `| encode the SR | ${ms(t.srEncode)} | ${f2(pSr)} ms | ${ratio(t.srEncode, pSr)} |`,
      `| whole export to disk (PDF, SR, ${k} SC, JSON, CSV; atomic + fsync) | ${ms(t.total)} | | |`,
      '',
    ].join('\n');
  } finally {
    await explainer.release();
    await engine.release();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
