/**
 * The window a series opens in when it stores none. CT has a convention (soft tissue, 40/400);
 * other modalities' values have no fixed scale (MR signal, say 0..425 or 0..4000), so the window
 * spans the slice's own range, as the thumbnails do, instead of a fixed 128/256 that saturates it.
 */
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

/** The series' first stored window, else CT's convention, else (undefined) the slice's own range once it is there. */
export function storedOrConventionalWindow(windows: readonly Window[], modality: string): Window | undefined {
  return windows[0] ?? (modality === 'CT' ? CT_DEFAULT_WINDOW : undefined);
}
