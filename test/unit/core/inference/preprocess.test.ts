/**
 * Model-input preprocessing matches the training pipeline (training/preprocess.py, via the
 * vectors training/golden.py wrote to test/fixtures/golden/preprocess) within 1e-5: padding and
 * non-finite pixels, up- and down-sampling with half-pixel centres, the three CT windows and the
 * normalization, all as the default model's card describes them.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { loadModelCard } from '../../../../src/core/inference/card';
import type { PreprocessSpec, SliceValues } from '../../../../src/core/inference/preprocess';
import { inputLength, preprocessInto, preprocessSlice, preprocessSpec, resizeSlice } from '../../../../src/core/inference/preprocess';
import { REPO_ROOT } from '../../../helpers/corpus';

const DIR = path.join(REPO_ROOT, 'test', 'fixtures', 'golden', 'preprocess');
const meta = JSON.parse(fs.readFileSync(path.join(DIR, 'meta.json'), 'utf8')) as {
  tolerance: number;
  cases: { id: string; hu: { file: string; shape: [number, number] }; paddingValue: number | null; expected: { file: string; shape: number[] } }[];
};
const readF32 = (f: string) => {
  const b = fs.readFileSync(path.join(DIR, f));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};
const { card } = loadModelCard(path.join(REPO_ROOT, 'resources', 'models', 'resight-ct-lesion.card.json'));

describe('preprocessing parity with the training pipeline', () => {
  for (const c of meta.cases) {
    it(`${c.id}: every input value within ${meta.tolerance}`, () => {
      const hu = readF32(c.hu.file);
      const [rows, columns] = c.hu.shape;
      const slice = { values: hu, rows, columns, ...(c.paddingValue !== null ? { paddingRange: [c.paddingValue, c.paddingValue] as [number, number] } : {}) };
      const got = preprocessSlice(slice, card);
      const want = readF32(c.expected.file);
      assert.equal(got.length, want.length);
      let worst = 0;
      let at = -1;
      for (let i = 0; i < got.length; i++) {
        const d = Math.abs(got[i] - want[i]);
        if (!(d <= worst)) {
          worst = d;
          at = i;
        }
      }
      assert.ok(worst <= meta.tolerance, `max |diff| ${worst} at ${at} (got ${got[at]}, want ${want[at]})`);
    });
  }
});

describe('bilinear resize with half-pixel centres', () => {
  it('a 2x downsample averages 2x2 blocks; a 2x upsample interpolates at quarter positions', () => {
    const v = Float32Array.from([0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30]);
    assert.deepEqual(Array.from(resizeSlice({ values: v, rows: 4, columns: 4 }, 2, 2, -1024)), [5, 9, 21, 25]);
    const up = resizeSlice({ values: Float32Array.from([0, 4]), rows: 1, columns: 2 }, 1, 4, -1024);
    assert.deepEqual(Array.from(up), [0, 1, 3, 4]);
  });

  it('replaces padding and non-finite values with the fill before resizing', () => {
    const v = Float32Array.from([NaN, Infinity, -2000, 100]);
    const out = resizeSlice({ values: v, rows: 2, columns: 2, paddingRange: [-2000, -2000] }, 1, 1, -1024);
    assert.equal(out[0], (-1024 * 3 + 100) / 4);
  });
});

describe('the fused preprocessing loop', () => {
  /** Resize, then window and normalize per channel: the card's steps one at a time. */
  const stepwise = (slice: SliceValues, spec: PreprocessSpec): Float32Array => {
    const [h, w] = spec.size;
    const hu = resizeSlice(slice, h, w, spec.fill);
    const out = new Float32Array(spec.channels.length * h * w);
    spec.channels.forEach((c, k) => hu.forEach((v, i) => (out[k * h * w + i] = (Math.min(1, Math.max(0, (v - c.low) / c.width)) - c.mean) / c.std)));
    return out;
  };
  const slice: SliceValues = {
    values: Float32Array.from({ length: 300 * 200 }, (_, i) => (i % 997 === 0 ? NaN : i % 1009 === 0 ? -2000 : ((i * 7919) % 3000) - 1024)),
    rows: 300,
    columns: 200,
    paddingRange: [-2000, -2000],
  };

  it('equals the step-by-step computation for three windows, down- and up-sampling (1e-6)', () => {
    for (const size of [[256, 256], [96, 128], [512, 400]] as [number, number][]) {
      const spec = { ...preprocessSpec(card), size };
      const got = new Float32Array(inputLength(spec) + 5);
      preprocessInto(slice, spec, got, 5);
      const want = stepwise(slice, spec);
      want.forEach((v, i) => assert.ok(Math.abs(got[i + 5] - v) <= 1e-6, `${size}: ${i}: ${got[i + 5]} vs ${v}`));
    }
  });

  it('handles other channel counts (one window, four windows)', () => {
    const base = preprocessSpec(card);
    for (const channels of [[base.channels[1]], [...base.channels, { low: -1000, width: 3000, mean: 0.2, std: 0.3 }]]) {
      const spec = { ...base, size: [64, 64] as [number, number], channels };
      const got = new Float32Array(inputLength(spec));
      preprocessInto(slice, spec, got, 0);
      assert.deepEqual(got, stepwise(slice, spec));
    }
  });
});
