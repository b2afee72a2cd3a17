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


/**
 * Where a label w x h goes beside the span left..right (a point, or an ellipse's box) of a
 * viewport vw x vh, `top` being where its top would be: right of the span when it fits there,
 * else left of it (drawn right-aligned), else as far right as it fits; moved up or down only as
 * much as keeps it inside. `x` is the text's anchor: its left edge ('start') or right ('end').
 */
export function labelPlacement(left: number, right: number, top: number, w: number, h: number, vw: number, vh: number, gap = 6, margin = 4): { x: number; top: number; anchor: 'start' | 'end' } {
  const y = Math.max(margin, Math.min(top, vh - margin - h));
  if (right + gap + w <= vw - margin) return { x: right + gap, top: y, anchor: 'start' };
  if (left - gap - w >= margin) return { x: left - gap, top: y, anchor: 'end' };
  return { x: Math.max(margin, vw - margin - w), top: y, anchor: 'start' };
}

/** A round length (mm) for a scale bar at most `maxMm` long. */
export function niceMm(maxMm: number): number {
  const steps = [1, 2, 5, 10, 20, 50, 100, 200, 500];
  let best = steps[0];
  for (const s of steps) if (s <= maxMm) best = s;
  return best;
}
