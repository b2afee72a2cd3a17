/**
 * Reading DICOM files from disk: header-only (a prefix of the file, grown 8x at a time) and whole.
 * Files are opened read-only and never written; every failure becomes a ResightError naming
 * the file.
 */
import * as fs from 'node:fs';
import { ResightError } from '../errors';
import { readU32LE } from '../io/bytes';
import { fileKind, NotRegularFile, openRegularFile, readFully } from '../io/files';
import { declaredFramesOf } from './header';
import type { ParsedDicom } from './parse';
import { NeedMoreBytes, parseDicomBytes, pixelDataElement } from './parse';
import type { ByteReader, EncapsulatedExtent } from './pixel-data';
import { walkEncapsulated } from './pixel-data';
import { DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN } from './transfer-syntax';

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

/** A regular file opened (io/files.ts); anything else, or a file that cannot be opened, is FILE_UNREADABLE. */
function openFile(path: string): { fd: number; size: number } {
  try {
    return openRegularFile(path);
  } catch (err) {
    if (err instanceof NotRegularFile) throw new ResightError('FILE_UNREADABLE', err.stats.isDirectory() ? 'is a directory' : `not a regular file (${fileKind(err.stats)})`, { path });
    throw fsError(err, path);
  }
}

function readPrefix(fd: number, length: number, scratch?: ScratchBuffer): Uint8Array {
  // Plain Uint8Arrays throughout: Buffer#slice does not copy, which surprises typed-array code.
  const buf = scratch ? scratch.take(length) : new Uint8Array(length);
  return buf.subarray(0, readFully(fd, buf, 0));
}

/** Read and parse a whole file (into `scratch` when given: the result dies with the next read). */
export function readDicomFile(path: string, scratch?: ScratchBuffer): ParsedDicom {
  let bytes: Uint8Array;
  const { fd, size } = openFile(path);
  try {
    bytes = readPrefix(fd, size, scratch);
  } catch (err) {
    throw fsError(err, path);
  } finally {
    fs.closeSync(fd);
  }
  return parseDicomBytes(bytes, path);
}

export interface HeaderRead extends ParsedDicom {
  fileSize: number;
  /**
   * Encapsulated Pixel Data: its item headers, walked without reading the fragments (how many
   * fragments, and whether the Sequence Delimitation Item is there or the file ends first).
   */
  encapsulated?: EncapsulatedExtent;
}

/** Fragments counted at most (each costs at most one small read); beyond any real object. */
const MAX_WALKED_FRAGMENTS = 1 << 20;
/** The walk's read window: one page-sized read per large fragment, or per run of small ones. */
const WALK_WINDOW_BYTES = 4096;
/** Shared by every walk in this thread: a walk runs synchronously inside one readDicomHeader. */
let walkWindow: Uint8Array | undefined;

/**
 * Reads for the fragment walk: from the bytes already in memory when they cover the range, else
 * from the file through a small window.
 */
function fileReader(fd: number, size: number, inMemory: Uint8Array): ByteReader {
  let windowStart = 0;
  let windowLength = 0;
  return (offset, length) => {
    if (offset + length <= inMemory.length) return inMemory.subarray(offset, offset + length);
    if (offset >= size) return new Uint8Array(0);
    walkWindow ??= new Uint8Array(WALK_WINDOW_BYTES);
    const window = walkWindow;
    if (windowLength === 0 || offset < windowStart || offset + length > windowStart + windowLength) {
      windowStart = offset;
      windowLength = readFully(fd, window, offset);
    }
    const at = offset - windowStart;
    return window.subarray(at, Math.min(at + length, windowLength));
  };
}

/** The Sequence Delimitation Item (FFFE,E0DD) with its zero length, as it ends encapsulated Pixel Data. */
const SEQUENCE_DELIMITER = Uint8Array.of(0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0);

/** Whether the last `WALK_WINDOW_BYTES` of the file (one read through the walk's window) hold the Sequence Delimitation Item. */
function tailHasDelimiter(read: ByteReader, size: number, from: number): boolean {
  const start = Math.max(from, size - WALK_WINDOW_BYTES);
  return Buffer.from(read(start, size - start)).indexOf(SEQUENCE_DELIMITER) >= 0;
}

