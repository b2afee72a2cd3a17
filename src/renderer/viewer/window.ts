/**
 * The window a series opens in when it stores none. CT has a convention (soft tissue, 40/400);
 * other modalities' values have no fixed scale (MR signal, say 0..425 or 0..4000), so the window
 * spans the slice's own range, as the thumbnails do, instead of a fixed 128/256 that saturates it.
 * Colour images are the exception: their samples already are display values, so they open at the
 * identity window (their full range), never at a window from their extremes, which would
 * stretch a dark photograph or turn pure blue (luminance 29) black.
 */
import type { SliceData } from '../api/client';

export interface Window {
  center: number;
  width: number;
}

export const CT_DEFAULT_WINDOW: Window = { center: 40, width: 400 };

/** Min..max of the values (finite ones), as a window. */
export function autoWindow(v: ArrayLike<number>): Window {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (!Number.isFinite(x)) continue;
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  if (lo > hi) return { center: 0, width: 1 };
  return { center: (lo + hi) / 2, width: Math.max(1, hi - lo) };
}

/**
 * The identity window of colour samples: 0..2^bits-1 shown as 0..255, the bit depth the
 * smallest (8 at least) that holds the largest sample. For 8 bits that is center 128, width 256,
 * which the linear VOI function (composite.ts voiByte, the shader) maps onto 0..255 exactly.
 */
export function colourWindow(rgb: ArrayLike<number>): Window {
  let hi = 0;
  for (let i = 0; i < rgb.length; i++) if (rgb[i] > hi) hi = rgb[i];
  const bits = Math.max(8, Math.ceil(Math.log2(Math.min(hi, 2 ** 32 - 1) + 1)));
  return { center: 2 ** (bits - 1), width: 2 ** bits };
}

/** The window a slice sets when its series stores none: a colour image's full range, a grey one's own min..max. */
export function sliceWindow(s: SliceData): Window {
  return s.samples === 3 ? colourWindow(s.rgb) : autoWindow(s.values);
}

/**
 * Whether a PhotometricInterpretation names colour (RGB, YBR_*, PALETTE COLOR: the engine sends
 * all of them as RGB). Known before any slice arrives, so a colour CT (a vendor's rendering saved
 * with Modality CT) never opens at CT's HU window.
 */
export function isColourPhotometric(photometric: string | undefined): boolean {
  return photometric !== undefined && photometric !== '' && !photometric.startsWith('MONOCHROME');
}

/**
 * The series' first stored window, else CT's convention (grey CT only), else (undefined) the
 * first slice's own (sliceWindow) once it is there.
 */
export function storedOrConventionalWindow(windows: readonly Window[], modality: string, colour = false): Window | undefined {
  return windows[0] ?? (modality === 'CT' && !colour ? CT_DEFAULT_WINDOW : undefined);
}

/** Pixels of horizontal drag that multiply the window width by e (about 2.7). */
export const WIDTH_DRAG_PX = 150;

/**
 * The window after a window/level drag of (dx, dy) screen pixels from `start` (OHIF's axes:
 * horizontal = width, vertical = level). Both scale with the starting width, so the drag feels the
 * same at any window and on any modality's values: width is multiplied (right widens, left
 * narrows; soft tissue 400 to lung 1500 is about 200 px, where 1 HU per pixel took over 1000), and
 * the level moves by a hundredth of the width per pixel (4 HU at 400, as cornerstone's CT default).
 */
export function dragWindow(start: Window, dx: number, dy: number): Window {
  return { width: Math.max(1e-3, start.width * Math.exp(dx / WIDTH_DRAG_PX)), center: start.center + (dy * start.width) / 100 };
}
