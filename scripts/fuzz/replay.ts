/**
 * Replaying saved findings (test/fixtures/fuzz): each must now end in success or a typed
 * error. Used by `npm run fuzz -- --replay` and by the regression test.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { replayContractPayloads } from './contract';
import { findCorpusDir, REPO_ROOT } from './corpus';
import { replayDicomFiles } from './dicom-campaign';
import type { FindingMeta } from './findings';
import { listFindings } from './findings';
import { replayModelFixture } from './model-fuzz';

export interface ReplayResult {
  jsonPath: string;
  meta: FindingMeta;
  passed: boolean;
  /** What happened now, in a line. */
  outcome: string;
}

export interface ReplayOptions {
  /** Contract and model replies, ms. */
  timeoutMs?: number;
  /** DICOM cases without a recorded timeout (default 5000, the campaign's default). */
  dicomTimeoutMs?: number;
  maxFrames?: number;
  /** The DICOM corpus (for the decoder-poisoning check); default as the campaign finds it. */
  corpusDir?: string;
}

export async function replayFindings(dir: string, opts: ReplayOptions = {}): Promise<ReplayResult[]> {
  const found = listFindings(dir);
  const out: ReplayResult[] = [];
  const dicom = found.filter((f) => f.meta.target === 'dicom');
  if (dicom.length) {
    const files = dicom.map((f) => ({ file: path.join(dir, f.meta.files.find((n) => n.endsWith('.dcm')) ?? f.meta.files[0]), timeoutMs: f.meta.timeoutMs, repeat: f.meta.repeat }));
    let corpusDir: string | undefined;
    try {
      corpusDir = findCorpusDir(opts.corpusDir);
    } catch {
      corpusDir = undefined; // no corpus here: replay without the decoder-poisoning check
    }
    const results = await replayDicomFiles(files, { maxFrames: opts.maxFrames, timeoutMs: opts.dicomTimeoutMs, corpusDir });
    results.forEach((r, i) => {
      const o = r.outcome;
      const passed = o.status !== 'finding';
      const outcome = o.status === 'ok' ? 'ok' : o.status === 'typed' ? `typed ${o.stage}:${o.code}` : `${o.kind} at ${o.stage ?? '-'}: ${(o.message ?? '').split('\n')[0].slice(0, 200)}`;
      out.push({ jsonPath: dicom[i].jsonPath, meta: dicom[i].meta, passed, outcome });
    });
  }
  const contract = found.filter((f) => f.meta.target === 'contract');
  if (contract.length) {
    const texts = contract.map((f) => fs.readFileSync(path.join(dir, f.meta.files[0]), 'utf8'));
    const results = await replayContractPayloads(texts, opts.timeoutMs ?? 30_000);
    results.forEach((r, i) => {
      const v = r.verdict;
      const passed = 'ok' in v;
      out.push({ jsonPath: contract[i].jsonPath, meta: contract[i].meta, passed, outcome: 'ok' in v ? v.key : `${v.kind}: ${v.message.split('\n').find((l) => /Error\b.*:/.test(l))?.trim() ?? v.message.slice(0, 200)}` });
    });
  }
  for (const f of found.filter((g) => g.meta.target === 'model')) {
    const onnxFile = f.meta.files.find((n) => n.endsWith('.onnx'));
    const onnx = onnxFile ? path.join(dir, onnxFile) : f.meta.onnxSource ? path.join(REPO_ROOT, f.meta.onnxSource) : undefined;
    const card = f.meta.files.find((n) => n.endsWith('.card.json'));
    if (!onnx || !card) {
      out.push({ jsonPath: f.jsonPath, meta: f.meta, passed: false, outcome: 'fixture incomplete (needs a .card.json and an .onnx or onnxSource)' });
      continue;
    }
    const r = await replayModelFixture(onnx, path.join(dir, card), opts.timeoutMs ?? 60_000, onnxFile ? undefined : f.meta.onnxSha256);
    out.push({ jsonPath: f.jsonPath, meta: f.meta, passed: r.status !== 'finding', outcome: r.status === 'ok' ? 'ok' : r.status === 'typed' ? `typed ${r.code}` : `${r.kind}: ${(r.message ?? '').slice(0, 200)}` });
  }
  return out;
}
