/**
 * settings.json in the app data folder, validated with zod (src/shared/settings.ts): read by the
 * engine (the viewer's Preferences, through the contract) and by the desktop shell (window state,
 * recent studies). A missing file gives the defaults; an invalid one its valid keys (loadSettings).
 * The site policy's preferences (settings/policy.ts) are laid over what the file says, and a
 * change to one of them is refused.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { z } from 'zod';
import { writeFileAtomic } from '../io/atomic';
import { settingsSchema } from '../../shared/settings';
import type { PreferencesPatch, Settings } from '../../shared/settings';
import { ResightError } from '../errors';
import { loadPolicy, type SitePolicy } from './policy';

/** `settings` with `patch` applied: a value replaces, `null` removes (back to the default), `undefined` keeps. */
export function applySettingsPatch(settings: Settings, patch: Partial<Settings> | PreferencesPatch): Settings {
  const next: Record<string, unknown> = { ...settings };
  for (const [k, v] of Object.entries(patch)) {
    // an empty folder is no folder: the default, not '' (which resolves to the current folder)
    if (v === null || (v === '' && (k === 'exportFolder' || k === 'modelFolder'))) delete next[k];
    else if (v !== undefined) next[k] = v;
  }
  return settingsSchema.parse(next);
}

/**
 * Apply `patch` to the settings on disk (re-read first: the viewer may have changed them). A file
 * that does not parse is kept beside the new one (`settings.json.invalid`), never overwritten
 * unseen: someone wrote it by hand, and wants to see what was wrong with it.
 */
export function updateSettings(dir: string, patch: Partial<Settings> | PreferencesPatch, policy: SitePolicy = loadPolicy()): Settings {
  refuseLocked(patch, policy);
  // the file as the user wrote it: the policy's values are laid over it when read, never saved
  // into it (a policy taken away later leaves the user's own choices)
  const loaded = loadSettings(dir, null);
  const next = applySettingsPatch(loaded.settings, withoutLocked(patch, policy));
  if (loaded.problem) fs.copyFileSync(path.join(dir, 'settings.json'), path.join(dir, 'settings.json.invalid'));
  saveSettings(dir, next);
  return withPolicy(next, policy);
}

/** A patch that would change what the site policy fixes is refused (the same value, as a dialog sends back, is not a change). */
export function refuseLocked(patch: Partial<Settings> | PreferencesPatch, policy: SitePolicy): void {
  const fixed = policy.preferences as Record<string, unknown>;
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined || fixed[k] === undefined || JSON.stringify(v) === JSON.stringify(fixed[k])) continue;
    throw new ResightError('VALIDATION', `${k} is set by the site policy (${policy.files.join(', ')}) and cannot be changed here`);
  }
}

/** `patch` without what the policy fixes (refuseLocked let only its own values through). */
export function withoutLocked<T extends Partial<Settings> | PreferencesPatch>(patch: T, policy: SitePolicy): T {
  return Object.fromEntries(Object.entries(patch).filter(([k]) => (policy.preferences as Record<string, unknown>)[k] === undefined)) as T;
}

/** `s` with the site policy's preferences laid over it. */
export function withPolicy(s: Settings, policy: SitePolicy): Settings {
  return { ...s, ...policy.preferences };
}

/**
 * Settings from `dir/settings.json`. A missing file gives the defaults. An invalid one keeps every
 * key that is valid on its own and drops the others (saying which): one mistake, often in a
 * hand-edited entry, must not cost the rest (the installer's PACS among them). A file that is not
 * JSON gives the defaults, and says why.
 */
export function loadSettings(dir: string, policy: SitePolicy | null = loadPolicy()): { settings: Settings; problem?: string } {
  const r = loadSettingsFile(dir);
  return policy ? { ...r, settings: withPolicy(r.settings, policy) } : r;
}

function loadSettingsFile(dir: string): { settings: Settings; problem?: string } {
  const file = path.join(dir, 'settings.json');
  if (!fs.existsSync(file)) return { settings: settingsSchema.parse({}) };
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    return { settings: settingsSchema.parse({}), problem: `settings.json ignored: ${(err as Error).message}` };
  }
  const r = settingsSchema.safeParse(raw);
  if (r.success) return { settings: r.data };
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return { settings: settingsSchema.parse({}), problem: 'settings.json ignored: not a JSON object' };
  const shape = settingsSchema.shape as Record<string, z.ZodType>;
  const kept: Record<string, unknown> = {};
  const dropped: string[] = [];
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (Object.prototype.hasOwnProperty.call(shape, k) && shape[k]?.safeParse(v).success) kept[k] = v;
    else dropped.push(k);
  }
  return { settings: settingsSchema.parse(kept), problem: `settings.json: ${dropped.map((k) => `"${k}"`).join(', ')} ignored (${r.error.issues[0]?.message ?? 'invalid'})` };
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
