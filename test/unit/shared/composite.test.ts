/**
 * The CPU composite (the reference for the viewer's shader, its Canvas2D fallback, its thumbnails
 * and the report's key images) on colour: each channel windowed with the same linear function as
 * a grey value (cornerstone's way for colour), inverted per channel, and the heatmap blended over
 * the colour exactly as over grey.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { colormapLut } from '../../../src/shared/colormap';
import { compositeRgb } from '../../../src/shared/composite';

const IDENTITY = { center: 128, width: 256 };

describe('compositeRgb on colour (samples 3)', () => {
  it('the identity window gives every 8-bit sample back exactly: red stays red and pure blue stays blue, not black', () => {
    const values = Uint8Array.from({ length: 256 * 3 }, (_, i) => [Math.floor(i / 3), (Math.floor(i / 3) * 7) % 256, 255 - Math.floor(i / 3)][i % 3]);
    const out = compositeRgb({ rows: 16, columns: 16, values, samples: 3, window: IDENTITY, heat: null });
    assert.deepEqual(Array.from(out), Array.from(values));
    const primaries = compositeRgb({ rows: 1, columns: 3, values: [255, 0, 0, 0, 255, 0, 0, 0, 255], samples: 3, window: IDENTITY, heat: null });
    assert.deepEqual(Array.from(primaries), [255, 0, 0, 0, 255, 0, 0, 0, 255]);
  });

  it('a narrower window stretches each channel alike (center 64, width 128: 0..127 onto 0..255)', () => {
    const out = compositeRgb({ rows: 1, columns: 2, values: [0, 64, 200, 127, 32, 10], samples: 3, window: { center: 64, width: 128 }, heat: null });
    // t = (v - 63.5) / 127 + 0.5 per channel, as for a grey value
    const grey = (v: number) => compositeRgb({ rows: 1, columns: 1, values: [v], window: { center: 64, width: 128 }, heat: null })[0];
    assert.deepEqual(Array.from(out), [0, 64, 200, 127, 32, 10].map(grey));
    assert.deepEqual(Array.from(out.slice(0, 3)), [0, 129, 255]);
  });

  it('inverts each channel: red shows cyan', () => {
    const out = compositeRgb({ rows: 1, columns: 1, values: [255, 0, 0], samples: 3, window: IDENTITY, heat: null, invert: true });
    assert.deepEqual(Array.from(out), [0, 255, 255]);
  });

  it('blends the heatmap over the colour as over grey: a grey colour pixel comes out as the grey path makes it', () => {
    const overlay = { colormap: 'jet' as const, opacity: 0.4, threshold: 0.2 };
    const heat = [0.1, 0.9, 0.9];
    const grey = compositeRgb({ rows: 1, columns: 3, values: [90, 90, 200], window: { center: 100, width: 200 }, heat, overlay });
    const colour = compositeRgb({ rows: 1, columns: 3, values: [90, 90, 90, 90, 90, 90, 200, 200, 200], samples: 3, window: { center: 100, width: 200 }, heat, overlay });
    assert.deepEqual(Array.from(colour), Array.from(grey));
  });

  it('the blend over a coloured pixel mixes each channel with the colour map (opacity a: (1-a)·pixel + a·map)', () => {
    const overlay = { colormap: 'jet' as const, opacity: 0.5, threshold: 0 };
    const lut = colormapLut('jet');
    const k = 255 * 3; // h = 1: the map's top entry
    const out = compositeRgb({ rows: 1, columns: 1, values: [0, 0, 255], samples: 3, window: IDENTITY, heat: [1], overlay });
    assert.deepEqual(Array.from(out), [Math.round(0.5 * lut[k]), Math.round(0.5 * lut[k + 1]), Math.round(127.5 + 0.5 * lut[k + 2])]);
  });

  it('grey slices are unchanged: one value per pixel, the same byte in R, G and B', () => {
    const out = compositeRgb({ rows: 1, columns: 3, values: [-1000, 40, 1000], window: { center: 40, width: 400 }, heat: null });
    assert.deepEqual(Array.from(out), [0, 0, 0, 128, 128, 128, 255, 255, 255]);
  });
});
