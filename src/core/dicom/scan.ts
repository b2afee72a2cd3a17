/**
 * Scanning: paths (files, folders, DICOMDIRs) -> headers -> Patient > Study > Series.
 *
 * Headers only: Pixel Data is never read here. Every file that is not used is listed with its
 * reason (not DICOM, truncated, no image, ...); one bad file never stops a study from opening.
 * Nothing is written anywhere.
 */
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import type { FileError, InstanceHeader, ScanProgress, ScanResult } from '../../shared/dicom';
import { ResightError, toErrorInfo } from '../errors';
import { instanceHeader } from './header';
import { pixelDataElement } from './parse';
import { framesThatFit } from './pixel-data';
import { DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN } from './transfer-syntax';
import { fileKind } from '../io/files';
import { readDicomFile, readDicomHeader, ScratchBuffer } from './read';
import type { AssembledStudy } from './series';
import { assembleStudies } from './series';
import type { WorkerPool } from '../workers/pool';
import { sharedWorkerPool } from '../workers/pool';
import { count } from '../../shared/plural';

export const MEDIA_STORAGE_DIRECTORY_SOP_CLASS = '1.2.840.10008.1.3.10';

export interface ScanOptions {
  onProgress?: (p: ScanProgress) => void;
  /** Worker pool for large scans; null scans in-thread. Default: the shared pool. */
  pool?: WorkerPool | null;
  /** Minimum interval between progress events, ms (the last event is always sent). */
  progressIntervalMs?: number;
  signal?: AbortSignal;
}

export interface ScanOutput extends ScanResult {
  studies: AssembledStudy[];
  headers: InstanceHeader[];
}

/**
 * The path with every symlink resolved; for a path that does not exist (yet), its deepest
 * existing folder resolved and the rest appended, so it still compares with resolved paths.
 */
export function realPath(p: string): string {
  const abs = nodePath.resolve(p);
  try {
    return fs.realpathSync.native(abs);
  } catch {
    const parent = nodePath.dirname(abs);
    return parent === abs ? abs : nodePath.join(realPath(parent), nodePath.basename(abs));
  }
}

/** Folders are followed at most this deep (a guard for pathological trees, not for loops). */
const MAX_FOLDER_DEPTH = 32;

/**
 * Expand paths into files (folders recursively, sorted for a stable order). Symlinks are
 * followed, but each folder is read and each file listed once, compared by real path: a link
 * back to a parent folder (`ln -s . loop`) would otherwise list the tree again at every level
 * (2^depth times with two such links). `realPaths` holds the real paths of the files listed and
 * of the non-regular ones reported (FIFOs, devices), so a DICOMDIR does not queue them again.
 */
export function listFiles(paths: readonly string[]): { files: string[]; errors: FileError[]; realPaths: Set<string> } {
  const files: string[] = [];
  const errors: FileError[] = [];
  const realPaths = new Set<string>();
  const seenDirs = new Set<string>();
  // `realDir`: the real path of the folder `p` was listed from (undefined for the paths given).
  // An entry that is not a symlink has the real path realDir/name: only links cost a realpath
  // call (one per file made the scan of a 300-file series about 5 % slower).
  const visit = (p: string, depth: number, realDir?: string) => {
    let st: fs.Stats;
    let real: string;
    try {
      const lst = realDir === undefined ? undefined : fs.lstatSync(p);
      st = lst && !lst.isSymbolicLink() ? lst : fs.statSync(p);
      real = lst && !lst.isSymbolicLink() && realDir !== undefined ? nodePath.join(realDir, nodePath.basename(p)) : realPath(p);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      errors.push({ path: p, code: 'FILE_UNREADABLE', message: e.code === 'ENOENT' ? 'file not found' : e.message });
      return;
    }
    if (st.isDirectory()) {
      if (depth > MAX_FOLDER_DEPTH) return;
      if (seenDirs.has(real)) return;
      seenDirs.add(real);
      let entries: string[];
      try {
        entries = fs.readdirSync(p).sort();
      } catch (err) {
        errors.push({ path: p, code: 'FILE_UNREADABLE', message: (err as Error).message });
        return;
      }
      for (const name of entries) visit(nodePath.join(p, name), depth + 1, real);
    } else if (st.isFile()) {
      if (!realPaths.has(real)) {
        realPaths.add(real);
        files.push(p);
      }
    } else if (!realPaths.has(real)) {
      // FIFOs, sockets, devices: reading one would block or never end; say why it is skipped
      realPaths.add(real);
      errors.push({ path: p, code: 'FILE_UNREADABLE', message: `not a regular file (${fileKind(st)})` });
    }
  };
  for (const p of paths) visit(p, 0);
  return { files, errors, realPaths };
}

