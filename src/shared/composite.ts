/**
 * Windowing and heatmap compositing on the CPU, the reference for the viewer's WebGL2 shader
 * (which computes the same formula per fragment) and the pixels of report key images and the
 * viewer's Canvas2D fallback. Pure arithmetic: no DOM, no Node.
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
  /** Modality values (HU for CT), row-major. */
  values: ArrayLike<number>;
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
  for (let i = 0; i < rows * columns; i++) {
    let g = voiByte(values[i], center, width);
    if (input.invert) g = 255 - g;
    let r = g;
    let gg = g;
    let b = g;
    if (heat) {
      const h = heat[i];
      if (h >= style.threshold && h > 0) {
        const k = Math.min(255, Math.max(0, Math.round(h * 255))) * 3;
        r = Math.round((1 - a) * g + a * lut[k]);
        gg = Math.round((1 - a) * g + a * lut[k + 1]);
        b = Math.round((1 - a) * g + a * lut[k + 2]);
      }
    }
    out[i * 3] = r;
    out[i * 3 + 1] = gg;
    out[i * 3 + 2] = b;
  }
  return out;
}
