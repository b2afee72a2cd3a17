/**
 * The desktop app's data used to live in Electron's userData (on Linux ~/.config/ReSight, unlike
 * `resight serve`'s ~/.local/share/resight); it now lives in the shared data folder
 * (core/inference/cache.ts defaultDataDir). On the first start after the change, what the old
 * folder holds is copied into the new one, so an admin's settings.json and a reviewer's decisions,
 * sign-offs and exports are still there. Copied, not moved: the old folder stays as it was.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** What ReSight keeps in its data folder (the rest of userData is Chromium's). */
const ENTRIES = ['settings.json', 'reviews', 'exports', 'logs'];

/** Copy ReSight's entries from `from` into `to` when `to` has none of them yet; returns what was copied. */
export function migrateDataDir(from: string, to: string): string[] {
  if (path.resolve(from) === path.resolve(to)) return [];
  // the new folder in use (resight serve, or an earlier start): never mixed with the old one
  if (ENTRIES.some((e) => fs.existsSync(path.join(to, e)))) return [];
  const found = ENTRIES.filter((e) => fs.existsSync(path.join(from, e)));
  if (!found.length) return [];
  fs.mkdirSync(to, { recursive: true, mode: 0o700 });
  for (const e of found) fs.cpSync(path.join(from, e), path.join(to, e), { recursive: true, force: false, errorOnExist: false, preserveTimestamps: true });
  return found;
}
