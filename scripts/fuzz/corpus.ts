/**
 * The seed corpus: the shared DICOM corpus (../shared/dicom, or RESIGHT_CORPUS), as listed in
 * its manifest.tsv, resolved the way test/helpers/corpus.ts does. Read-only: files are read into
 * memory and never written.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { dicomStructure } from './dicom-structure';
import type { CorpusFile } from './mutators';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');

export function findCorpusDir(explicit?: string): string {
  const candidates = [explicit, process.env.RESIGHT_CORPUS, path.join(REPO_ROOT, '..', 'shared', 'dicom')].filter((c): c is string => Boolean(c));
  for (const c of candidates) if (fs.existsSync(path.join(c, 'manifest.tsv'))) return c;
  throw new Error(`DICOM corpus not found (looked in ${candidates.join(', ')}); pass --corpus DIR or set RESIGHT_CORPUS`);
}

export function loadCorpus(dir: string): CorpusFile[] {
  const lines = fs.readFileSync(path.join(dir, 'manifest.tsv'), 'utf8').split('\n').filter((l) => l.trim());
  const col = lines[0].split('\t').indexOf('file');
  const files: CorpusFile[] = [];
  for (const line of lines.slice(1)) {
    const name = line.split('\t')[col];
    if (!name) continue;
    const bytes = new Uint8Array(fs.readFileSync(path.join(dir, name)));
    files.push({ name, bytes, structure: dicomStructure(bytes) });
  }
  if (!files.length) throw new Error(`no files listed in ${path.join(dir, 'manifest.tsv')}`);
  return files;
}
