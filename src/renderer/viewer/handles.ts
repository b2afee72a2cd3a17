/**
 * Editing a drawn measurement by its handles, as OHIF, Weasis and Horos allow: the two ends of a
 * length, the four extremes of an ellipse ROI, the four ends of a bidirectional measurement. Pure
 * functions on image coordinates (pixel edges), so they hold however the view is turned.
 *
 * A bidirectional measurement stays one: moving an end of the short axis changes that half only
 * (the crossing stays), moving an end of the long axis carries the short axis along (same halves,
 * same relative place along the long axis, perpendicular again), all in mm so that it holds on
 * non-square pixels.
 */
import type { DrawnMeasurement } from '../../shared/roi';

type Pt = [number, number];
/** A measurement's shape; no kind is a length (the viewer's measurements before there were others). */
type Shape = { kind?: DrawnMeasurement['kind']; a: Pt; b: Pt; c?: Pt; d?: Pt };

/** The handles of a measurement, in the order `moveHandle` numbers them. */
export function handlesOf(m: Shape): Pt[] {
  if (m.kind === 'ellipse') {
    const [x0, x1] = [Math.min(m.a[0], m.b[0]), Math.max(m.a[0], m.b[0])];
    const [y0, y1] = [Math.min(m.a[1], m.b[1]), Math.max(m.a[1], m.b[1])];
    const [cx, cy] = [(x0 + x1) / 2, (y0 + y1) / 2];
    // left, right, top, bottom extremes of the ellipse
    return [[x0, cy], [x1, cy], [cx, y0], [cx, y1]];
  }
  if (m.kind === 'bidirectional' && m.c && m.d) return [m.a, m.b, m.c, m.d];
  return [m.a, m.b];
}

/** The handle of `m` within `radius` (in the same units as the points) of `p`, nearest first; -1 when none. */
export function handleAt(handles: readonly Pt[], p: Pt, radius: number): number {
  let best = -1;
  let bestD = radius;
  handles.forEach((h, k) => {
    const d = Math.hypot(h[0] - p[0], h[1] - p[1]);
    if (d <= bestD) [best, bestD] = [k, d];
  });
  return best;
}

/** `m` with handle `k` moved to `p`; `spacing` ([row, column] mm) keeps a bidirectional's axes perpendicular in mm. */
export function moveHandle<M extends Shape>(m: M, k: number, p: Pt, spacing: readonly [number, number] = [1, 1]): M {
  if (m.kind === 'ellipse') {
    let [x0, x1] = [Math.min(m.a[0], m.b[0]), Math.max(m.a[0], m.b[0])];
    let [y0, y1] = [Math.min(m.a[1], m.b[1]), Math.max(m.a[1], m.b[1])];
    if (k === 0) x0 = p[0];
    else if (k === 1) x1 = p[0];
    else if (k === 2) y0 = p[1];
    else if (k === 3) y1 = p[1];
    return { ...m, a: [Math.min(x0, x1), Math.min(y0, y1)], b: [Math.max(x0, x1), Math.max(y0, y1)] };
  }
  if (m.kind === 'bidirectional' && m.c && m.d) return moveBidirectional(m, k, p, spacing);
  return k === 0 ? { ...m, a: [...p] } : { ...m, b: [...p] };
}

function moveBidirectional<M extends Shape>(m: M, k: number, p: Pt, spacing: readonly [number, number]): M {
  const [sx, sy] = [spacing[1], spacing[0]];
  const mm = (q: Pt): Pt => [q[0] * sx, q[1] * sy];
  const px = (q: Pt): Pt => [q[0] / sx, q[1] / sy];
  /** The long axis a-b's frame in mm: origin a, unit u along it, unit n across it, its length. */
  const frame = (a: Pt, b: Pt) => {
    const [ax, ay] = mm(a);
    const [bx, by] = mm(b);
    const len = Math.hypot(bx - ax, by - ay) || 1e-9;
    const u: Pt = [(bx - ax) / len, (by - ay) / len];
    return { o: [ax, ay] as Pt, u, n: [-u[1], u[0]] as Pt, len };
  };
  const coords = (f: ReturnType<typeof frame>, q: Pt) => {
    const [x, y] = mm(q);
    return { t: (x - f.o[0]) * f.u[0] + (y - f.o[1]) * f.u[1], s: (x - f.o[0]) * f.n[0] + (y - f.o[1]) * f.n[1] };
  };
  const at = (f: ReturnType<typeof frame>, t: number, s: number): Pt => px([f.o[0] + f.u[0] * t + f.n[0] * s, f.o[1] + f.u[1] * t + f.n[1] * s]);
  const c = m.c as Pt;
  const d = m.d as Pt;
  const f = frame(m.a, m.b);
  const cc = coords(f, c);
  const dc = coords(f, d);
  // where the short axis crosses the long one (both its ends project there)
  const t = (cc.t + dc.t) / 2;
  if (k >= 2) {
    // one half of the short axis: its end follows the pointer across the long axis, on its own side
    const moving = k === 2 ? cc : dc;
    const side = Math.sign(moving.s) || 1;
    const s = side * Math.max(0, side * coords(f, p).s);
    return k === 2 ? { ...m, c: at(f, t, s) } : { ...m, d: at(f, t, s) };
  }
  const a = k === 0 ? p : m.a;
  const b = k === 1 ? p : m.b;
  const g = frame(a, b);
  // the short axis keeps its halves and its relative place along the long axis
  const tr = (t / f.len) * g.len;
  return { ...m, a: [...a], b: [...b], c: at(g, tr, cc.s), d: at(g, tr, dc.s) };
}