/**
 * Resolve a DICOMDIR's ReferencedFileIDs to paths. Components are matched case-insensitively,
 * because media written on one OS are routinely read on another. A reference may only point
 * inside the DICOMDIR's own folder: PS3.10 file IDs are plain components, so `.`/`..` or an
 * absolute component (a crafted disc pulling in files from elsewhere on the disk, outside what
 * the user chose to open) makes the reference ignored, and so does one that resolves outside the
 * folder through a symlink (compared by real path).
 */
export function dicomdirReferences(dicomdirPath: string): string[] {
  const parsed = readDicomFile(dicomdirPath);
  const seq = parsed.dataSet.elements['x00041220'];
  const base = nodePath.dirname(dicomdirPath);
  const realBase = realPath(base);
  const out: string[] = [];
  for (const item of seq?.items ?? []) {
    const id = item.dataSet?.string('x00041500');
    if (!id) continue;
    const parts = id.split('\\').map((s) => s.trim()).filter(Boolean);
    if (parts.some((p) => p === '.' || p === '..' || /[/:]/.test(p) || nodePath.isAbsolute(p))) continue;
    let cur = base;
    for (const part of parts) {
      const direct = nodePath.join(cur, part);
      if (fs.existsSync(direct)) {
        cur = direct;
        continue;
      }
      let match: string | undefined;
      try {
        match = fs.readdirSync(cur).find((n) => n.toLowerCase() === part.toLowerCase());
      } catch {
        match = undefined;
      }
      cur = nodePath.join(cur, match ?? part);
    }
    // relative, not a prefix test: a DICOMDIR at a drive or share root (D:\DICOMDIR) has a base
    // that already ends in a separator
    const rel = nodePath.relative(realBase, realPath(cur));
    if (!rel || rel === '..' || rel.startsWith('..' + nodePath.sep) || nodePath.isAbsolute(rel)) continue;
    out.push(cur);
  }
  return out;
}

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Image storage SOP Classes (PS3.4 B.5) common enough to matter: an object of one of these
 * without Pixel Data is an image cut short, not a non-image object. Objects of other classes
 * count as images when they carry the Image Pixel attributes (Rows, Columns, BitsAllocated).
 */
const IMAGE_STORAGE_SOP_CLASSES = new Set(
  [
    '1', '1.1', '1.1.1', '1.2', '1.2.1', '1.3', '1.3.1', // CR, DX, MG, IO
    '2', '2.1', '2.2', // CT, enhanced CT, legacy converted
    '3.1', '6.1', '6.2', // US multi-frame, US, enhanced US volume
    '4', '4.1', '4.3', '4.4', // MR, enhanced MR, MR color, legacy converted
    '7', '7.1', '7.2', '7.3', '7.4', // secondary capture
    '12.1', '12.1.1', '12.2', '12.2.1', '13.1.1', '13.1.2', '13.1.3', // XA, RF, 3D X-ray, tomosynthesis
    '20', '128', '128.1', '130', // NM, PET, legacy converted PET, enhanced PET
    '481.1', // RT Image
    '77.1.1', '77.1.2', '77.1.4', '77.1.5.1', '77.1.5.2', // VL endoscopic, microscopic, photographic, ophthalmic
  ].map((s) => `1.2.840.10008.5.1.4.1.1.${s}`),
);

