/**
 * Reading DICOM files from disk: header-only (a prefix of the file, grown 8x at a time) and whole.
 * Files are opened read-only and never written; every failure becomes a ResightError naming
 * the file.
 */
import * as fs from 'node:fs';
import { ResightError } from '../errors';
import type { ParsedDicom } from './parse';
import { NeedMoreBytes, parseDicomBytes } from './parse';

/**
 * Most headers fit in the first read; larger ones (big private blocks such as Siemens' CSA
 * headers, enhanced multi-frame functional groups) get a read 8x larger, and so on, before the
 * whole file: a 40 KB header in a 500 KB MR slice (or in a 2 GB multi-frame) must not read it all.
 */
const HEADER_PREFIX_BYTES = 16 * 1024;
const HEADER_PREFIX_GROWTH = 8;

/**
 * A reusable read buffer. Allocating a fresh multi-hundred-KB Buffer per file costs page faults
 * that dominate reading a cached CT slice; hot loops (scan, volume decode) reuse one instead.
 * Whatever is parsed from it is only valid until the next read into the same scratch.
 */
export class ScratchBuffer {
  private buf = new Uint8Array(0);
  take(length: number): Uint8Array {
    if (this.buf.length < length) this.buf = new Uint8Array(Math.max(length, Math.floor(this.buf.length * 1.5)));
    return this.buf.subarray(0, length);
  }
}

function fsError(err: unknown, path: string): ResightError {
  const e = err as NodeJS.ErrnoException;
  const why = e?.code === 'ENOENT' ? 'file not found' : e?.code === 'EACCES' ? 'permission denied' : e?.code === 'EISDIR' ? 'is a directory' : (e?.message ?? String(err));
  return new ResightError('FILE_UNREADABLE', why, { path, cause: err });
}

function readPrefix(fd: number, length: number, scratch?: ScratchBuffer): Uint8Array {
  // Plain Uint8Arrays throughout: Buffer#slice does not copy, which surprises typed-array code.
  const buf = scratch ? scratch.take(length) : new Uint8Array(length);
  let off = 0;
  while (off < length) {
    const n = fs.readSync(fd, buf, off, length - off, off);
    if (n === 0) break;
    off += n;
  }
  return buf.subarray(0, off);
}

/** Read and parse a whole file (into `scratch` when given: the result dies with the next read). */
export function readDicomFile(path: string, scratch?: ScratchBuffer): ParsedDicom {
  let bytes: Uint8Array;
  let fd: number | undefined;
  try {
    fd = fs.openSync(path, 'r');
    bytes = readPrefix(fd, fs.fstatSync(fd).size, scratch);
  } catch (err) {
    throw fsError(err, path);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
  return parseDicomBytes(bytes, path);
}

/**
 * Read only as much of the file as the header needs (stops before Pixel Data). Falls back to
 * the whole file when the header is longer than the first read or the prefix cannot be parsed
 * on its own (deflated data sets, no Pixel Data at all).
 */
export function readDicomHeader(path: string, scratch?: ScratchBuffer): ParsedDicom & { fileSize: number } {
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch (err) {
    throw fsError(err, path);
  }
  try {
    const size = fs.fstatSync(fd).size;
    if (size === 0) throw new ResightError('FILE_EMPTY', 'file is empty (0 bytes)', { path });
    for (let length = HEADER_PREFIX_BYTES; length < size; length *= HEADER_PREFIX_GROWTH) {
      const prefix = readPrefix(fd, length, scratch);
      try {
        return { ...parseDicomBytes(prefix, path, { untilPixelData: true, partial: true }), fileSize: size };
      } catch (err) {
        // NOT_DICOM is decided by the first bytes alone; anything else may be the prefix's fault.
        if (err instanceof ResightError && err.code === 'NOT_DICOM') throw err;
        if (!(err instanceof NeedMoreBytes) && !(err instanceof ResightError)) throw err;
      }
    }
    const whole = readPrefix(fd, size, scratch);
    return { ...parseDicomBytes(whole, path, { untilPixelData: true }), fileSize: size };
  } catch (err) {
    if (err instanceof ResightError || err instanceof NeedMoreBytes) throw err;
    throw fsError(err, path);
  } finally {
    fs.closeSync(fd);
  }
}
