/**
 * Reading files that come from the user (study folders, model folders): opened so that a FIFO or
 * device named like a file cannot hang the app, and read until full (readSync may return less).
 */
import * as fs from 'node:fs';

/** What a path that is not a regular file is, in words (for error messages). */
export function fileKind(st: fs.Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

/** The path is not a regular file: `stats` says what it is. */
export class NotRegularFile extends Error {
  constructor(readonly stats: fs.Stats) {
    super('not a regular file');
    this.name = 'NotRegularFile';
  }
}

/**
 * Open a regular file read-only. O_NONBLOCK because opening a FIFO for reading blocks until some
 * writer opens it, i.e. forever; it does not change reads of regular files (Windows has no such
 * flag, and no FIFOs in the file system). The check is on the opened descriptor (fstat), so the
 * path cannot be swapped between check and read. Throws the file system's error as it is, or
 * NotRegularFile (the descriptor closed): callers word them for their own error codes.
 */
export function openRegularFile(path: string): { fd: number; size: number } {
  const fd = fs.openSync(path, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new NotRegularFile(st);
    return { fd, size: st.size };
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
}

/** Read into `buf` from file offset `position` until it is full or the file ends; the bytes read. */
export function readFully(fd: number, buf: Uint8Array, position: number): number {
  let off = 0;
  while (off < buf.length) {
    const n = fs.readSync(fd, buf, off, buf.length - off, position + off);
    if (n === 0) break;
    off += n;
  }
  return off;
}
