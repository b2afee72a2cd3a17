/**
 * YBR_FULL -> RGB (PS3.3 C.7.6.3.1.2) at the stored sample width: the chroma offset is half the
 * range, so 8-bit images convert as before and 16-bit ones are not clipped at 255.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ybr422ToRgb, ybrToRgb } from '../../../../src/core/imaging/color';

describe('YBR_FULL to RGB', () => {
  it('8-bit: neutral chroma is grey, pure chroma moves red and blue as the standard says', () => {
    assert.deepEqual([...ybrToRgb(new Uint8Array([100, 128, 128]))], [100, 100, 100]);
    const red = ybrToRgb(new Uint8Array([76, 85, 255])); // Y, Cb, Cr of pure red (JFIF)
    assert.ok(red[0] >= 250 && red[1] <= 3 && red[2] <= 3, `${[...red]}`);
    assert.ok(ybrToRgb(new Uint8Array(3)) instanceof Uint8Array);
  });

  it('16-bit: grey keeps its 16-bit value and colour scales to the 16-bit range', () => {
    const grey = ybrToRgb(new Uint16Array([40000, 32768, 32768]), 16);
    assert.ok(grey instanceof Uint16Array);
    assert.deepEqual([...grey], [40000, 40000, 40000], 'not clipped at 255');
    const red = ybrToRgb(new Uint16Array([76 * 257, 85 * 257, 255 * 257]), 16);
    assert.ok(red[0] >= 250 * 257 && red[1] <= 3 * 257 && red[2] <= 3 * 257, `${[...red]}`);
  });

  it('12 bits stored: the offset is 2048', () => {
    assert.deepEqual([...ybrToRgb(new Uint16Array([3000, 2048, 2048]), 12)], [3000, 3000, 3000]);
    assert.deepEqual([...ybrToRgb(new Uint16Array([4095, 4095, 4095]), 12)].map((v) => v <= 4095), [true, true, true], 'clamped to 12 bits');
  });

  it('native 4:2:2 pairs share their chroma, at 8 and 16 bits', () => {
    assert.deepEqual([...ybr422ToRgb(new Uint8Array([10, 20, 128, 128]), 1, 2)], [10, 10, 10, 20, 20, 20]);
    assert.deepEqual([...ybr422ToRgb(new Uint16Array([1000, 50000, 32768, 32768]), 1, 2, 16)], [1000, 1000, 1000, 50000, 50000, 50000]);
  });
});
