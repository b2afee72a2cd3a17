"""Rasterise tapered 3-D tubes (line segments with a radius) into the HU / label volumes.

Occupancy is anti-aliased in-plane (a 1-pixel ramp) and averaged over sub-samples across the
slice thickness, so thin oblique vessels get the partial-volume dimming a real slice shows.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass
class Grid:
    N: int
    Z: int
    ps: float          # in-plane pixel spacing (mm)
    dz: float          # slice spacing == thickness (mm)
    x0: float          # image x of column 0 (mm)
    y0: float          # image y of row 0 (mm)
    s0: float          # anatomical depth s of slice 0 (mm); slice k is at s0 - k*dz

    @property
    def nsub(self) -> int:
        return int(min(5, max(1, round(self.dz / 1.0))))

    def sub_offsets(self) -> np.ndarray:
        n = self.nsub
        return ((np.arange(n) + 0.5) / n - 0.5) * self.dz


def draw_tubes(hu: np.ndarray, lab: np.ndarray, g: Grid, segs, *, val_out, val_in=None, frac_in=0.0,
               allowed=None, lab_out=None, lab_in=None, max_len=14.0):
    """Draw segments ``(p0, p1, r0, r1)`` with points (x, y, s) in mm.

    val_out / val_in: HU of the wall (or the whole tube) and of the lumen (radius * frac_in), each a
    scalar or a per-segment array. allowed: bool LUT over labels where drawing may happen.
    lab_out / lab_in: labels written where the occupancy >= 0.5 (None keeps the label).
    Long segments are split so bounding boxes stay tight.
    """
    subs = g.sub_offsets()
    nsub = len(subs)
    val_out = np.broadcast_to(np.asarray(val_out, np.float32), (len(segs),))
    val_in = None if val_in is None else np.broadcast_to(np.asarray(val_in, np.float32), (len(segs),))
    ps = g.ps
    for i, (p0, p1, r0, r1) in enumerate(segs):
        p0 = np.asarray(p0, float)
        p1 = np.asarray(p1, float)
        L = float(np.linalg.norm(p1 - p0))
        n = max(1, int(math.ceil(L / max(max_len, 3 * max(r0, r1)))))
        for j in range(n):
            a = p0 + (p1 - p0) * (j / n)
            b = p0 + (p1 - p0) * ((j + 1) / n)
            ra = r0 + (r1 - r0) * (j / n)
            rb = r0 + (r1 - r0) * ((j + 1) / n)
            _draw_one(hu, lab, g, a, b, ra, rb, subs, nsub, ps, float(val_out[i]),
                      None if val_in is None else float(val_in[i]), frac_in, allowed, lab_out, lab_in)


def _clip01(a):
    np.maximum(a, 0, out=a)
    np.minimum(a, 1, out=a)
    return a


def _draw_one(hu, lab, g, a, b, ra, rb, subs, nsub, ps, vo, vi, frac_in, allowed, lab_out, lab_in):
    rm = max(ra, rb) + ps
    # slice index k has s = s0 - k*dz  ->  k = (s0 - s)/dz
    smin, smax = min(a[2], b[2]) - rm, max(a[2], b[2]) + rm
    k0 = max(0, int(math.ceil((g.s0 - smax) / g.dz - 0.5)))
    k1 = min(g.Z - 1, int(math.floor((g.s0 - smin) / g.dz + 0.5)))
    if k1 < k0:
        return
    c0 = max(0, int((min(a[0], b[0]) - rm - g.x0) / ps))
    c1 = min(g.N, int((max(a[0], b[0]) + rm - g.x0) / ps) + 2)
    r0 = max(0, int((min(a[1], b[1]) - rm - g.y0) / ps))
    r1 = min(g.N, int((max(a[1], b[1]) + rm - g.y0) / ps) + 2)
    if c1 <= c0 or r1 <= r0:
        return
    xs = (g.x0 + ps * np.arange(c0, c1, dtype=np.float32) - a[0]).astype(np.float32)[None, None, :]
    ys = (g.y0 + ps * np.arange(r0, r1, dtype=np.float32) - a[1]).astype(np.float32)[None, :, None]
    ks = np.arange(k0, k1 + 1)
    ss = ((g.s0 - g.dz * ks)[:, None] + subs[None, :]).ravel()
    zs = (ss - a[2]).astype(np.float32)[:, None, None]
    d = (b - a).astype(np.float32)
    L2 = float(d @ d) + 1e-9
    t = (xs * d[0] + ys * d[1]) + zs * d[2]
    t *= 1.0 / L2
    _clip01(t)
    ex = xs - t * d[0]
    ey = ys - t * d[1]
    ez = zs - t * d[2]
    dist = np.sqrt(ex * ex + ey * ey + ez * ez)
    r = ra + (rb - ra) * t
    inv = 1.0 / ps
    occ = _clip01((r - dist) * inv + 0.5)
    nk = k1 - k0 + 1
    shape = (nk, nsub, r1 - r0, c1 - c0)
    occ_o = occ.reshape(shape).mean(1) if nsub > 1 else occ.reshape(shape)[:, 0]
    hv = hu[k0:k1 + 1, r0:r1, c0:c1]
    lv = lab[k0:k1 + 1, r0:r1, c0:c1]
    af = None if allowed is None else allowed[lv]
    w = occ_o if af is None else occ_o * af
    hv += w * (vo - hv)
    if lab_out is not None:
        lv[w >= 0.5] = lab_out
    if vi is not None and frac_in > 0:
        occ = _clip01((r * frac_in - dist) * inv + 0.5)
        occ_i = occ.reshape(shape).mean(1) if nsub > 1 else occ.reshape(shape)[:, 0]
        wi = occ_i if af is None else occ_i * af
        hv += wi * (vi - hv)
        if lab_in is not None:
            lv[wi >= 0.5] = lab_in
