/**
 * Overlay planes on screen: the packed bits (lowest bit first, rows running on without padding)
 * become one pixel each, drawn opaque in the overlay colour where set and transparent elsewhere.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OVERLAY_RGB, overlayRgba, unpackOverlay } from '../../../../src/renderer/viewer/overlay-planes';
import type { OverlayPlane } from '../../../../src/shared/dicom';

// 3 x 5: rows 10001 / 01010 / 00111, packed LSB first across byte boundaries
const pattern = [1, 0, 0, 0, 1, 0, 1, 0, 1, 0, 0, 0, 1, 1, 1];
const packed = new Uint8Array(2);
pattern.forEach((b, i) => (packed[i >> 3] |= b << (i & 7)));
const plane: OverlayPlane = { group: 0x6000, rows: 3, columns: 5, origin: [0, 0], type: 'G', bits: Buffer.from(packed).toString('base64') };

describe('overlay planes on screen', () => {
  it('unpacks the bits lowest first, across bytes', () => {
    assert.deepEqual(Array.from(unpackOverlay(plane)), pattern);
  });
  it('draws set pixels opaque in the overlay colour, the others transparent', () => {
    const rgba = overlayRgba(plane);
    assert.equal(rgba.length, 15 * 4);
    pattern.forEach((b, i) => assert.deepEqual(Array.from(rgba.subarray(i * 4, i * 4 + 4)), b ? [...OVERLAY_RGB, 255] : [0, 0, 0, 0], `pixel ${i}`));
  });
});