const isImageObject = (h: InstanceHeader) => IMAGE_STORAGE_SOP_CLASSES.has(h.sopClassUid) || (h.rows > 0 && h.columns > 0 && h.bitsAllocated > 0);

/** Read one file's header, classifying it. Returns a header or the reason it is not used. */
export function scanFile(path: string, scratch?: ScratchBuffer): InstanceHeader | FileError {
  try {
    // The header is extracted right here, so the parse may live in a reused scratch buffer.
    const parsed = readDicomHeader(path, scratch);
    const header = instanceHeader(parsed, path);
    if (header.sopClassUid === MEDIA_STORAGE_DIRECTORY_SOP_CLASS) {
      return { path, code: 'DICOMDIR', message: 'DICOMDIR index (its referenced files are scanned)' };
    }
    const el = pixelDataElement(parsed.dataSet);
    if (!el) {
      // The data set ended on an element boundary before Pixel Data: for an image, a cut file.
      if (isImageObject(header)) {
        return { path, code: 'FILE_TRUNCATED', message: `an image (SOP Class ${header.sopClassUid || 'unknown'}) with no Pixel Data: the file ends before its pixels (${parsed.fileSize} bytes)` };
      }
      return { path, code: 'NO_PIXEL_DATA', message: `no image in this object (SOP Class ${header.sopClassUid || 'unknown'})` };
    }
    if (!header.rows || !header.columns || !header.bitsAllocated) {
      return { path, code: 'PARSE_FAILED', message: 'image attributes missing (Rows/Columns/BitsAllocated)' };
    }
    const name = nodePath.basename(path);
    // Series assembly makes one slice per frame: NumberOfFrames is trusted only as far as the
    // Pixel Data can hold frames (200 tiny files claiming 99999 frames each must not become
    // 20 million slices). The decoder still reports the missing frames as it finds them.
    const fit = framesThatFit(header, el, parsed.encapsulated);
    if (fit !== undefined && Math.max(1, fit) < header.frames) {
      const kept = Math.max(1, fit);
      header.warnings.push(`${name}: NumberOfFrames is ${header.frames}, but its Pixel Data holds ${count(fit, 'frame')}: ${kept} used`);
      header.frames = kept;
      if (header.perFrame) header.perFrame = header.perFrame.slice(0, kept);
    }
    // The header read stops at PixelData, so a file cut inside its pixels still scans; say so now
    // (a complete copy of the same instance elsewhere is then preferred: series.ts)
    const available = parsed.transferSyntaxUid === DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN ? parsed.bytes.length : parsed.fileSize;
    if (parsed.encapsulated?.end === 'cut') {
      header.pixelDataTruncated = true;
      header.warnings.push(`${name}: the file ends inside its pixel data (${count(parsed.encapsulated.fragments, 'fragment')}, no end of the encapsulated data)`);
    } else if (!el.hadUndefinedLength && el.length !== 0xffffffff && el.dataOffset + el.length > available) {
      header.pixelDataTruncated = true;
      header.warnings.push(`${name}: the file ends inside its pixel data (${Math.max(0, available - el.dataOffset)} of ${el.length} bytes)`);
    }
    if (!header.seriesInstanceUid || !header.studyInstanceUid) {
      header.warnings.push('missing Study/Series Instance UID: grouped under a placeholder');
    }
    return header;
  } catch (err) {
    const info = toErrorInfo(err, path);
    return { ...info, path };
  }
}

/** Below this many files a scan stays in-thread (starting workers is not free). */
const PARALLEL_MIN_FILES = 64;
/** Files per worker job: large enough to amortise messaging, small enough for smooth progress. */
const SCAN_BATCH = 32;

/**
 * Follow a DICOMDIR: queue the files it references (once each) and say so in its entry.
 * Runs on the calling thread: the index is read in full, once per DICOMDIR.
 */
