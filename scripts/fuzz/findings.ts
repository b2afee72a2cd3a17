/**
 * Saving findings as regression fixtures: test/fixtures/fuzz/<kind>-<shortsha>.<ext> plus a
 * <kind>-<shortsha>.json that says what it is and how it was found. The JSON's `target` says
 * which replay applies: 'dicom' (the .dcm through scan + decode), 'contract' (a WebSocket
 * message to the bridge), 'model' (a card + ONNX pair through loadModel).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export type FindingTarget = 'dicom' | 'contract' | 'model';

export interface FindingMeta {
  target: FindingTarget;
  kind: string;
  message: string;
  seed: number;
  iteration: number;
  /** What was done to the input (one entry per mutator). */
  mutators: string[];
  /** The corpus file (or resource) the input came from. */
  source: string;
  /** The file(s) of this fixture, relative to the JSON's folder. */
  files: string[];
  stage?: string;
  name?: string;
  stack?: string;
  signature?: string;
  originalSize?: number;
  minimisedSize?: number;
  minimiseTries?: number;
  /** Contract findings: the method the payload called. */
  method?: string;
  /**
   * DICOM findings that build up (e.g. `codec-poisoned`): the input fails only when decoded this
   * many times in one thread; replays run it that many times (in a fresh thread).
   */
  repeat?: number;
  /** DICOM findings: the per-case timeout the campaign ran with (replays use it too). */
  timeoutMs?: number;
  /** Model findings whose ONNX was not changed: the original, relative to the repository. */
  onnxSource?: string;
  /** ...and its sha256 when saved: a card naming it is re-stamped with the file's current sha256 on replay. */
  onnxSha256?: string;
  /** Free text (e.g. what a hand-check found the cause to be). */
  note?: string;
  foundAt: string;
}

export function shortSha(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 12);
}

const safe = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'finding';

/**
 * Write one finding (its files and its JSON). Returns the JSON's path, or undefined when the
 * same input is already saved.
 */
export function saveFinding(outDir: string, meta: Omit<FindingMeta, 'files' | 'foundAt'>, files: { ext: string; bytes: Uint8Array | string }[]): string | undefined {
  fs.mkdirSync(outDir, { recursive: true });
  const prefix = meta.target === 'dicom' ? '' : `${meta.target}-`;
  const base = `${prefix}${safe(meta.kind)}-${shortSha(files.map((f) => (typeof f.bytes === 'string' ? f.bytes : Buffer.from(f.bytes).toString('latin1'))).join('\n'))}`;
  const jsonPath = path.join(outDir, `${base}.json`);
  if (fs.existsSync(jsonPath)) return undefined;
  const names: string[] = [];
  for (const f of files) {
    const name = `${base}${f.ext}`;
    fs.writeFileSync(path.join(outDir, name), f.bytes);
    names.push(name);
  }
  const full: FindingMeta = { ...meta, files: names, foundAt: new Date().toISOString() };
  fs.writeFileSync(jsonPath, JSON.stringify(full, null, 2) + '\n');
  return jsonPath;
}

/** Every saved finding in a folder (the JSON files that describe one). */
export function listFindings(dir: string): { jsonPath: string; meta: FindingMeta }[] {
  if (!fs.existsSync(dir)) return [];
  const out: { jsonPath: string; meta: FindingMeta }[] = [];
  for (const name of fs.readdirSync(dir).sort()) {
    if (!name.endsWith('.json') || name.endsWith('.card.json')) continue;
    const jsonPath = path.join(dir, name);
    let meta: unknown;
    try {
      meta = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));
    } catch {
      continue;
    }
    const m = meta as Partial<FindingMeta>;
    if (m && (m.target === 'dicom' || m.target === 'contract' || m.target === 'model') && Array.isArray(m.files)) out.push({ jsonPath, meta: m as FindingMeta });
  }
  return out;
}
