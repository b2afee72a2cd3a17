/**
 * Key images: a slice in a display window with the class-activation heatmap composited over it
 * and the annotations a reader needs to interpret it without the viewer (orientation letters
 * from ImageOrientationPatient, a scale bar from PixelSpacing, a colour bar in model units, the
 * finding's marker). The same pixels go into the PDF and the Secondary Capture.
 */
import { directionLetters } from '../../shared/orientation';
import type { OverlayStyle } from '../../shared/colormap';
import { colormapLut, DEFAULT_OVERLAY } from '../../shared/colormap';
import { compositeRgb } from '../../shared/composite';
import { drawText, GLYPH_H, textWidth } from './font';

export interface KeyImageInput {
  rows: number;
  columns: number;
  /** Modality values (HU for CT), row-major. */
  values: Float32Array;
  window: { center: number; width: number };
  /** Show the lowest value white (MONOCHROME1), as the viewer does. */
  invert?: boolean;
  /** Heatmap 0..1 at rows x columns (Explainer.heatmap), or null to show the slice alone. */
  heat: Float32Array | null;
  /** The map's maximum in model units (the colour bar's top label). */
  heatMax?: number;
  pixelSpacing?: [number, number];
  imageOrientationPatient?: number[];
  /** [x, y] = [column, row] of the finding's hot spot. */
  marker?: [number, number] | null;
  overlay?: OverlayStyle;
  /** Burn in the annotations (orientation, scale bar, colour bar, marker, caption). Default true. */
  annotate?: boolean;
  /**
   * A caption burned in at the top-left corner (capitals), lines split at '\n' and wrapped at
   * spaces to the left half: the exports' "RESIGHT AI F1 ... - NOT FOR DIAGNOSIS" (keyImageCaption).
   */
  caption?: string;
  /** Shorter captions, longest first, for an image too small for `caption` (captionFallbacks). */
  captionFallbacks?: string[];
}

/**
 * The line that says a key image is AI output, burned into the exported key images (PDF and
 * Secondary Capture): the finding's label as the report prints it, its class and score, and where
 * the review stands: a key image leaves for the PACS on its own, and a heatmap there reads as a
 * finding, so it says whether the reviewer accepted, edited or rejected it, or has not reviewed it.
 */
export type CaptionReview = 'accepted' | 'edited' | 'rejected' | 'pending' | 'added';
const REVIEW_LINE: Record<Exclude<CaptionReview, 'added'>, string> = { accepted: 'ACCEPTED BY REVIEWER', edited: 'EDITED BY REVIEWER', rejected: 'REJECTED BY REVIEWER', pending: 'NOT REVIEWED' };

/**
 * Shorter captions for a small image, which keep what matters most: who made the finding and
 * where the review stands (a rejected finding's map must not go out as a bare "AI" finding, nor a
 * reviewer's finding as the AI's).
 */
export function captionFallbacks(review?: CaptionReview): string[] {
  if (review === 'added') return ['RESIGHT - ADDED BY REVIEWER', 'ADDED BY REVIEWER', 'ADDED'];
  const word = review ? { accepted: 'ACCEPTED', edited: 'EDITED', rejected: 'REJECTED', pending: 'NOT REVIEWED' }[review] : undefined;
  return word ? [`RESIGHT AI - ${word} - NOT FOR DIAGNOSIS`, `AI - ${word} - NOT FOR DIAGNOSIS`, `AI - ${word}`, word] : ['RESIGHT AI - NOT FOR DIAGNOSIS', 'AI - NOT FOR DIAGNOSIS', 'AI'];
}

export function keyImageCaption(label: string | undefined, cls: string | undefined, score: number | undefined, review?: CaptionReview): string {
  const what = [label, cls?.replace(/_/g, ' ').toUpperCase(), score !== undefined && Number.isFinite(score) ? `P ${score.toFixed(3)}` : undefined].filter(Boolean).join(' ');
  // a finding the reviewer added is not the AI's: the caption must not say it is
  if (review === 'added') return `RESIGHT${what ? ` ${what}` : ''} -\nADDED BY REVIEWER -\nNOT FOR DIAGNOSIS`;
  return `RESIGHT AI${what ? ` ${what}` : ''} -\n${review ? `${REVIEW_LINE[review]} -\n` : ''}NOT FOR DIAGNOSIS`;
}

/** `text` in lines of at most `maxW` pixels at `scale`: split at '\n', wrapped at spaces (a longer word stays whole). */
export function wrapCaption(text: string, maxW: number, scale: number): string[] {
  const out: string[] = [];
  for (const para of text.split('\n')) {
    let cur = '';
    for (const w of para.split(/ +/).filter(Boolean)) {
      const next = cur ? `${cur} ${w}` : w;
      if (cur && textWidth(next, scale) > maxW) {
        out.push(cur);
        cur = w;
      } else cur = next;
    }
    if (cur) out.push(cur);
  }
  return out;
}

