/**
 * DICOM overlay planes (60xx) on screen: each plane's one-bit bitmap as an image the SVG layer
 * draws over the slice, unaffected by window/level, as Weasis and Horos draw them. A plane's
 * picture is made once and kept with the plane.
 */
import type { OverlayPlane } from '../../shared/dicom';

/** What overlay pixels are drawn in: a yellow that reads on black, grey and white alike. */
export const OVERLAY_RGB: readonly [number, number, number] = [255, 224, 0];

/** One byte per pixel (1 set, 0 clear), row-major, from the plane's packed bits (lowest bit first). */
export function unpackOverlay(p: OverlayPlane): Uint8Array {
  const bin = atob(p.bits);
  const n = p.rows * p.columns;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (bin.charCodeAt(i >> 3) >> (i & 7)) & 1;
  return out;
}

/** RGBA pixels of the plane: OVERLAY_RGB where set, transparent elsewhere. */
export function overlayRgba(p: OverlayPlane, rgb: readonly [number, number, number] = OVERLAY_RGB): Uint8ClampedArray<ArrayBuffer> {
  const on = unpackOverlay(p);
  const out = new Uint8ClampedArray(on.length * 4);
  for (let i = 0; i < on.length; i++) {
    if (!on[i]) continue;
    out[i * 4] = rgb[0];
    out[i * 4 + 1] = rgb[1];
    out[i * 4 + 2] = rgb[2];
    out[i * 4 + 3] = 255;
  }
  return out;
}

const urls = new WeakMap<OverlayPlane, string>();

/** A PNG data URL of the plane (made on first use, then kept with the plane object). */
export function overlayImageUrl(p: OverlayPlane): string {
  let url = urls.get(p);
  if (url) return url;
  const c = document.createElement('canvas');
  c.width = p.columns;
  c.height = p.rows;
  const ctx = c.getContext('2d');
  if (ctx) ctx.putImageData(new ImageData(overlayRgba(p), p.columns, p.rows), 0, 0);
  url = c.toDataURL('image/png');
  urls.set(p, url);
  return url;
}
