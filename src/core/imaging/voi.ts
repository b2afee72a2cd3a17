/**
 * VOI (window/level): the windows a file suggests, the CT presets radiologists know by number
 * key, and an automatic window from the values that ignores padding (PixelPaddingValue /
 * PixelPaddingRangeLimit) so the area outside the scan field does not flatten the picture.
 */
import type { InstanceHeader, WindowInfo } from '../../shared/dicom';

export type { WindowPreset } from '../../shared/presets';
export { CT_PRESETS, presetById } from '../../shared/presets';

/**
 * The padding range in modality units, or undefined. PixelPaddingValue alone marks one stored
 * value; with PixelPaddingRangeLimit it marks the inclusive range between the two (PS3.3 C.7.5.1.1.2).
 */
export function paddingRangeOf(h: InstanceHeader): [number, number] | undefined {
  if (h.pixelPaddingValue === undefined) return undefined;
  const a = h.pixelPaddingValue;
  const b = h.pixelPaddingRangeLimit ?? a;
  const { slope, intercept } = h.rescale;
  const m1 = Math.min(a, b) * slope + intercept;
  const m2 = Math.max(a, b) * slope + intercept;
  return [Math.min(m1, m2), Math.max(m1, m2)];
}

export interface ValueStats {
  min: number;
  max: number;
  mean: number;
  /** Values counted (padding excluded). */
  count: number;
  padding: number;
}

/** Min/max/mean over values outside the padding range. */
export function valueStats(values: ArrayLike<number>, padding?: [number, number]): ValueStats {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let count = 0;
  const lo = padding ? padding[0] : Infinity;
  const hi = padding ? padding[1] : -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v >= lo && v <= hi) continue;
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
    count++;
  }
  return { min, max, mean: count ? sum / count : 0, count, padding: values.length - count };
}

/**
 * Automatic window from the 1st..99th percentile of the non-padding values (robust to a few
 * hot pixels and to the padding frame), computed with a 4096-bin histogram.
 */
export function autoWindow(values: ArrayLike<number>, padding?: [number, number]): WindowInfo {
  const s = valueStats(values, padding);
  if (!s.count || !Number.isFinite(s.min)) return { center: 0, width: 1, explanation: 'AUTO' };
  if (s.max === s.min) return { center: s.min, width: 1, explanation: 'AUTO' };
  const bins = 4096;
  const hist = new Uint32Array(bins);
  const scale = (bins - 1) / (s.max - s.min);
  const lo = padding ? padding[0] : Infinity;
  const hi = padding ? padding[1] : -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v >= lo && v <= hi) continue;
    hist[Math.floor((v - s.min) * scale)]++;
  }
  const at = (q: number) => {
    const target = q * s.count;
    let acc = 0;
    for (let b = 0; b < bins; b++) {
      acc += hist[b];
      if (acc >= target) return s.min + b / scale;
    }
    return s.max;
  };
  const p1 = at(0.01);
  const p99 = at(0.99);
  const width = Math.max(p99 - p1, 1);
  return { center: (p1 + p99) / 2, width, explanation: 'AUTO' };
}

/** The window to open a series with: the file's first window, else automatic. */
export function initialWindow(h: InstanceHeader, values: ArrayLike<number>, padding?: [number, number]): WindowInfo {
  return h.windows[0] ?? autoWindow(values, padding);
}
