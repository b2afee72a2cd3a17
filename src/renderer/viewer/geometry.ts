/** Screen <-> image coordinates of the viewport, orientation letters, scale bars: pure functions. */
import { directionLetters } from '../../shared/orientation';
import type { ViewState } from './types';

export { directionLetters };

/** Image pixel coordinates (edges: 0..columns) of a point in CSS pixels of the canvas. */
export function screenToImage(x: number, y: number, canvasW: number, canvasH: number, columns: number, rows: number, v: ViewState): [number, number] {
  return [(x - canvasW / 2 - v.panX) / v.zoom + columns / 2, (y - canvasH / 2 - v.panY) / v.zoom + rows / 2];
}

export function imageToScreen(ix: number, iy: number, canvasW: number, canvasH: number, columns: number, rows: number, v: ViewState): [number, number] {
  return [(ix - columns / 2) * v.zoom + canvasW / 2 + v.panX, (iy - rows / 2) * v.zoom + canvasH / 2 + v.panY];
}

/** Zoom that fits the whole image in the canvas. */
export function fitZoom(canvasW: number, canvasH: number, columns: number, rows: number): number {
  return Math.max(0.01, Math.min(canvasW / columns, canvasH / rows));
}


/** A round length (mm) for a scale bar at most `maxMm` long. */
export function niceMm(maxMm: number): number {
  const steps = [1, 2, 5, 10, 20, 50, 100, 200, 500];
  let best = steps[0];
  for (const s of steps) if (s <= maxMm) best = s;
  return best;
}
