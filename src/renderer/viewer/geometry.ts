/** Screen <-> image coordinates of the viewport, orientation letters, scale bars: pure functions. */
import { directionLetters } from '../../shared/orientation';
import type { ViewState } from './types';

export { directionLetters };

/**
 * The image's orientation on screen as a 2 x 2 matrix [m00, m01, m10, m11] taking an image
 * direction (x along the columns, y down the rows) to a screen direction (y down): a left-right
 * mirror of the image when `flipH`, then `rotation` degrees clockwise (a multiple of 90). Flips
 * and quarter turns only, so the matrix is orthogonal with entries 0 and ±1, and its transpose is
 * its inverse.
 */
export type ViewMatrix = [number, number, number, number];
export function viewMatrix(v: Pick<ViewState, 'rotation' | 'flipH'>): ViewMatrix {
  const q = quarterTurns(v.rotation);
  const cos = [1, 0, -1, 0][q];
  const sin = [0, 1, 0, -1][q];
  const f = v.flipH ? -1 : 1;
  return [cos * f, -sin, sin * f, cos];
}
/** 0..3 quarter turns clockwise. */
export const quarterTurns = (rotation: number | undefined): number => (((Math.round((rotation ?? 0) / 90) % 4) + 4) % 4);

/** The view turned a quarter clockwise (dir 1) or anticlockwise (-1) on screen. */
export function rotateView<V extends ViewState>(v: V, dir: 1 | -1): V {
  return { ...v, rotation: quarterTurns((v.rotation ?? 0) + 90 * dir) * 90 };
}
/**
 * The view mirrored on screen, left-right ('h') or top-bottom ('v'), whatever its rotation: a
 * screen mirror after R(θ)·F is R(-θ)·F·F for left-right and R(180° - θ)·F·F for top-bottom.
 */
export function flipView<V extends ViewState>(v: V, axis: 'h' | 'v'): V {
  const r = v.rotation ?? 0;
  return { ...v, rotation: quarterTurns(axis === 'h' ? -r : 180 - r) * 90, flipH: !v.flipH };
}

/** Image pixel coordinates (edges: 0..columns) of a point in CSS pixels of the canvas. */
export function screenToImage(x: number, y: number, canvasW: number, canvasH: number, columns: number, rows: number, v: ViewState): [number, number] {
  const [m00, m01, m10, m11] = viewMatrix(v);
  const dx = (x - canvasW / 2 - v.panX) / v.zoom;
  const dy = (y - canvasH / 2 - v.panY) / v.zoom;
  return [m00 * dx + m10 * dy + columns / 2, m01 * dx + m11 * dy + rows / 2];
}

export function imageToScreen(ix: number, iy: number, canvasW: number, canvasH: number, columns: number, rows: number, v: ViewState): [number, number] {
  const [m00, m01, m10, m11] = viewMatrix(v);
  const ux = ix - columns / 2;
  const uy = iy - rows / 2;
  return [(m00 * ux + m01 * uy) * v.zoom + canvasW / 2 + v.panX, (m10 * ux + m11 * uy) * v.zoom + canvasH / 2 + v.panY];
}

/** Zoom that fits the whole image in the canvas (turned a quarter, its sides swap). */
export function fitZoom(canvasW: number, canvasH: number, columns: number, rows: number, v?: Pick<ViewState, 'rotation'>): number {
  const [w, h] = quarterTurns(v?.rotation) % 2 ? [rows, columns] : [columns, rows];
  return Math.max(0.01, Math.min(canvasW / w, canvasH / h));
}

/** The view is fitted to the canvas (its zoom is "fit"'s, so a resize or a quarter turn should fit it again). */
export function isFitted(v: Pick<ViewState, 'zoom' | 'rotation'>, canvasW: number, canvasH: number, columns: number, rows: number): boolean {
  return v.zoom > 0 && Math.abs(v.zoom - fitZoom(canvasW, canvasH, columns, rows, v)) < 1e-6;
}

/**
 * The patient directions of the screen's right and down (LPS cosines) for an image whose rows run
 * along `iop[0..2]` and columns along `iop[3..5]`: what the orientation letters name.
 */
export function screenDirections(iop: readonly number[], v: Pick<ViewState, 'rotation' | 'flipH'>): { right: number[]; down: number[] } {
  const [m00, m01, m10, m11] = viewMatrix(v);
  const along = (a: number, b: number) => [0, 1, 2].map((k) => a * iop[k] + b * iop[3 + k]);
  // the image direction under screen x is M^T (1, 0); under screen y, M^T (0, 1)
  return { right: along(m00, m01), down: along(m10, m11) };
}

/** The pixel spacing (mm) along the screen's horizontal: the columns' when the image is upright or upside down, the rows' when turned a quarter. */
export function horizontalSpacing(ps: readonly [number, number], v: Pick<ViewState, 'rotation'>): number {
  return quarterTurns(v.rotation) % 2 ? ps[0] : ps[1];
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

/** A label's box on screen (px). */
export interface LabelBox {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/**
 * `box` moved down past the labels already `placed` that it would cover (or, with no room below
 * in a viewport `vh` high, up past them), so labels never print over each other (a length's
 * value over an ROI's statistics, M2 over M1); as it was when neither way is clear.
 */
export function clearOf(box: LabelBox, placed: readonly LabelBox[], vh: number, margin = 4, gap = 2): LabelBox {
  const hit = (b: LabelBox) => placed.find((q) => b.x0 < q.x1 && q.x0 < b.x1 && b.y0 < q.y1 && q.y0 < b.y1);
  for (const down of [true, false]) {
    let b = box;
    for (let k = 0; k <= placed.length; k++) {
      const q = hit(b);
      if (!q) return b;
      const dy = down ? q.y1 + gap - b.y0 : q.y0 - gap - b.y1;
      b = { ...b, y0: b.y0 + dy, y1: b.y1 + dy };
      if (b.y1 > vh - margin || b.y0 < margin) break;
    }
  }
  return box;
}

/** A round length (mm) for a scale bar at most `maxMm` long. */
export function niceMm(maxMm: number): number {
  const steps = [1, 2, 5, 10, 20, 50, 100, 200, 500];
  let best = steps[0];
  for (const s of steps) if (s <= maxMm) best = s;
  return best;
}
