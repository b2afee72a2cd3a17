"""Lung nodules and liver lesions: random parameters, placement, 3-D rendering, masks.

Shape: an ellipsoid (random axes ratio 0.85-1.18 and orientation) whose radius is modulated by
random lobes (von-Mises-like bumps on the sphere), plus optional spicules (thin tapered rays).
``diameter_mm`` is the nominal (mean) diameter of that body; spicules are extra.
Occupancy is evaluated at sub-slice positions and averaged (partial volume). The intensity uses
a soft edge (ill-defined margins: 1.5-5 mm ramp); the ground-truth mask is the hard body
(occupancy >= 0.5) restricted to the host organ (lung or liver label).
"""
from __future__ import annotations

import math
from typing import Dict, List, Optional

import numpy as np

from .spec import (GGO_HU, LIVER_LESION_DELTA_HU, LIVER_LESION_DIAMETER_MM, NODULE_DIAMETER_MM,
                   SOLID_HU)
from .tissues import T
from .tubes import Grid


def _loguniform(rng, lo, hi):
    return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def _rand_rot(rng):
    q = rng.normal(size=4)
    q /= np.linalg.norm(q)
    a, b, c, d = q
    return np.array([
        [a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)],
        [2 * (b * c + a * d), a * a - b * b + c * c - d * d, 2 * (c * d - a * b)],
        [2 * (b * d - a * c), 2 * (c * d + a * b), a * a - b * b - c * c + d * d]])


def _unit(rng, n=None):
    v = rng.normal(size=(n or 1, 3))
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return v if n else v[0]


def nodule_params(rng, contrast: str, ov: Optional[dict] = None) -> dict:
    ov = ov or {}
    d = _loguniform(rng, *NODULE_DIAMETER_MM)
    kind = rng.choice(["solid", "ggo", "part_solid"], p=[0.62, 0.26, 0.12])
    shape = rng.choice(["round", "lobulated", "spiculated"], p=[0.42, 0.33, 0.25])
    juxta = rng.choice(["none", "pleural", "vascular"], p=[0.55, 0.27, 0.18])
    p = dict(cls="lung_nodule", diameter_mm=d, kind=str(kind), shape=str(shape),
             juxta=None if juxta == "none" else str(juxta),
             hu_solid=rng.uniform(*SOLID_HU), hu_ggo=rng.uniform(*GGO_HU), core_frac=rng.uniform(0.3, 0.6))
    p["margin"] = "ill_defined" if (p["kind"] != "solid" or rng.random() < 0.2) else "sharp"
    p.update(_shape_params(rng, p["shape"]))
    if "class" in ov:
        ov = {k: v for k, v in ov.items() if k != "class"}
    if "hu" in ov:
        p["hu_solid" if ov.get("kind", p["kind"]) != "ggo" else "hu_ggo"] = float(ov.pop("hu"))
    for k, v in ov.items():
        p[k] = v
    if "shape" in ov:
        p.update(_shape_params(rng, p["shape"]))
    p["edge_mm"] = rng.uniform(1.5, 3.5) if p["margin"] == "ill_defined" else rng.uniform(0.2, 0.7)
    p["tex_amp"] = rng.uniform(3, 15)
    return p


def liver_params(rng, contrast: str, ov: Optional[dict] = None) -> dict:
    ov = dict(ov or {})
    ov.pop("class", None)
    d = _loguniform(rng, *LIVER_LESION_DIAMETER_MM)
    probs = [0.72, 0.16, 0.12] if contrast != "none" else [0.9, 0.1, 0.0]
    kind = str(rng.choice(["hypodense", "hyperdense", "rim"], p=probs))
    mag = rng.uniform(*LIVER_LESION_DELTA_HU)
    shape = str(rng.choice(["round", "lobulated"], p=[0.6, 0.4]))
    p = dict(cls="liver_lesion", diameter_mm=d, kind=kind, shape=shape, juxta=None,
             delta_hu=-mag if kind != "hyperdense" else mag, rim_delta=rng.uniform(15, 50),
             rim_mm=rng.uniform(1.5, 4.0), margin="ill_defined" if rng.random() < 0.4 else "sharp")
    p.update(_shape_params(rng, shape))
    for k, v in ov.items():
        p[k] = v
    if "shape" in ov:
        p.update(_shape_params(rng, p["shape"]))
    if "delta_hu" in ov and "kind" not in ov:
        p["kind"] = "hyperdense" if ov["delta_hu"] > 0 else "hypodense"
    p["edge_mm"] = rng.uniform(1.5, 5.0) if p["margin"] == "ill_defined" else rng.uniform(0.2, 0.8)
    p["tex_amp"] = rng.uniform(2, 10)
    return p


