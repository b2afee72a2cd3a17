/** The desktop app's settings: the settings file (core/settings/file.ts) and bring-your-own models. */
import * as fs from 'node:fs';
import * as path from 'node:path';

export { loadSettings, saveSettings, updateSettings } from '../core/settings/file';
export type { Settings } from '../shared/settings';

/** The model card in a bring-your-own model folder (the first *.card.json), if any. */
export function modelCardIn(folder: string | undefined): string | undefined {
  if (!folder || !fs.existsSync(folder)) return undefined;
  const card = fs.readdirSync(folder).find((f) => f.endsWith('.card.json'));
  return card ? path.join(folder, card) : undefined;
}