export interface RgbImage {
  width: number;
  height: number;
  /** RGB, 8 bits per sample, interleaved, row-major. */
  rgb: Uint8Array;
}

/** The slice in its window with the heatmap composited (no annotations): the shared reference (src/shared/composite.ts). */
export function compositeSlice(input: KeyImageInput): RgbImage {
  const rgb = compositeRgb({ rows: input.rows, columns: input.columns, values: input.values, window: input.window, heat: input.heat, ...(input.invert ? { invert: true } : {}), ...(input.overlay ? { overlay: input.overlay } : {}) });
  return { width: input.columns, height: input.rows, rgb };
}


const opposite = (v: readonly number[]): number[] => v.map((x) => -x);

function fillRect(img: RgbImage, x0: number, y0: number, w: number, h: number, c: readonly [number, number, number]): void {
  for (let y = Math.max(0, y0); y < Math.min(img.height, y0 + h); y++) {
    for (let x = Math.max(0, x0); x < Math.min(img.width, x0 + w); x++) {
      const o = (y * img.width + x) * 3;
      img.rgb[o] = c[0];
      img.rgb[o + 1] = c[1];
      img.rgb[o + 2] = c[2];
    }
  }
}

/**
 * Dim a rectangle to a quarter of its brightness: a backing under burned-in text and the scale
 * bar, so they read over bright anatomy (soft tissue in a lung window, the CT table's edge) and
 * the image still shows through.
 */
function dimRect(img: RgbImage, x0: number, y0: number, w: number, h: number): void {
  for (let y = Math.max(0, y0); y < Math.min(img.height, y0 + h); y++) {
    for (let x = Math.max(0, x0); x < Math.min(img.width, x0 + w); x++) {
      const o = (y * img.width + x) * 3;
      img.rgb[o] = img.rgb[o] >> 2;
      img.rgb[o + 1] = img.rgb[o + 1] >> 2;
      img.rgb[o + 2] = img.rgb[o + 2] >> 2;
    }
  }
}

/** A round number of millimetres for the scale bar: about a fifth of the field of view. */
export function scaleBarMm(fovMm: number): number {
  const target = fovMm / 5;
  const steps = [1, 2, 5, 10, 20, 50, 100, 200];
  let best = steps[0];
  for (const s of steps) if (s <= target) best = s;
  return best;
}

/** A colour-bar label: two significant digits (0.031, 1.2, 45). */
export function formatScale(v: number): string {
  if (!Number.isFinite(v) || v === 0) return '0';
  return v >= 10 ? v.toFixed(0) : String(Number(v.toPrecision(2)));
}

/** The largest scale up to `scale` at which every word of `text` fits `maxW` (at least 1). */
function lineScale(text: string, maxW: number, scale: number): number {
  const longest = text.split(/[ \n]+/).reduce((a, w) => (w.length > a.length ? w : a), '');
  let s = scale;
  while (s > 1 && textWidth(longest, s) > maxW) s--;
  return s;
}

/**
 * The first of `candidates` that fits a W x H key image's caption corner: in the left half, clear
 * of the top orientation letter, never cut at the edge, no taller than a quarter of the image.
 * Its lines and scale, or undefined when none fits.
 */
export function fitCaption(W: number, H: number, candidates: readonly string[]): { lines: string[]; sc: number; text: string } | undefined {
  const scale = Math.max(1, Math.round(Math.min(W, H) / 256));
  const pad = 4 * scale;
  // up to the top letter (at most two glyphs, centred), less a gap
  const maxW = Math.floor(W / 2) - pad - Math.ceil(textWidth('HH', scale) / 2) - 2 * scale;
  for (const text of candidates) {
    const sc = lineScale(text, maxW, scale);
    const lines = wrapCaption(text, maxW, sc);
    if (lines.every((l) => textWidth(l, sc) <= maxW) && lines.length * (GLYPH_H + 3) * sc <= H / 4) return { lines, sc, text };
  }
  return undefined;
}

