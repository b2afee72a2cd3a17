/**
 * `measurementSpacing` (shared/dicom.ts): the spacing a measurement is calibrated with, which the
 * report and the viewer share. A calibration that holds only inside ultrasound regions applies
 * to a measurement only when one region holds all its points (image coordinates, pixel edges).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PixelCalibration } from '../../../../src/shared/dicom';
import { measurementSpacing } from '../../../../src/shared/dicom';

describe('measurementSpacing', () => {
  const whole: PixelCalibration = { pixelSpacing: [0.5, 0.4], pixelSpacingSource: 'pixel' };
  // two side-by-side views, pixels 0..31 and 32..63 across, rows 0..29
  const views: PixelCalibration = {
    pixelSpacing: [0.2, 0.3],
    pixelSpacingSource: 'ultrasound-region',
    pixelSpacingRegions: [
      [0, 0, 31, 29],
      [32, 0, 63, 29],
    ],
  };

  it('no calibration: pixels', () => {
    assert.equal(measurementSpacing(undefined, [[0, 0]]), undefined);
    assert.equal(measurementSpacing({}, [[0, 0]]), undefined);
  });

  it('a calibration without regions holds anywhere, even off the image', () => {
    assert.deepEqual(
      measurementSpacing(whole, [
        [-5, -5],
        [1000, 3],
      ]),
      [0.5, 0.4],
    );
  });

  it('inside one region, its far edges included (the last pixel ends at index + 1)', () => {
    assert.deepEqual(
      measurementSpacing(views, [
        [0, 0],
        [32, 30],
      ]),
      [0.2, 0.3],
    );
    assert.deepEqual(
      measurementSpacing(views, [
        [32, 0],
        [64, 30],
      ]),
      [0.2, 0.3],
    );
  });

  it('a point outside every region, or points in two regions: pixels', () => {
    assert.equal(
      measurementSpacing(views, [
        [5, 5],
        [5, 30.01],
      ]),
      undefined,
    );
    assert.equal(
      measurementSpacing(views, [
        [5, 5],
        [40, 5],
      ]),
      undefined,
    );
    // every point counts (a bidirectional measurement's short axis too)
    assert.equal(
      measurementSpacing(views, [
        [5, 5],
        [20, 5],
        [10, 2],
        [10, 31],
      ]),
      undefined,
    );
  });
});
