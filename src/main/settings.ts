/** User settings of the desktop app (settings.json in the app data folder), validated with zod. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { PROVIDER_NAMES } from '../shared/analysis';
import { CAM_METHOD_NAMES } from '../shared/api';
import { writeFileAtomic } from '../core/io/atomic';

export const settingsSchema = z
  .object({
    provider: z.enum(PROVIDER_NAMES).optional(),
    threads: z.number().int().min(1).max(256).optional(),
    camMethod: z.enum(CAM_METHOD_NAMES).default('gradcam'),
    camLayer: z.string().max(256).optional(),
    /** A folder with a model (.onnx) and its card (.card.json): bring your own model. */
    modelFolder: z.string().max(4096).optional(),
    exportFolder: z.string().max(4096).optional(),
    deidentifyByDefault: z.boolean().default(false),
    recent: z.array(z.string().max(4096)).max(10).default([]),
    window: z.object({ x: z.number().int(), y: z.number().int(), width: z.number().int().min(400), height: z.number().int().min(300), maximized: z.boolean() }).partial().default({}),
  })
  .strict();

export type Settings = z.infer<typeof settingsSchema>;

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