def _shape_params(rng, shape: str) -> dict:
    e = rng.uniform(0.85, 1.18, 3)
    e /= np.prod(e) ** (1 / 3)
    out = dict(rot=_rand_rot(rng), axes=e, lobes=[], spicules=[])
    if shape in ("lobulated", "spiculated"):
        k = int(rng.integers(3, 8)) if shape == "lobulated" else int(rng.integers(0, 4))
        dirs = _unit(rng, max(k, 1))
        for i in range(k):
            kap = rng.uniform(2.5, 9.0)
            out["lobes"].append((dirs[i], rng.uniform(0.08, 0.3), kap, (1 - math.exp(-2 * kap)) / (2 * kap)))
    if shape == "spiculated":
        m = int(rng.integers(4, 14))
        dirs = _unit(rng, m)
        for i in range(m):
            out["spicules"].append((dirs[i], rng.uniform(0.3, 1.1), rng.uniform(0.35, 0.9)))
    return out


# --------------------------------------------------------------------------- rendering
def _occupancy(p, g: Grid, center, box_r):
    """Evaluate the lesion in its box. Returns (k0, r0, c0, hard, soft, core_soft, shell)."""
    ps = g.ps
    x, y, s = center
    k0 = max(0, int(math.ceil((g.s0 - (s + box_r)) / g.dz - 0.5)))
    k1 = min(g.Z - 1, int(math.floor((g.s0 - (s - box_r)) / g.dz + 0.5)))
    c0 = max(0, int((x - box_r - g.x0) / ps))
    c1 = min(g.N, int((x + box_r - g.x0) / ps) + 2)
    r0 = max(0, int((y - box_r - g.y0) / ps))
    r1 = min(g.N, int((y + box_r - g.y0) / ps) + 2)
    if k1 < k0 or c1 <= c0 or r1 <= r0:
        return None
    subs = g.sub_offsets()
    nsub = len(subs)
    ks = np.arange(k0, k1 + 1)
    ss = ((g.s0 - g.dz * ks)[:, None] + subs[None, :]).ravel()
    X = (g.x0 + ps * np.arange(c0, c1) - x).astype(np.float32)[None, None, :]
    Y = (g.y0 + ps * np.arange(r0, r1) - y).astype(np.float32)[None, :, None]
    S = (ss - s).astype(np.float32)[:, None, None]
    Rm = p["diameter_mm"] / 2
    rot, ax = p["rot"], p["axes"]
    # local coordinates q = R^T p / axes
    q = [(rot[0, i] * X + rot[1, i] * Y + rot[2, i] * S) / ax[i] for i in range(3)]
    rho = np.sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2]) + 1e-6
    r = np.full_like(rho, Rm)
    if p["lobes"]:
        mod = 0.0
        for u, amp, kap, mean in p["lobes"]:
            cos = (q[0] * u[0] + q[1] * u[1] + q[2] * u[2]) / rho
            mod = mod + amp * (np.exp(kap * (cos - 1)) - mean)
        r = Rm * np.maximum(1 + mod, 0.45)
    sd = rho - r                                   # ~signed distance (mm)
    hard = np.clip(0.5 - sd / ps, 0, 1)
    soft = np.clip(0.5 - sd / max(p["edge_mm"], ps), 0, 1)
    core = None
    if p.get("kind") == "part_solid":
        core = np.clip(0.5 - (rho - r * p["core_frac"]) / max(0.6, ps), 0, 1)
    elif p.get("kind") == "rim":
        core = np.clip(0.5 - (sd + p["rim_mm"]) / max(p["edge_mm"], ps), 0, 1)
    if p["spicules"]:
        P = np.stack(np.broadcast_arrays(X, Y, S))
        for u, lfrac, rad in p["spicules"]:
            a = np.asarray(u) * Rm * 0.7
            b = np.asarray(u) * Rm * (1.05 + lfrac * 1.4)
            d = b - a
            t = np.clip(((P[0] - a[0]) * d[0] + (P[1] - a[1]) * d[1] + (P[2] - a[2]) * d[2]) / (d @ d), 0, 1)
            dist = np.sqrt((P[0] - a[0] - t * d[0]) ** 2 + (P[1] - a[1] - t * d[1]) ** 2 + (P[2] - a[2] - t * d[2]) ** 2)
            rr = rad * (1 - 0.75 * t)
            occ = np.clip((rr - dist) / ps + 0.5, 0, 1)
            soft = np.maximum(soft, occ)
            hard = np.maximum(hard, occ)
    shape = (k1 - k0 + 1, nsub, r1 - r0, c1 - c0)

    def zmean(a):
        return None if a is None else a.reshape(shape).mean(1)

    # texture: a few random short-wavelength waves
    return k0, r0, c0, zmean(hard), zmean(soft), zmean(core), (X, Y, S, shape)


