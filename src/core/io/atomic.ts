/** Atomic file writes: a reader (or a crash) never sees half a file. */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Write a file atomically: a temp file beside it, fsync, rename. Readers never see half a file. */
export function writeFileAtomic(target: string, data: Uint8Array | string): void {
  const dir = path.dirname(path.resolve(target));
  const tmp = path.join(dir, `.${path.basename(target)}.${process.pid}.${Date.now()}.tmp`);
  const fd = fs.openSync(tmp, 'wx', 0o644);
  try {
    try {
      const bytes = typeof data === 'string' ? Buffer.from(data) : data;
      // writeSync may write less than asked (large buffers, some file systems): loop.
      for (let off = 0; off < bytes.byteLength; ) off += fs.writeSync(fd, bytes, off, bytes.byteLength - off);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, target);
  } catch (err) {
    // A failed write (disk full, ...) or rename must not leave the temp file behind.
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