function followDicomdir(entry: FileError, queue: string[], queued: Set<string>): void {
  try {
    const refs = dicomdirReferences(entry.path);
    for (const ref of refs) {
      const real = realPath(ref);
      if (!queued.has(real)) {
        queued.add(real);
        queue.push(ref);
      }
    }
    entry.message = `DICOMDIR index of ${refs.length} files (scanned)`;
  } catch (err) {
    const e = err instanceof ResightError ? err.detail : (err as Error).message;
    entry.message = `DICOMDIR could not be read: ${e}`;
  }
}

/**
 * Scan paths into studies. Cancellable through `signal` (rejects with the signal's reason).
 * Large scans read headers in the worker pool (untrusted parsing off this thread, all cores);
 * small ones in-thread, yielding to the event loop every ~20 ms.
 */
export async function scanPaths(paths: readonly string[], options: ScanOptions = {}): Promise<ScanOutput> {
  const checkAborted = () => {
    if (options.signal?.aborted) throw options.signal.reason ?? new Error('aborted');
  };
  checkAborted();
  const { files, errors, realPaths } = listFiles(paths);
  const queue = [...files];
  const queued = realPaths;
  const results: (InstanceHeader | FileError)[] = [];
  const interval = options.progressIntervalMs ?? 50;
  let lastEmit = 0;
  let done = 0;
  let failed = errors.length;
  const record = (i: number, result: InstanceHeader | FileError) => {
    results[i] = result;
    if ('code' in result) {
      failed++;
      if (result.code === 'DICOMDIR') followDicomdir(result, queue, queued);
    }
    done++;
    const now = Date.now();
    if (options.onProgress && (now - lastEmit >= interval || done === queue.length)) {
      lastEmit = now;
      options.onProgress({ done, total: queue.length, path: queue[i], errors: failed });
    }
  };
  const pool = options.pool === undefined ? sharedWorkerPool() : options.pool;
  if (pool && queue.length >= PARALLEL_MIN_FILES) await scanParallel(queue, pool, record, checkAborted);
  else await scanInThread(queue, record, checkAborted);
  // A cancel that arrived during the last file (or its progress event) still cancels.
  checkAborted();
  const headers: InstanceHeader[] = [];
  for (const r of results) {
    if ('code' in r) errors.push(r);
    else headers.push(r);
  }
  const studies = assembleStudies(headers, errors);
  return { studies, errors, filesScanned: queue.length, headers };
}

type Record = (index: number, result: InstanceHeader | FileError) => void;

async function scanInThread(queue: string[], record: Record, checkAborted: () => void): Promise<void> {
  let sliceStart = Date.now();
  const scratch = new ScratchBuffer();
  for (let i = 0; i < queue.length; i++) {
    checkAborted();
    record(i, scanFile(queue[i], scratch));
    // Keep the event loop (the Electron main process, the bridge) responsive.
    if (Date.now() - sliceStart > 20) {
      await yieldToLoop();
      sliceStart = Date.now();
    }
  }
}

async function scanParallel(queue: string[], pool: WorkerPool, record: Record, checkAborted: () => void): Promise<void> {
  let next = 0;
  const inFlight = new Set<Promise<void>>();
  const maxInFlight = pool.size * 2;
  // `queue` may grow while we work (DICOMDIR references), so loop until nothing is pending.
  while (next < queue.length || inFlight.size) {
    checkAborted();
    while (next < queue.length && inFlight.size < maxInFlight) {
      const start = next;
      const batch = queue.slice(start, start + SCAN_BATCH);
      next += batch.length;
      const p: Promise<void> = pool.scan(batch).then(
        (reply) => reply.results.forEach((r, k) => record(start + k, r)),
        (err: Error) => batch.forEach((path, k) => record(start + k, { path, code: 'INTERNAL', message: `header reader failed: ${err.message}` })),
      );
      const tracked = p.finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
    }
    if (inFlight.size) await Promise.race(inFlight);
  }
}
