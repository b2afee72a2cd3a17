/**
 * Canvas 2D fallback when WebGL2 is missing: the same composite (src/shared/composite.ts) on the
 * CPU, drawn at the image's size and scaled by the canvas transform. Slower, same picture.
 */
import { compositeRgb } from '../../shared/composite';
import type { SliceData } from '../api/client';
import type { HeatState, SliceRenderer, ViewState } from './types';

/** Bilinear resize with half-pixel centres (core/inference/preprocess.ts's resizeSlice formula). */
export function resizeBilinear(src: Float32Array, sh: number, sw: number, oh: number, ow: number): Float32Array {
  const out = new Float32Array(oh * ow);
  for (let y = 0; y < oh; y++) {
    const sy = Math.min(Math.max(((y + 0.5) * sh) / oh - 0.5, 0), sh - 1);
    const y0 = Math.floor(sy);
    const y1 = Math.min(y0 + 1, sh - 1);
    const ty = sy - y0;
    for (let x = 0; x < ow; x++) {
      const sx = Math.min(Math.max(((x + 0.5) * sw) / ow - 0.5, 0), sw - 1);
      const x0 = Math.floor(sx);
      const x1 = Math.min(x0 + 1, sw - 1);
      const tx = sx - x0;
      const a = src[y0 * sw + x0] * (1 - tx) + src[y0 * sw + x1] * tx;
      const b = src[y1 * sw + x0] * (1 - tx) + src[y1 * sw + x1] * tx;
      out[y * ow + x] = a * (1 - ty) + b * ty;
    }
  }
  return out;
}

/** The heatmap at the slice's size, 0..1 (the CPU version of the shader's path). */
export function heatToSlice(h: HeatState, rows: number, columns: number): Float32Array {
  const atInput = resizeBilinear(h.cam, h.camH, h.camW, h.inputH, h.inputW);
  const atSlice = resizeBilinear(atInput, h.inputH, h.inputW, rows, columns);
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
    const rgb = compositeRgb({ rows: s.rows, columns: s.columns, values: s.values, window: view, heat: this.heat ? this.heatPx : null, invert: view.invert, ...(this.heat ? { overlay: this.heat.style } : {}) });
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
    ctx.setTransform(view.zoom * dpr, 0, 0, view.zoom * dpr, (this.canvas.width / 2 + view.panX * dpr) - (s.columns / 2) * view.zoom * dpr, (this.canvas.height / 2 + view.panY * dpr) - (s.rows / 2) * view.zoom * dpr);
    ctx.drawImage(this.off, 0, 0);
  }

  dispose(): void {}
}
