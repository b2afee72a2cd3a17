/** Facts of the bundled default model that tests assert against, read from its card (not hard-coded,
 * so a retrained or re-architected model changes the expectations with it). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from './corpus';

export const DEFAULT_CARD = path.join(REPO_ROOT, 'resources', 'models', 'resight-ct-lesion.card.json');

/** [H, W] of a CAM layer of the default model (the card's cam.layerShapes, [N, C, H, W]). */
export function defaultLayerGrid(layer: string): [number, number] {
  const card = JSON.parse(fs.readFileSync(DEFAULT_CARD, 'utf8')) as { cam: { layerShapes: Record<string, (number | string)[]> } };
  const shape = card.cam.layerShapes[layer];
  if (!shape || typeof shape[2] !== 'number' || typeof shape[3] !== 'number') throw new Error(`default card: no spatial shape for ${layer}`);
  return [shape[2], shape[3]];
}
