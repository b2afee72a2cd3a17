/**
 * The shell's log: one line per event in `<app data>/logs/resight.log`, rotated at 1 MiB (5
 * files kept). It never holds patient identifiers: callers log codes, counts and durations, and
 * every message passes through `scrub`, which removes file paths and DICOM UIDs.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const MAX_BYTES = 1 << 20;
const KEEP = 5;

/** Paths (which can hold patient names) and UIDs out of a log message. */
export function scrub(message: string): string {
  return message
    // folder and file names may hold spaces (/data/Smith John/CT 1/Smith John.dcm): a folder runs
    // to the next separator, a file name with spaces to its extension, a last name without one
    // (a folder: /data/Smith John, /data/Smith, John, /data/O'Brien Pat) to the end of the clause
    // (it cannot be told from the words after it, so they go too rather than leave "John" behind)
    .replace(/(?:[A-Za-z]:)?[\\/](?:[^\\/:*?"<>|\n]+[\\/])+(?:[^\\/:*?"<>|\n]*\.[A-Za-z0-9]{1,8}\b|[^\\/:*?"<>|\n;()]*[^\s\\/:*?"<>|\n;(),])?/g, '<path>')
    .replace(/\b\d+(?:\.\d+){4,}\b/g, '<uid>');
}

export class RotatingLog {
  private readonly file: string;
  constructor(dir: string) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.file = path.join(dir, 'resight.log');
  }

  write(level: 'info' | 'warn' | 'error', message: string): void {
    try {
      if (fs.existsSync(this.file) && fs.statSync(this.file).size > MAX_BYTES) this.rotate();
      fs.appendFileSync(this.file, `${new Date().toISOString()} ${level} ${scrub(message)}\n`, { mode: 0o600 });
    } catch {
      // logging must never take the app down
    }
  }

  private rotate(): void {
    for (let i = KEEP - 1; i >= 1; i--) {
      const from = `${this.file}.${i}`;
      if (fs.existsSync(from)) fs.renameSync(from, `${this.file}.${i + 1}`);
    }
    fs.renameSync(this.file, `${this.file}.1`);
    fs.rmSync(`${this.file}.${KEEP + 1}`, { force: true });
  }
}
