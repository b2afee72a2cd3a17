/**
 * Worker thread for bad-input.test.ts: runs scanFile and loadFrame on one file per message and
 * reports what happened (result, typed error or foreign exception, time taken). Running them in
 * a worker lets the test kill a call that hangs or runs out of memory instead of hanging itself.
 * (Loaded through test/helpers/isolated.ts, which registers tsx in the worker first.)
 */
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { parentPort } from 'node:worker_threads';
import { loadFrame } from '../../../../src/core/dicom/frame';
import { scanFile } from '../../../../src/core/dicom/scan';
import { ResightError } from '../../../../src/core/errors';

export interface Caught {
  /** instanceof ResightError */
  resight: boolean;
  name: string;
  code?: string;
  path?: string;
  message: string;
  stack?: string;
}

export interface ScanOutcome {
  ms: number;
  /** scanFile threw (it must never throw: it returns a FileError instead). */
  threw?: Caught;
  /** The FileError it returned. */
  fileError?: { code: string; message: string; path: string };
  header?: { path: string; rows: number; columns: number; frames: number };
}

export interface DecodeOutcome {
  frame: number;
  ms: number;
  ok?: { rows: number; columns: number; samples: number; photometric: string; sha256: string };
  error?: Caught;
}

export interface WorkRequest {
  id: number;
  file: string;
  frames: number[];
  /** Skip scanFile (warm-up and reference checks). */
  decodeOnly?: boolean;
}

export interface WorkResult {
  id: number;
  scan?: ScanOutcome;
  decodes: DecodeOutcome[];
}

function caught(err: unknown): Caught {
  if (err instanceof ResightError) return { resight: true, name: err.name, code: err.code, path: err.path, message: err.message };
  if (err instanceof Error) {
    const e = err as Error & { code?: unknown };
    return { resight: false, name: e.name, code: typeof e.code === 'string' ? e.code : undefined, message: e.message, stack: e.stack };
  }
  return { resight: false, name: typeof err, message: String(err) };
}

async function handle(req: WorkRequest): Promise<WorkResult> {
  const out: WorkResult = { id: req.id, decodes: [] };
  if (!req.decodeOnly) {
    const t0 = performance.now();
    try {
      const r = scanFile(req.file);
      const ms = performance.now() - t0;
      out.scan = 'code' in r ? { ms, fileError: { code: r.code, message: r.message, path: r.path } } : { ms, header: { path: r.path, rows: r.rows, columns: r.columns, frames: r.frames } };
    } catch (err) {
      out.scan = { ms: performance.now() - t0, threw: caught(err) };
    }
  }
  for (const frame of req.frames) {
    const t0 = performance.now();
    try {
      const f = await loadFrame(req.file, frame);
      const ms = performance.now() - t0;
      const sha256 = createHash('sha256').update(new Uint8Array(f.values.buffer, f.values.byteOffset, f.values.byteLength)).digest('hex');
      out.decodes.push({ frame, ms, ok: { rows: f.decoded.rows, columns: f.decoded.columns, samples: f.values.length, photometric: f.decoded.photometric, sha256 } });
    } catch (err) {
      out.decodes.push({ frame, ms: performance.now() - t0, error: caught(err) });
    }
  }
  return out;
}

parentPort?.on('message', (req: WorkRequest) => {
  handle(req).then(
    (res) => parentPort?.postMessage(res),
    (err) => parentPort?.postMessage({ id: req.id, decodes: [], scan: { ms: 0, threw: caught(err) } } satisfies WorkResult),
  );
});
