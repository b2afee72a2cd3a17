/** A series thumbnail: its middle slice in the series' own window (a colour one in colour), drawn small on a 2D canvas. */
import { useEffect, useRef } from 'react';
import type { ResightApi } from '../../shared/api';
import { compositeRgb } from '../../shared/composite';
import { loadSlice } from '../api/client';
import { isColourPhotometric, sliceWindow, storedOrConventionalWindow } from '../viewer/window';

const SIZE = 48;

export function Thumbnail(p: { api: ResightApi; seriesId: string; slices: number; modality: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const ctrl = new AbortController();
    (async () => {
      const info = await p.api.call('series.get', { seriesId: p.seriesId });
      const s = await loadSlice(p.api, p.seriesId, Math.floor(p.slices / 2), ctrl.signal);
      const w = storedOrConventionalWindow(info.windows, p.modality, s.samples === 3 || isColourPhotometric(info.series.photometric)) ?? sliceWindow(s);
      // nearest-neighbour downsample to SIZE x SIZE (every sample of the pixel), then the shared windowing
      const k = s.samples;
      const src = s.samples === 3 ? s.rgb : s.values;
      const small = new Float32Array(SIZE * SIZE * k);
      for (let y = 0; y < SIZE; y++) {
        for (let x = 0; x < SIZE; x++) {
          const from = Math.floor(((y + 0.5) * s.rows) / SIZE) * s.columns + Math.floor(((x + 0.5) * s.columns) / SIZE);
          for (let c = 0; c < k; c++) small[(y * SIZE + x) * k + c] = src[from * k + c];
        }
      }
      const rgb = compositeRgb({ rows: SIZE, columns: SIZE, values: small, samples: k, window: w, heat: null, invert: info.series.photometric === 'MONOCHROME1' });
      const img = new ImageData(SIZE, SIZE);
      for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) {
        img.data[j] = rgb[i];
        img.data[j + 1] = rgb[i + 1];
        img.data[j + 2] = rgb[i + 2];
        img.data[j + 3] = 255;
      }
      ref.current?.getContext('2d')?.putImageData(img, 0, 0);
    })().catch(() => undefined);
    return () => ctrl.abort();
  }, [p.api, p.seriesId, p.slices, p.modality]);
  return <canvas ref={ref} width={SIZE} height={SIZE} className="thumb" aria-hidden="true" />;
}
