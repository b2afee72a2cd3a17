/**
 * Turning and flipping the view (OHIF's rotate right / left and flips): where an image point lands
 * on screen, the way back from the screen to the image, what fits, which patient direction each
 * screen edge shows, and which pixel spacing the horizontal scale bar uses.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { directionLetters, fitZoom, flipView, horizontalSpacing, imageToScreen, rotateView, screenDirections, screenToImage } from '../../../../src/renderer/viewer/geometry';
import type { ViewState } from '../../../../src/renderer/viewer/types';

const upright: ViewState = { zoom: 2, panX: 10, panY: -4, center: 40, width: 400, invert: false };
// an image 100 columns x 50 rows in a 400 x 300 canvas
const at = (ix: number, iy: number, v: ViewState) => imageToScreen(ix, iy, 400, 300, 100, 50, v).map((x) => Math.round(x * 1e9) / 1e9);
/** Every view the four buttons reach: four turns, each mirrored or not. */
const allViews = (): ViewState[] => [0, 1, 2, 3].flatMap((k) => {
  let v = upright;
  for (let i = 0; i < k; i++) v = rotateView(v, 1);
  return [v, flipView(v, 'h')];
});

describe('turning and flipping the view', () => {
  it('upright, an image point lands at zoom x its offset from the image centre, plus the canvas centre and the pan', () => {
    assert.deepEqual(at(0, 0, upright), [200 + 10 - 100, 150 - 4 - 50]);
  });

  it('a quarter turn clockwise (R) puts the image\'s top-left corner at the top right and its top edge down the right side', () => {
    const v = rotateView(upright, 1);
    assert.equal(v.rotation, 90);
    // offset (-50, -25) image pixels turns to (25, -50), then x 2
    assert.deepEqual(at(0, 0, v), [200 + 10 + 50, 150 - 4 - 100]);
    assert.deepEqual(at(100, 0, v), [200 + 10 + 50, 150 - 4 + 100]);
  });

  it('four turns either way, or two flips, give the view back', () => {
    let v = upright;
    for (let i = 0; i < 4; i++) v = rotateView(v, 1);
    assert.deepEqual(at(13, 7, v), at(13, 7, upright));
    assert.equal(rotateView(rotateView(upright, 1), -1).rotation, 0);
    for (const axis of ['h', 'v'] as const) assert.deepEqual(at(13, 7, flipView(flipView(upright, axis), axis)), at(13, 7, upright));
  });

  it('a flip mirrors what is on screen, however the view is turned', () => {
    for (const v of allViews()) {
      const [x, y] = at(13, 7, v);
      const [cx, cy] = [200 + v.panX, 150 + v.panY];
      assert.deepEqual(at(13, 7, flipView(v, 'h')), [2 * cx - x, y], `left-right from rotation ${v.rotation} flip ${v.flipH}`);
      assert.deepEqual(at(13, 7, flipView(v, 'v')), [x, 2 * cy - y], `top-bottom from rotation ${v.rotation} flip ${v.flipH}`);
    }
  });

  it('the screen-to-image map inverts the image-to-screen map in all eight orientations', () => {
    for (const v of allViews()) {
      const [x, y] = imageToScreen(31.5, 12.25, 400, 300, 100, 50, v);
      const back = screenToImage(x, y, 400, 300, 100, 50, v);
      assert.ok(Math.abs(back[0] - 31.5) < 1e-9 && Math.abs(back[1] - 12.25) < 1e-9, `rotation ${v.rotation} flip ${v.flipH}: ${back}`);
    }
  });

  it('turned a quarter, the image\'s sides swap for "fit"', () => {
    assert.equal(fitZoom(400, 300, 100, 50), 4); // min(400 / 100, 300 / 50)
    assert.equal(fitZoom(400, 300, 100, 50, { rotation: 90 }), 3); // min(400 / 50, 300 / 100)
    assert.equal(fitZoom(400, 300, 100, 50, { rotation: 180 }), 4);
  });

  it('the orientation letters follow: an axial image turned clockwise shows anterior on the right and the patient\'s right at the top', () => {
    const axial = [1, 0, 0, 0, 1, 0];
    const letters = (v: ViewState) => {
      const d = screenDirections(axial, v);
      return { right: directionLetters(d.right), bottom: directionLetters(d.down) };
    };
    assert.deepEqual(letters(upright), { right: 'L', bottom: 'P' });
    assert.deepEqual(letters(rotateView(upright, 1)), { right: 'A', bottom: 'L' });
    assert.deepEqual(letters(rotateView(upright, -1)), { right: 'P', bottom: 'R' });
    assert.deepEqual(letters(flipView(upright, 'h')), { right: 'R', bottom: 'P' });
    assert.deepEqual(letters(flipView(upright, 'v')), { right: 'L', bottom: 'A' });
  });

  it('the scale bar measures along the image axis lying horizontal: the rows\' spacing once turned a quarter', () => {
    assert.equal(horizontalSpacing([0.5, 0.8], upright), 0.8);
    assert.equal(horizontalSpacing([0.5, 0.8], rotateView(upright, 1)), 0.5);
    assert.equal(horizontalSpacing([0.5, 0.8], flipView(upright, 'v')), 0.8);
  });
});