/** The key image: composited slice plus burned-in annotations. */
export function renderKeyImage(input: KeyImageInput): RgbImage {
  const img = compositeSlice(input);
  if (input.annotate === false) return img;
  const { width: W, height: H } = img;
  const scale = Math.max(1, Math.round(Math.min(W, H) / 256));
  const pad = 4 * scale;
  const white: [number, number, number] = [255, 255, 255];
  const yellow: [number, number, number] = [255, 230, 0];

  // orientation letters at the middle of each edge
  const iop = input.imageOrientationPatient;
  const lettered = !!iop && iop.length === 6;
  if (iop && iop.length === 6) {
    const row = iop.slice(0, 3);
    const col = iop.slice(3, 6);
    const right = directionLetters(row);
    const left = directionLetters(opposite(row));
    const bottom = directionLetters(col);
    const top = directionLetters(opposite(col));
    const midY = Math.round(H / 2 - (GLYPH_H * scale) / 2);
    drawText(img.rgb, W, H, left, pad, midY, scale, white);
    drawText(img.rgb, W, H, right, W - pad - textWidth(right, scale) - 14 * scale, midY, scale, white);
    drawText(img.rgb, W, H, top, Math.round(W / 2 - textWidth(top, scale) / 2), pad, scale, white);
    drawText(img.rgb, W, H, bottom, Math.round(W / 2 - textWidth(bottom, scale) / 2), H - pad - GLYPH_H * scale, scale, white);
  }

  // scale bar, bottom left
  const ps = input.pixelSpacing;
  if (ps && ps[1] > 0) {
    const mm = scaleBarMm(W * ps[1]);
    const len = Math.round(mm / ps[1]);
    const y = H - pad - GLYPH_H * scale - 4 * scale;
    // on a dimmed backing: the bar often falls on the CT table's bright edge
    dimRect(img, pad - 2 * scale, y - 5 * scale, Math.max(len, textWidth(`${mm} mm`, scale)) + 4 * scale, GLYPH_H * scale + 10 * scale);
    fillRect(img, pad, y, len, Math.max(2, scale), white);
    fillRect(img, pad, y - 3 * scale, Math.max(1, scale), 3 * scale, white);
    fillRect(img, pad + len - Math.max(1, scale), y - 3 * scale, Math.max(1, scale), 3 * scale, white);
    drawText(img.rgb, W, H, `${mm} mm`, pad, y + 3 * scale, scale, white);
  }

  // colour bar, right edge: top = map maximum, bottom = 0 (the threshold marked)
  if (input.heat) {
    const style = input.overlay ?? DEFAULT_OVERLAY;
    const lut = colormapLut(style.colormap);
    const barW = 6 * scale;
    const barH = Math.round(H * 0.5);
    const x0 = W - pad - barW;
    const y0 = Math.round((H - barH) / 2);
    for (let y = 0; y < barH; y++) {
      const k = Math.round((1 - y / (barH - 1)) * 255) * 3;
      fillRect(img, x0, y0 + y, barW, 1, [lut[k], lut[k + 1], lut[k + 2]]);
    }
    const ty = y0 + Math.round((1 - style.threshold) * (barH - 1));
    fillRect(img, x0 - 2 * scale, ty, barW + 2 * scale, Math.max(1, scale >> 1), white);
    // "MAP": the map's own maximum, which a reader must not take for the probability beside it
    const top = `MAP ${input.heatMax !== undefined ? formatScale(input.heatMax) : '1'}`;
    drawText(img.rgb, W, H, top, W - pad - textWidth(top, scale), y0 - (GLYPH_H + 3) * scale, scale, white);
    drawText(img.rgb, W, H, '0', W - pad - textWidth('0', scale), y0 + barH + 3 * scale, scale, white);
  }

  // the caption (AI output, not for diagnosis): top-left corner, mostly outside the body, in the
  // left half so it stays clear of the top orientation letter, and starting on the row below that
  // letter: on the letter's row, "... LIVER" followed by the letter A read as "LIVER A LESION"
  if (input.caption) {
    const top = lettered ? pad + (GLYPH_H + 3) * scale : pad;
    const shown = fitCaption(W, H, [input.caption, ...(input.captionFallbacks ?? captionFallbacks())]);
    // each line on a dimmed backing: the caption often crosses the body wall or bright tissue
    shown?.lines.forEach((l, i) => dimRect(img, pad - shown.sc, top + i * (GLYPH_H + 3) * shown.sc - shown.sc, textWidth(l, shown.sc) + 2 * shown.sc, (GLYPH_H + 2) * shown.sc));
    shown?.lines.forEach((l, i) => drawText(img.rgb, W, H, l, pad, top + i * (GLYPH_H + 3) * shown.sc, shown.sc, white));
  }

  // the finding's marker: a broken circle around the hot spot, leaving its centre visible
  const m = input.marker;
  if (m) {
    const r = 14 * scale;
    for (let t = 0; t < 360; t += 0.5) {
      if (Math.floor(t / 30) % 2 === 1) continue;
      const a = (t * Math.PI) / 180;
      for (let d = 0; d < Math.max(1, scale); d++) {
        const x = Math.round(m[0] + (r + d) * Math.cos(a));
        const y = Math.round(m[1] + (r + d) * Math.sin(a));
        fillRect(img, x, y, 1, 1, yellow);
      }
    }
  }
  return img;
}