/**
 * Whether the Basic Offset Table vouches for `frames` frames: one offset per frame, increasing,
 * the last one inside the file (PS3.5 A.4: offsets from the first fragment's item tag).
 */
function offsetTableFits(read: ByteReader, start: number, frames: number, size: number): boolean {
  const h = read(start, 8);
  if (h.length < 8 || h[0] !== 0xfe || h[1] !== 0xff || h[2] !== 0x00 || h[3] !== 0xe0) return false;
  const length = readU32LE(h, 4);
  if (length !== frames * 4) return false;
  const firstFragment = start + 8 + length;
  let prev = -1;
  for (let i = 0; i < frames; i += 1024) {
    const n = Math.min(1024, frames - i);
    const chunk = read(start + 8 + i * 4, n * 4);
    if (chunk.length < n * 4) return false;
    for (let k = 0; k < n; k++) {
      const v = readU32LE(chunk, k * 4);
      if (v <= prev && !(i === 0 && k === 0)) return false;
      prev = v;
    }
  }
  return firstFragment + prev + 8 <= size;
}

/**
 * Walk the item headers of encapsulated Pixel Data, if the header read found such an element;
 * undefined when there is nothing to find out. The walk costs a read per fragment larger than
 * its window (20,000 reads for a 20,000-frame cine), so it is skipped when it cannot change the
 * answer: the Basic Offset Table has one entry per declared frame, inside the file (NumberOfFrames
 * is not a lie the table would have to repeat), and the file ends with the delimiter (not cut).
 * Without a table, the fragments are counted: NumberOfFrames is trusted no further than they go.
 */
function encapsulatedExtent(parsed: ParsedDicom, fd: number, size: number): EncapsulatedExtent | undefined {
  const el = pixelDataElement(parsed.dataSet);
  if (!el || !el.hadUndefinedLength) return undefined;
  // A deflated data set was inflated whole: its offsets are into the inflated bytes, not the file.
  if (parsed.transferSyntaxUid === DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN) return walkEncapsulated((o, l) => parsed.bytes.subarray(o, o + l), el.dataOffset, MAX_WALKED_FRAGMENTS);
  const frames = declaredFramesOf(parsed.dataSet);
  const read = fileReader(fd, size, parsed.bytes);
  if (frames > 1 && offsetTableFits(read, el.dataOffset, frames, size) && tailHasDelimiter(read, size, el.dataOffset)) return undefined;
  return walkEncapsulated(read, el.dataOffset, MAX_WALKED_FRAGMENTS);
}

/**
 * Read only as much of the file as the header needs (stops before Pixel Data). Falls back to
 * the whole file when the header is longer than the first read or the prefix cannot be parsed
 * on its own (deflated data sets, no Pixel Data at all).
 */
export function readDicomHeader(path: string, scratch?: ScratchBuffer): HeaderRead {
  const { fd, size } = openFile(path);
  try {
    if (size === 0) throw new ResightError('FILE_EMPTY', 'file is empty (0 bytes)', { path });
    const done = (parsed: ParsedDicom): HeaderRead => {
      const out: HeaderRead = { ...parsed, fileSize: size };
      const extent = encapsulatedExtent(parsed, fd, size);
      if (extent) out.encapsulated = extent;
      return out;
    };
    for (let length = HEADER_PREFIX_BYTES; length < size; length *= HEADER_PREFIX_GROWTH) {
      const prefix = readPrefix(fd, length, scratch);
      let parsed: ParsedDicom;
      try {
        parsed = parseDicomBytes(prefix, path, { untilPixelData: true, partial: true });
      } catch (err) {
        // NOT_DICOM is decided by the first bytes alone; anything else may be the prefix's fault.
        if (err instanceof ResightError && err.code === 'NOT_DICOM') throw err;
        if (!(err instanceof NeedMoreBytes) && !(err instanceof ResightError)) throw err;
        continue;
      }
      return done(parsed);
    }
    const whole = readPrefix(fd, size, scratch);
    return done(parseDicomBytes(whole, path, { untilPixelData: true }));
  } catch (err) {
    if (err instanceof ResightError || err instanceof NeedMoreBytes) throw err;
    throw fsError(err, path);
  } finally {
    fs.closeSync(fd);
  }
}
