/** Atomic file writes: a reader (or a crash) never sees half a file. */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface AtomicWriteOptions {
  /** false: fail with EEXIST rather than replace an existing file (checked atomically). Default true. */
  overwrite?: boolean;
  /**
   * The file's mode (before the umask). Default 0600: what ReSight writes (reports, decisions,
   * settings, cached results) is about patients, and another account on the machine must not read
   * it because the umask happened to allow it.
   */
  mode?: number;
}

/**
 * Write a file atomically: a temp file beside it (same folder, so the same file system), fsync,
 * then rename over the target, or, without `overwrite`, hard-link it into place, which fails
 * atomically when the target exists (no check-then-write race). A crash at any point leaves at
 * most a hidden `.name.pid.time.tmp` file, never a partial file under the target name.
 */
export function writeFileAtomic(target: string, data: Uint8Array | string, options: AtomicWriteOptions = {}): void {
  const dir = path.dirname(path.resolve(target));
  const tmp = path.join(dir, `.${path.basename(target)}.${process.pid}.${Date.now()}.tmp`);
  const fd = fs.openSync(tmp, 'wx', options.mode ?? 0o600);
  try {
    try {
      const bytes = typeof data === 'string' ? Buffer.from(data) : data;
      // writeSync may write less than asked (large buffers, some file systems): loop.
      for (let off = 0; off < bytes.byteLength; ) off += fs.writeSync(fd, bytes, off, bytes.byteLength - off);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    const syncDir = () => {
      // the rename itself is durable only once the folder is flushed (not possible on Windows)
      try {
        const d = fs.openSync(dir, 'r');
        try {
          fs.fsyncSync(d);
        } finally {
          fs.closeSync(d);
        }
      } catch {
        /* best effort */
      }
    };
    if (options.overwrite === false) {
      try {
        fs.linkSync(tmp, target);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        // file systems without hard links (some network/FAT mounts): best effort check + rename
        if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV' && code !== 'EISDIR' && code !== 'ENOSYS') throw err;
        if (fs.existsSync(target)) throw Object.assign(new Error(`EEXIST: file already exists, '${target}'`), { code: 'EEXIST' });
        fs.renameSync(tmp, target);
        syncDir();
        return;
      }
      fs.rmSync(tmp, { force: true });
    } else {
      fs.renameSync(tmp, target);
    }
    syncDir();
  } catch (err) {
    // A failed write (disk full, ...) or rename must not leave the temp file behind.
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}
