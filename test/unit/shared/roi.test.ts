/** The ellipse ROI counts the pixels whose centres are inside, and reports their values' statistics. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ellipseStats } from '../../../src/shared/roi';

describe('ellipse ROI statistics', () => {
  it('a disc of 40 HU on -1000 HU air reads 40 HU with no spread, and its analytic area in mm²', () => {
    const rows = 64;
    const columns = 80;
    const v = new Float32Array(rows * columns).fill(-1000);
    // the disc: centres within 12 px of (40, 30)
    for (let y = 0; y < rows; y++) for (let x = 0; x < columns; x++) if (Math.hypot(x + 0.5 - 40, y + 0.5 - 30) <= 12) v[y * columns + x] = 40;
    const s = ellipseStats(v, rows, columns, [30, 20], [50, 40], [0.5, 0.8]); // radius 10, inside the disc
    assert.ok(s);
    assert.equal(s.mean, 40);
    assert.equal(s.sd, 0);
    assert.equal(s.min, 40);
    assert.equal(s.max, 40);
    assert.ok(Math.abs(s.n - Math.PI * 100) < 12, `about pi r² pixels: ${s.n}`);
    assert.ok(Math.abs(s.area - Math.PI * 10 * 10 * 0.5 * 0.8) < 1e-9);
    assert.equal(s.areaUnit, 'mm2');
  });

  it('half inside the disc: the mean and spread of two values, min and max', () => {
    const rows = 10;
    const columns = 10;
    const v = new Float32Array(rows * columns);
    for (let y = 0; y < rows; y++) for (let x = 0; x < columns; x++) v[y * columns + x] = x < 5 ? 0 : 100;
    const s = ellipseStats(v, rows, columns, [9, 9], [1, 1]); // drawn from the other corner: same ellipse
    assert.ok(s);
    assert.equal(s.mean, 50, 'symmetric about x = 5');
    assert.equal(s.sd, 50);
    assert.deepEqual([s.min, s.max], [0, 100]);
    assert.equal(s.areaUnit, 'px2');
    assert.ok(Math.abs(s.area - Math.PI * 16) < 1e-9);
  });

  it('a flat or off-image ellipse has no statistics; one partly off the image counts the pixels on it', () => {
    const v = new Float32Array(16).fill(7);
    assert.equal(ellipseStats(v, 4, 4, [1, 1], [3, 1]), null, 'no height');
    assert.equal(ellipseStats(v, 4, 4, [10, 10], [20, 20]), null, 'outside');
    const edge = ellipseStats(v, 4, 4, [-2, -2], [2, 2]);
    assert.ok(edge && edge.n > 0 && edge.n < 16 && edge.mean === 7);
  });
});
