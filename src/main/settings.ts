/** User settings of the desktop app (settings.json in the app data folder), validated with zod. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../core/io/atomic';
import { settingsSchema } from '../shared/settings';
import type { Settings } from '../shared/settings';

export { settingsSchema };
export type { Settings };

/** Apply `patch` to the settings on disk (re-read first: the viewer may have changed them). */
export function updateSettings(dir: string, patch: Partial<Settings>): Settings {
  const next = { ...loadSettings(dir).settings, ...patch };
  saveSettings(dir, next);
  return next;
}

/** Settings from `dir/settings.json`; a missing or invalid file gives the defaults (and says why). */
export function loadSettings(dir: string): { settings: Settings; problem?: string } {
  const file = path.join(dir, 'settings.json');
  if (!fs.existsSync(file)) return { settings: settingsSchema.parse({}) };
  try {
    const r = settingsSchema.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
    if (r.success) return { settings: r.data };
    return { settings: settingsSchema.parse({}), problem: `settings.json ignored: ${r.error.issues[0]?.message ?? 'invalid'}` };
  } catch (err) {
    return { settings: settingsSchema.parse({}), problem: `settings.json ignored: ${(err as Error).message}` };
  }
}

export function saveSettings(dir: string, s: Settings): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileAtomic(path.join(dir, 'settings.json'), JSON.stringify(settingsSchema.parse(s), null, 2) + '\n');
}

/** The model card in a bring-your-own model folder (the first *.card.json), if any. */
export function modelCardIn(folder: string | undefined): string | undefined {
  if (!folder || !fs.existsSync(folder)) return undefined;
  const card = fs.readdirSync(folder).find((f) => f.endsWith('.card.json'));
  return card ? path.join(folder, card) : undefined;
}
