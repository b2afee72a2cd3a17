/**
 * Windowing and heatmap compositing on the CPU, the reference for the viewer's WebGL2 shader
 * (which computes the same formula per fragment) and the pixels of report key images, the
 * viewer's Canvas2D fallback and its thumbnails. Pure arithmetic: no DOM, no Node.
 *
 * Colour images (RGB ultrasound, photographs, ReSight's own Secondary Captures) are windowed per
 * channel with the same linear function, as cornerstone does for colour: the identity window
 * (center 128, width 256 for 8-bit samples) gives the stored colours back exactly, and a narrower
 * one stretches each channel alike. Inversion and the heatmap blend act per channel too, so a
 * grey pixel (r = g = b) comes out exactly as the one-sample path makes it.
 */
import type { OverlayStyle } from './colormap';
import { colormapLut, DEFAULT_OVERLAY } from './colormap';

/** DICOM PS3.3 C.11.2.1.2.1 linear VOI function, to 0..255. */
export function voiByte(v: number, center: number, width: number): number {
  const w = Math.max(width, 1);
  const t = (v - (center - 0.5)) / (w - 1) + 0.5;
  return t <= 0 ? 0 : t >= 1 ? 255 : Math.round(t * 255);
}

export interface CompositeInput {
  rows: number;
  columns: number;
  /** Row-major: one modality value per pixel (HU for CT), or with `samples` 3, R G B interleaved. */
  values: ArrayLike<number>;
  /** Values per pixel: 1 (grey, the default) or 3 (RGB). */
  samples?: 1 | 3;
  window: { center: number; width: number };
  /** 0..1 per pixel (rows x columns), or null. */
  heat: ArrayLike<number> | null;
  overlay?: OverlayStyle;
  invert?: boolean;
}

/** RGB (3 bytes per pixel) of the windowed slice with the heatmap blended where it reaches the threshold. */
export function compositeRgb(input: CompositeInput, out = new Uint8Array(input.rows * input.columns * 3)): Uint8Array {
  const { rows, columns, values, heat } = input;
  const style = input.overlay ?? DEFAULT_OVERLAY;
  const lut = colormapLut(style.colormap);
  const { center, width } = input.window;
  const a = style.opacity;
  const colour = input.samples === 3;
  for (let i = 0; i < rows * columns; i++) {
    let r: number;
    let g: number;
    let b: number;
    if (colour) {
      r = voiByte(values[i * 3], center, width);
      g = voiByte(values[i * 3 + 1], center, width);
      b = voiByte(values[i * 3 + 2], center, width);
    } else r = g = b = voiByte(values[i], center, width);
    if (input.invert) {
      r = 255 - r;
      g = 255 - g;
      b = 255 - b;
    }
    if (heat) {
      const h = heat[i];
      if (h >= style.threshold && h > 0) {
        const k = Math.min(255, Math.max(0, Math.round(h * 255))) * 3;
        r = Math.round((1 - a) * r + a * lut[k]);
        g = Math.round((1 - a) * g + a * lut[k + 1]);
        b = Math.round((1 - a) * b + a * lut[k + 2]);
      }
    }
    out[i * 3] = r;
    out[i * 3 + 1] = g;
    out[i * 3 + 2] = b;
  }
  return out;
}
