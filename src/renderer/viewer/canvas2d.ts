/**
 * Canvas 2D fallback when WebGL2 is missing: the same composite (src/shared/composite.ts) on the
 * CPU, drawn at the image's size and scaled by the canvas transform. Slower, same picture (a
 * colour slice in colour, windowed per channel, as the shader does).
 */
import { compositeRgb } from '../../shared/composite';
import { mapToSliceSize } from '../../shared/resample';
import type { SliceData } from '../api/client';
import type { HeatState, SliceRenderer, ViewState } from './types';
import { viewMatrix } from './geometry';

/** The heatmap at the slice's size, 0..1 (the CPU version of the shader's path). */
export function heatToSlice(h: HeatState, rows: number, columns: number): Float32Array {
  const atSlice = mapToSliceSize(h.cam, h.camH, h.camW, [h.inputH, h.inputW], rows, columns);
  const k = h.scale > 0 ? 1 / h.scale : 1;
  for (let i = 0; i < atSlice.length; i++) atSlice[i] *= k;
  return atSlice;
}

export class Canvas2dSliceRenderer implements SliceRenderer {
  readonly kind = 'canvas2d' as const;
  private slice: SliceData | null = null;
  private heat: HeatState | null = null;
  private heatPx: Float32Array | null = null;
  private readonly off = document.createElement('canvas');

  constructor(private readonly canvas: HTMLCanvasElement) {}

  setSlice(s: SliceData | null): void {
    this.slice = s;
    this.heatPx = null;
  }

  setHeat(h: HeatState | null): void {
    this.heat = h;
    this.heatPx = null;
  }

  render(view: ViewState): void {
    const ctx = this.canvas.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    const s = this.slice;
    if (!s) return;
    if (this.heat && !this.heatPx) this.heatPx = heatToSlice(this.heat, s.rows, s.columns);
    const pixels = s.samples === 3 ? { values: s.rgb, samples: 3 as const } : { values: s.values };
    const rgb = compositeRgb({ rows: s.rows, columns: s.columns, ...pixels, window: view, heat: this.heat ? this.heatPx : null, invert: view.invert, ...(this.heat ? { overlay: this.heat.style } : {}) });
    const data = new ImageData(s.columns, s.rows);
    for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) {
      data.data[j] = rgb[i];
      data.data[j + 1] = rgb[i + 1];
      data.data[j + 2] = rgb[i + 2];
      data.data[j + 3] = 255;
    }
    this.off.width = s.columns;
    this.off.height = s.rows;
    this.off.getContext('2d')?.putImageData(data, 0, 0);
    const dpr = this.canvas.width / Math.max(1, this.canvas.clientWidth);
    ctx.imageSmoothingEnabled = view.zoom < 1;
    // screen = k * M * (image - its centre) + the canvas centre + pan, M the view's flip and quarter turn
    const k = view.zoom * dpr;
    const [m00, m01, m10, m11] = viewMatrix(view);
    const cx = this.canvas.width / 2 + view.panX * dpr;
    const cy = this.canvas.height / 2 + view.panY * dpr;
    ctx.setTransform(k * m00, k * m10, k * m01, k * m11, cx - k * (m00 * s.columns + m01 * s.rows) / 2, cy - k * (m10 * s.columns + m11 * s.rows) / 2);
    ctx.drawImage(this.off, 0, 0);
  }

  dispose(): void {}
}
