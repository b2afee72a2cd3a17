/**
 * Access to the shared DICOM corpus (../shared/dicom, read-only, never copied into the repo)
 * and to the reference values committed in test/fixtures/corpus/reference.json.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');

function findCorpus(): string {
  const candidates = [process.env.RESIGHT_CORPUS, path.join(REPO_ROOT, '..', 'shared', 'dicom')].filter(Boolean) as string[];
  for (const c of candidates) if (existsSync(path.join(c, 'manifest.tsv'))) return c;
  throw new Error(`DICOM corpus not found (looked in ${candidates.join(', ')}); set RESIGHT_CORPUS`);
}

export const CORPUS_DIR = findCorpus();

export interface ManifestRow {
  file: string;
  modality: string;
  transferSyntaxUid: string;
  rows: number;
  cols: number;
  frames: number;
  bitsAllocated: number;
  pixelRepresentation: number;
  photometric: string;
  notes: string;
}

export function corpusPath(file: string): string {
  return path.join(CORPUS_DIR, file);
}

export function readManifest(): ManifestRow[] {
  const lines = readFileSync(path.join(CORPUS_DIR, 'manifest.tsv'), 'utf8').split('\n').filter((l) => l.trim());
  const head = lines[0].split('\t');
  const col = (name: string) => head.indexOf(name);
  return lines.slice(1).map((line) => {
    const f = line.split('\t');
    return {
      file: f[col('file')],
      modality: f[col('modality')],
      transferSyntaxUid: f[col('transfer_syntax_uid')],
      rows: Number(f[col('rows')]),
      cols: Number(f[col('cols')]),
      frames: Number(f[col('frames')]),
      bitsAllocated: Number(f[col('bits_allocated')]),
      pixelRepresentation: Number(f[col('pixel_representation')]),
      photometric: f[col('photometric')],
      notes: f[col('notes')] ?? '',
    };
  });
}

export interface FrameReference {
  min: number;
  max: number;
  mean: number;
  sha256: string;
  sampleIndices: number[];
  sampleValues: number[];
}

export interface FileReference {
  status: 'ok' | 'error';
  referenceError?: string;
  rows: number;
  columns: number;
  frames: number;
  samplesPerPixel: number;
  photometric: string;
  lossy: boolean;
  decoder: string | null;
  frameStats: FrameReference[];
  /** For a file the reference decoders refused: what its intact parts decode to, made by hand. */
  salvage?: { method: string; frameStats: Pick<FrameReference, 'min' | 'max' | 'mean' | 'sha256'>[]; identicalToReferenceOf?: string[] };
}

export function readReference(): Record<string, FileReference> {
  const json = JSON.parse(readFileSync(path.join(REPO_ROOT, 'test', 'fixtures', 'corpus', 'reference.json'), 'utf8'));
  return json.files as Record<string, FileReference>;
}
