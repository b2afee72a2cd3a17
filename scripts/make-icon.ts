/**
 * The app icon (resources/build/icon.png, 1024x1024; electron-builder derives .icns and .ico
 * from it): a dark tile with an axial CT-like ring and a Grad-CAM-coloured hot spot.
 * Run: npx tsx scripts/make-icon.ts
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { encodePng } from '../src/core/report/png';
import { colormapLut } from '../src/shared/colormap';

const N = 1024;
const rgb = new Uint8Array(N * N * 3);
const lut = colormapLut('jet');
for (let y = 0; y < N; y++) {
  for (let x = 0; x < N; x++) {
    const o = (y * N + x) * 3;
    // rounded tile
    const m = 90;
    const dx = Math.max(m - x, 0, x - (N - 1 - m));
    const dy = Math.max(m - y, 0, y - (N - 1 - m));
    if (Math.hypot(dx, dy) > m) continue;
    let r = 14;
    let g = 18;
    let b = 24;
    // body ellipse (soft tissue grey) with a darker "lung" pair and a bright rim (bone)
    const ex = (x - 512) / 380;
    const ey = (y - 540) / 300;
    const e = ex * ex + ey * ey;
    if (e < 1) {
      const lung = ((x - 380) / 120) ** 2 + ((y - 520) / 170) ** 2 < 1 || ((x - 644) / 120) ** 2 + ((y - 520) / 170) ** 2 < 1;
      const v = e > 0.86 ? 230 : lung ? 40 : 150;
      r = g = b = v;
    }
    // the hot spot: heatmap colours blended over the right lung
    const h = Math.exp(-(((x - 660) / 70) ** 2 + ((y - 470) / 70) ** 2));
    if (h > 0.15) {
      const k = Math.round(Math.min(1, h) * 255) * 3;
      r = Math.round(0.4 * r + 0.6 * lut[k]);
      g = Math.round(0.4 * g + 0.6 * lut[k + 1]);
      b = Math.round(0.4 * b + 0.6 * lut[k + 2]);
    }
    rgb[o] = r;
    rgb[o + 1] = g;
    rgb[o + 2] = b;
  }
}
const out = path.join(__dirname, '..', 'resources', 'build', 'icon.png');
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, encodePng({ width: N, height: N, rgb }));
console.log(`wrote ${out}`);
