/**
 * Heatmap colour maps, shared by the viewer (uploaded as a 256-entry lookup texture) and the
 * report writers (burned into key images), so a heatmap looks the same on screen and on paper.
 * Pure data and arithmetic: no DOM, no Node.
 */

export const COLORMAPS = ['jet', 'inferno', 'hot'] as const;
export type ColormapName = (typeof COLORMAPS)[number];

const clamp01 = (v: number): number => (v < 0 ? 0 : v > 1 ? 1 : v);

/** Piecewise-linear control points [t, r, g, b] (0..1), sampled into the LUT. */
const STOPS: Record<ColormapName, readonly (readonly [number, number, number, number])[]> = {
  // MATLAB jet, the map most Grad-CAM figures use: blue (cold) -> cyan -> yellow -> red (hot).
  jet: [
    [0, 0, 0, 0.5],
    [0.11, 0, 0, 1],
    [0.125, 0, 0, 1],
    [0.34, 0, 0.86, 1],
    [0.35, 0, 0.9, 0.97],
    [0.64, 0.97, 1, 0],
    [0.66, 1, 0.9, 0],
    [0.89, 1, 0, 0],
    [1, 0.5, 0, 0],
  ],
  // matplotlib inferno (perceptually uniform, prints legibly in grey), 9 samples.
  inferno: [
    [0, 0.001, 0, 0.014],
    [0.125, 0.091, 0.046, 0.223],
    [0.25, 0.258, 0.039, 0.406],
    [0.375, 0.416, 0.09, 0.433],
    [0.5, 0.578, 0.148, 0.404],
    [0.625, 0.736, 0.216, 0.33],
    [0.75, 0.865, 0.317, 0.226],
    [0.875, 0.969, 0.506, 0.086],
    [1, 0.988, 0.998, 0.645],
  ],
  hot: [
    [0, 0.04, 0, 0],
    [0.375, 1, 0, 0],
    [0.75, 1, 1, 0],
    [1, 1, 1, 1],
  ],
};

const luts = new Map<ColormapName, Uint8Array>();

/** 256 RGB entries (768 bytes) for `name`: entry i is the colour of value i / 255. */
export function colormapLut(name: ColormapName): Uint8Array {
  let lut = luts.get(name);
  if (lut) return lut;
  const stops = STOPS[name];
  lut = new Uint8Array(768);
  for (let i = 0; i < 256; i++) {
    const t = i / 255;
    let k = 1;
    while (k < stops.length - 1 && stops[k][0] < t) k++;
    const a = stops[k - 1];
    const b = stops[k];
    const f = b[0] > a[0] ? clamp01((t - a[0]) / (b[0] - a[0])) : 0;
    for (let c = 0; c < 3; c++) lut[i * 3 + c] = Math.round(255 * clamp01(a[c + 1] + f * (b[c + 1] - a[c + 1])));
  }
  luts.set(name, lut);
  return lut;
}

/** How a heatmap is drawn over the image (the viewer's overlay settings). */
export interface OverlayStyle {
  colormap: ColormapName;
  /** 0..1: weight of the heatmap colour where it is drawn. */
  opacity: number;
  /** 0..1 of the map's scale: values below are not drawn (the anatomy stays visible). */
  threshold: number;
}

export const DEFAULT_OVERLAY: OverlayStyle = { colormap: 'jet', opacity: 0.45, threshold: 0.2 };
