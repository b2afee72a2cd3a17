/** The ellipse ROI counts the pixels whose centres are inside, and reports their values' statistics. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ellipseStats, shortAxisOf } from '../../../src/shared/roi';

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

describe('bidirectional measurements: the short axis', () => {
  const dot = (p: readonly number[], q: readonly number[]) => p[0] * q[0] + p[1] * q[1];
  it('is the drag made perpendicular to the long axis, crossing it under the drag\'s middle', () => {
    const r = shortAxisOf([0, 0], [10, 0], [3, 5], [7, -5]);
    assert.deepEqual(r, { c: [5, 5], d: [5, -5] });
  });
  it('is perpendicular in millimetres on non-square pixels (not in pixels)', () => {
    const ps: [number, number] = [2, 1]; // rows 2 mm apart, columns 1 mm
    const a: [number, number] = [0, 0];
    const b: [number, number] = [10, 10];
    const r = shortAxisOf(a, b, [2, 8], [8, 2], ps);
    assert.ok(r);
    const mm = (p: readonly number[]) => [p[0] * ps[1], p[1] * ps[0]];
    const long = [mm(b)[0] - mm(a)[0], mm(b)[1] - mm(a)[1]];
    const short = [mm(r.d)[0] - mm(r.c)[0], mm(r.d)[1] - mm(r.c)[1]];
    assert.ok(Math.abs(dot(long, short)) < 1e-9, `dot ${dot(long, short)}`);
    assert.ok(Math.abs(dot([1, 1], [r.d[0] - r.c[0], r.d[1] - r.c[1]])) > 1, 'in pixels it is not perpendicular');
    // it crosses the long axis: c and d have the same foot on it, on opposite sides
    const u = [long[0] / Math.hypot(long[0], long[1]), long[1] / Math.hypot(long[0], long[1])];
    assert.ok(Math.abs(dot(mm(r.c), u) - dot(mm(r.d), u)) < 1e-9, 'one foot');
    const side = (p: readonly number[]) => long[0] * (mm(p)[1] - mm(a)[1]) - long[1] * (mm(p)[0] - mm(a)[0]);
    assert.ok(side(r.c) * side(r.d) < 0, 'on opposite sides');
  });
  it('crosses within the long axis (a drag beyond its end crosses at the end), and a drag along it has no short axis', () => {
    const r = shortAxisOf([0, 0], [10, 0], [20, 4], [20, -4]);
    assert.deepEqual(r, { c: [10, 4], d: [10, -4] });
    assert.equal(shortAxisOf([0, 0], [10, 0], [2, 0], [8, 0]), null);
    assert.equal(shortAxisOf([3, 3], [3, 3], [0, 0], [5, 5]), null);
  });
});
