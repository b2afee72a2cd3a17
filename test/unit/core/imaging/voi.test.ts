/**
 * Window/level: the CT presets radiologists expect on the number keys, padding that never
 * skews the automatic window, and the padding range in modality units.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { InstanceHeader } from '../../../../src/shared/dicom';
import { autoWindow, CT_PRESETS, paddingRangeOf, presetById, valueStats } from '../../../../src/core/imaging/voi';

describe('CT window presets', () => {
  it('match the field (width/level in HU) and sit on keys 1..6', () => {
    const table = Object.fromEntries(CT_PRESETS.map((p) => [p.id, [p.width, p.center, p.key]]));
    assert.deepEqual(table, {
      lung: [1500, -600, '1'],
      mediastinum: [400, 40, '2'],
      abdomen: [350, 40, '3'],
      liver: [150, 90, '4'],
      bone: [2500, 480, '5'],
      brain: [80, 40, '6'],
    });
    assert.equal(presetById('bone')?.width, 2500);
    assert.equal(presetById('nope'), undefined);
  });
});

describe('padding', () => {
  const header = (over: Partial<InstanceHeader>) => ({ rescale: { slope: 1, intercept: -1024 }, ...over }) as InstanceHeader;

  it('maps PixelPaddingValue (and RangeLimit) through the rescale into modality units', () => {
    assert.equal(paddingRangeOf(header({})), undefined);
    assert.deepEqual(paddingRangeOf(header({ pixelPaddingValue: -2000 })), [-3024, -3024]);
    assert.deepEqual(paddingRangeOf(header({ pixelPaddingValue: 0, pixelPaddingRangeLimit: 10 })), [-1024, -1014]);
    assert.deepEqual(paddingRangeOf(header({ pixelPaddingValue: 10, pixelPaddingRangeLimit: 0, rescale: { slope: -2, intercept: 0 } })), [-20, 0]);
  });

  it('is excluded from statistics and from the automatic window', () => {
    // A CT slice: most of the frame is padding at -3024 HU outside the scan circle.
    const values = new Float32Array(10000).fill(-3024);
    for (let i = 0; i < 4000; i++) values[i] = -1000 + (i % 1100); // -1000..99 HU inside
    const padded = autoWindow(values);
    const clean = autoWindow(values, [-3024, -3024]);
    const stats = valueStats(values, [-3024, -3024]);
    assert.equal(stats.count, 4000);
    assert.equal(stats.padding, 6000);
    assert.equal(stats.min, -1000);
    assert.equal(stats.max, 99);
    // Without the padding range the window is dragged towards -3024; with it, it spans the tissue.
    assert.ok(padded.center < -1400 && padded.width > 2500, `padded ${padded.center}/${padded.width}`);
    assert.ok(clean.center > -600 && clean.center < -300, `clean center ${clean.center}`);
    assert.ok(clean.width > 900 && clean.width <= 1100, `clean width ${clean.width}`);
  });

  it('gives a usable window for flat and empty images', () => {
    assert.deepEqual(autoWindow(new Float32Array(10).fill(7)), { center: 7, width: 1, explanation: 'AUTO' });
    assert.equal(autoWindow(new Float32Array(4).fill(5), [5, 5]).width, 1);
  });
});