def render(p, hu, lab, g: Grid, rng, paint: bool = True) -> Optional[dict]:
    """Blend the lesion into ``hu`` and return its mask footprint, or None when it misses.

    ``paint=False`` (lesion-free twins): the same computation and the same random draws, but the
    blend goes into a scratch copy, so ``hu`` is left untouched and the mask is still returned."""
    Rm = p["diameter_mm"] / 2
    extra = max((Rm * (1.05 + sp[1] * 1.4) for sp in p["spicules"]), default=0.0)
    box_r = max(Rm * 1.3, extra) + p["edge_mm"] + 2 * g.ps
    res = _occupancy(p, g, p["center"], box_r)
    if res is None:
        return None
    k0, r0, c0, hard, soft, core, (X, Y, S, shape) = res
    sl = (slice(k0, k0 + hard.shape[0]), slice(r0, r0 + hard.shape[1]), slice(c0, c0 + hard.shape[2]))
    hv, lv = (hu[sl] if paint else hu[sl].copy()), lab[sl]
    host = T.LUNG if p["cls"] == "lung_nodule" else T.LIVER
    inhost = (lv == host)
    w = soft * inhost
    # low-amplitude internal texture
    tex = np.zeros_like(hard)
    for _ in range(3):
        kv = _unit(rng) * 2 * np.pi / rng.uniform(3, 9)
        ph = rng.uniform(0, 2 * np.pi)
        wave = np.sin(kv[0] * X + kv[1] * Y + kv[2] * S + ph).reshape(shape).mean(1)
        tex += wave
    tex *= p["tex_amp"] / math.sqrt(1.5 * 3)
    if p["cls"] == "lung_nodule":
        if p["kind"] == "ggo" or p["kind"] == "part_solid":
            new = hv + w * (p["hu_ggo"] + tex - hv)
            np.maximum(hv, new, out=hv)
        if p["kind"] == "solid":
            hv += w * (p["hu_solid"] + tex - hv)
        elif p["kind"] == "part_solid":
            wc = core * inhost
            hv += wc * (p["hu_solid"] + tex - hv)
    else:
        if p["kind"] == "rim" and core is not None:
            shell = np.clip(w - core * inhost, 0, 1)
            hv += shell * p["rim_delta"] + core * inhost * (p["delta_hu"] + tex)
        else:
            hv += w * (p["delta_hu"] + tex)
    mask = (hard >= 0.5) & inhost
    if not mask.any():
        return None
    return dict(k0=k0, r0=r0, c0=c0, mask=mask)


