/**
 * Where the default model's card is: RESIGHT_MODEL when set, else resources/models beside the
 * application (the source checkout, app/dist, or Electron's resources folder when packaged,
 * where electron-builder puts extraResources).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const DEFAULT_MODEL_CARD = 'resight-ct-lesion.card.json';

export function defaultModelCard(extraRoots: readonly string[] = []): string | undefined {
  if (process.env.RESIGHT_MODEL) return process.env.RESIGHT_MODEL;
  const roots = [...extraRoots];
  const resourcesPath = (process as { resourcesPath?: string }).resourcesPath;
  if (resourcesPath) roots.push(resourcesPath);
  // Walk up from this file: src/core/inference (tsx) or app/dist/core/inference (built).
  for (let dir = __dirname, k = 0; k < 6; k++, dir = path.dirname(dir)) roots.push(dir);
  for (const root of roots) {
    for (const candidate of [path.join(root, 'resources', 'models', DEFAULT_MODEL_CARD), path.join(root, 'models', DEFAULT_MODEL_CARD)]) {
      if (fs.existsSync(candidate)) return candidate;
    }
  }
  return undefined;
}
