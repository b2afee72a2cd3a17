/**
 * The window a series opens in. A colour image's samples already are display values: it opens at
 * the identity window (its full range), or at a window its files store; never at CT's HU window,
 * never at a window from its own extremes (which turned a dark blue black).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SliceData } from '../../../../src/renderer/api/client';
import { compositeRgb } from '../../../../src/shared/composite';
import { autoWindow, CT_DEFAULT_WINDOW, colourWindow, dragWindow, isColourPhotometric, sliceWindow, storedOrConventionalWindow } from '../../../../src/renderer/viewer/window';

const colour = (rgb: number[], bytes = true): SliceData => ({ rows: 1, columns: rgb.length / 3, samples: 3, rgb: bytes ? Uint8Array.from(rgb) : Float32Array.from(rgb) });

describe('opening window', () => {
  it('8-bit colour opens at the identity window (center 128, width 256), which shows every sample as stored', () => {
    const s = colour([10, 20, 30, 0, 0, 120]); // dark: its own extremes would stretch it
    const w = sliceWindow(s);
    assert.deepEqual(w, { center: 128, width: 256 });
    const all = Uint8Array.from({ length: 256 * 3 }, (_, i) => Math.floor(i / 3));
    assert.deepEqual(Array.from(compositeRgb({ rows: 1, columns: 256, values: all, samples: 3, window: w, heat: null })), Array.from(all));
    // the old way (luminance, auto window) made that dark blue pixel black
    assert.notDeepEqual(w, autoWindow([0.299 * 10 + 0.587 * 20 + 0.114 * 30, 0.114 * 120]));
  });

  it('deeper colour opens at its full range: the smallest bit depth that holds its largest sample', () => {
    assert.deepEqual(colourWindow(Float32Array.of(4000, 0, 12)), { center: 2048, width: 4096 });
    assert.deepEqual(sliceWindow(colour([65535, 0, 0], false)), { center: 32768, width: 65536 });
    assert.deepEqual(colourWindow(Float32Array.of(0, 0, 0)), { center: 128, width: 256 }, 'an all-black image is 8-bit');
  });

  it('a window the files store wins, for colour too; CT\'s HU convention never applies to a colour image', () => {
    assert.deepEqual(storedOrConventionalWindow([{ center: 100, width: 150 }], 'US', true), { center: 100, width: 150 });
    assert.equal(storedOrConventionalWindow([], 'CT', true), undefined, 'a colour CT (a rendering) is not shown at 40/400');
    assert.deepEqual(storedOrConventionalWindow([], 'CT'), CT_DEFAULT_WINDOW);
    assert.equal(storedOrConventionalWindow([], 'US', true), undefined);
  });

  it('grey slices keep their own range', () => {
    assert.deepEqual(sliceWindow({ rows: 1, columns: 3, samples: 1, values: Int16Array.of(0, 400, 100) }), { center: 200, width: 400 });
  });

  it('PhotometricInterpretation: RGB, YBR_* and PALETTE COLOR are colour; MONOCHROME1/2 and none are not', () => {
    for (const p of ['RGB', 'YBR_FULL', 'YBR_FULL_422', 'YBR_ICT', 'PALETTE COLOR']) assert.ok(isColourPhotometric(p), p);
    for (const p of ['MONOCHROME1', 'MONOCHROME2', '', undefined]) assert.ok(!isColourPhotometric(p), String(p));
  });
});

describe('window/level drag', () => {
  it('soft tissue to lung (400 to 1,500 wide) in about 200 px, not over 1,000', () => {
    const w = dragWindow({ center: 40, width: 400 }, 200, 0);
    assert.ok(w.width > 1400 && w.width < 1600, `width ${w.width}`);
    assert.equal(w.center, 40, 'a horizontal drag keeps the level');
  });

  it('left narrows as right widens, never to zero or below', () => {
    const a = dragWindow({ center: 40, width: 400 }, 150, 0).width;
    const b = dragWindow({ center: 40, width: 400 }, -150, 0).width;
    assert.ok(Math.abs(a * b - 400 * 400) < 1e-6, 'symmetric: right then left by the same amount is back where it was');
    assert.ok(dragWindow({ center: 0, width: 1 }, -5000, 0).width > 0);
  });

  it('the level moves by a hundredth of the width per pixel, so PET (width 10) and CT (400) feel alike', () => {
    assert.equal(dragWindow({ center: 40, width: 400 }, 0, 50).center, 240);
    assert.equal(dragWindow({ center: 3, width: 10 }, 0, -50).center, -2);
  });
});