# --------------------------------------------------------------------------- placement
class Placer:
    def __init__(self, lab: np.ndarray, g: Grid, rng):
        self.lab, self.g, self.rng = lab, g, rng
        self.placed: List[tuple] = []
        self._cand: Dict[int, np.ndarray] = {}

    def _candidates(self, host):
        if host not in self._cand:
            sub = self.lab[:, ::4, ::4] == host
            self._cand[host] = np.flatnonzero(sub)
        return self._cand[host]

    def vox(self, pt):
        g = self.g
        k = int(round((g.s0 - pt[2]) / g.dz))
        r = int(round((pt[1] - g.y0) / g.ps))
        c = int(round((pt[0] - g.x0) / g.ps))
        return k, r, c

    def label_at(self, pts):
        g = self.g
        pts = np.atleast_2d(pts)
        k = np.rint((g.s0 - pts[:, 2]) / g.dz).astype(int)
        r = np.rint((pts[:, 1] - g.y0) / g.ps).astype(int)
        c = np.rint((pts[:, 0] - g.x0) / g.ps).astype(int)
        ok = (k >= 0) & (k < g.Z) & (r >= 0) & (r < g.N) & (c >= 0) & (c < g.N)
        out = np.full(len(pts), 255, np.int32)
        out[ok] = self.lab[k[ok], r[ok], c[ok]]
        return out

    def frac_in(self, center, R, host, n=96):
        d = _unit(self.rng, n) * (self.rng.random((n, 1)) ** (1 / 3)) * R
        return float(np.mean(self.label_at(np.asarray(center) + d) == host))

    def random_point(self, host, k_target=None):
        g = self.g
        cand = self._candidates(host)
        if cand.size == 0:
            return None
        n4 = (g.N + 3) // 4
        if k_target is not None:
            ks = cand // (n4 * n4)
            sel = cand[np.abs(ks - k_target) <= 1]
            if sel.size:
                cand = sel
        idx = int(cand[self.rng.integers(cand.size)])
        k, rem = divmod(idx, n4 * n4)
        r, c = divmod(rem, n4)
        jit = self.rng.uniform(-2, 2, 2) * g.ps
        return np.array([g.x0 + c * 4 * g.ps + jit[0], g.y0 + r * 4 * g.ps + jit[1],
                         g.s0 - k * g.dz + self.rng.uniform(-0.4, 0.4) * g.dz])

    def clear(self, center, R):
        return all(np.linalg.norm(center - c) > R + r + 3 for c, r in self.placed)

    def place_nodule(self, p, vessels, k_target=None, tries=60) -> bool:
        R = p["diameter_mm"] / 2
        rng = self.rng
        for attempt in range(tries):
            if p["juxta"] == "vascular" and vessels:
                cand = [v for v in vessels if v[2] >= 1.0]
                if not cand:
                    p["juxta"] = None
                    continue
                a, b, rv, _ = cand[int(rng.integers(len(cand)))]
                a, b = np.asarray(a), np.asarray(b)
                pt = a + (b - a) * rng.uniform(0.2, 0.8)
                d = b - a
                perp = np.cross(d, rng.normal(size=3))
                perp /= np.linalg.norm(perp) + 1e-9
                c = pt + perp * (R * rng.uniform(0.75, 1.0) + rv * 0.5)
                if k_target is not None and abs(self.vox(c)[0] - k_target) > 2:
                    continue
                if self.label_at(c)[0] != T.LUNG or self.frac_in(c, R, T.LUNG) < 0.6:
                    continue
            else:
                c = self.random_point(T.LUNG, k_target)
                if c is None:
                    return False
                if p["juxta"] == "pleural":
                    th = rng.uniform(0, 2 * np.pi)
                    d = np.array([math.cos(th), math.sin(th), 0.0])
                    steps = np.arange(1, 160) * 1.0
                    labs = self.label_at(c[None, :] + steps[:, None] * d[None, :])
                    out = np.flatnonzero((labs != T.LUNG) & (labs != T.AIRWAY))
                    if out.size == 0 or labs[out[0]] in (255,):
                        continue
                    edge = c + d * steps[out[0]]
                    c = edge - d * (R * rng.uniform(0.35, 0.75) + 1.0)
                    if self.label_at(c)[0] != T.LUNG or self.frac_in(c, R, T.LUNG) < 0.4:
                        continue
                elif self.frac_in(c, R, T.LUNG) < 0.85:
                    continue
            if not self.clear(c, R):
                continue
            p["center"] = c
            self.placed.append((c, R))
            return True
        return False

    def place_liver(self, p, k_target=None, tries=60, shrink=True) -> bool:
        for attempt in range(tries):
            R = p["diameter_mm"] / 2
            c = self.random_point(T.LIVER, k_target)
            if c is None:
                return False
            if self.frac_in(c, R * 0.9, T.LIVER) >= 0.8 and self.clear(c, R):
                p["center"] = c
                self.placed.append((c, R))
                return True
            if shrink and attempt % 12 == 11:
                p["diameter_mm"] = max(LIVER_LESION_DIAMETER_MM[0], p["diameter_mm"] * 0.85)
        return False
