"""Analytic thorax / upper-abdomen anatomy with per-volume random variation.

Coordinates
-----------
Image (mm): ``x`` along columns (patient left = +x), ``y`` along rows (posterior = +y), the
image centre is (0, 0). ``s`` is the anatomical depth in mm below the lung apex (increasing
towards the feet); patient ``z = zoff - s``.

Every organ is an implicit shape (ellipses / capsules whose parameters vary smoothly with
``s``) evaluated in *deformed* coordinates: image coordinates rotated by the patient's roll and
displaced by a smooth random field (a few separable low-frequency waves). Slices are painted
into a uint8 tissue-label map one at a time, only inside each organ's bounding window, and then
turned into HU with per-tissue means, two random textures and the lung gravity gradient.
Tubular 3-D structures (ribs, clavicles, pulmonary vessels, bronchi, hepatic vessels) are made
here as line segments and drawn by :mod:`.tubes`.
"""
from __future__ import annotations

import math
from typing import List, Optional, Tuple

import numpy as np
from scipy import ndimage

from .tissues import T


def _lut(*labels) -> np.ndarray:
    m = np.zeros(256, bool)
    m[list(labels)] = True
    return m


CAVITY_FREE = _lut(T.VISCERAL_FAT)


class Anatomy:
    def __init__(self, rng: np.random.Generator, N: int, ps: float, region_center_s: Optional[float],
                 region: str, coverage_mm: float):
        self.rng = rng
        self.N, self.ps = N, ps
        self.coords = (ps * (np.arange(N) - (N - 1) / 2)).astype(np.float32)
        fov_half = N * ps / 2
        u = rng.uniform
        L = self.L = u(0.88, 1.12)                    # body length scale
        self.breath = u(-18, 22)                       # diaphragm offset (inspiration depth)
        self.lung_ap = u(0.9, 1.05)                    # AP expansion of the lungs (breathing)
        # ---- body size / pose
        self.bx0 = u(-18, 18)
        a0 = u(125, 185)
        self.a0 = a0 = min(a0, fov_half * 0.94 - abs(self.bx0))
        b0 = a0 * u(0.6, 0.8)
        self.fpost = u(1.05, 1.25)                     # posterior flattening (lying on the table)
        self.by0 = u(-25, 15)
        post_limit = fov_half - 30
        if self.by0 + b0 * 1.3 / self.fpost > post_limit:
            self.by0 = post_limit - b0 * 1.3 / self.fpost
        self.b0 = b0
        self.psi = math.radians(u(-4, 4))              # roll
        self.kappa = u(0.0, 0.35)                      # squareness of the outline
        self.paraspinal = (u(18, 30), u(16, 28), u(0.4, 0.8))   # semi-axes (mm), posterior offset
        a_abd, b_abd = u(0.92, 1.08), u(0.95, 1.28)
        self.sk = L * np.array([-140, -70, -25, 15, 80, 160, 240, 320, 420, 560], np.float32)
        am = np.array([0.42, 0.62, 1.04, 1.0, 1.0, 1.0, a_abd, a_abd, a_abd * 1.02, a_abd * 1.05])
        bm = np.array([0.62, 0.76, 0.9, 0.95, 1.0, 1.02, b_abd, b_abd, b_abd * 0.98, b_abd * 0.95])
        self.ak = (a0 * am * u(0.97, 1.03, am.size)).astype(np.float32)
        self.bk = (b0 * bm * u(0.97, 1.03, bm.size)).astype(np.float32)
        self.drift = (u(-6, 6), u(0, 2 * np.pi), u(-5, 5), u(0, 2 * np.pi))
        # ---- layers (mm): fat lateral/anterior/posterior, muscle lateral/anterior/posterior
        tf = u(5, 42)
        abd_fat = u(1.0, 1.7)
        self.fatk = np.array([[tf * u(0.4, 0.7), tf, tf, tf * abd_fat, tf * abd_fat]] * 3) \
            * np.array([[1.0], [u(0.6, 1.3)], [u(0.5, 1.0)]])
        self.fat_s = L * np.array([-140, -40, 120, 260, 560])
        self.musk = np.array([
            [u(6, 12), u(8, 16), u(8, 16), u(10, 22), u(10, 22)],     # lateral
            [u(6, 12), u(12, 26), u(8, 18), u(8, 16), u(8, 16)],      # anterior (pectoral / rectus)
            [u(8, 15), u(8, 18), u(10, 20), u(12, 25), u(15, 28)],   # posterior wall (paraspinal: separate)
        ])
        # ---- deformation: separable low-frequency waves (image mm -> deformed mm)
        self.waves = []
        for comp in range(2):
            for _ in range(3):
                self.waves.append((comp, u(2, 7), 2 * np.pi / u(150, 420), u(0, 2 * np.pi),
                                   2 * np.pi / u(150, 420), u(0, 2 * np.pi), 2 * np.pi / u(150, 500),
                                   u(0, 2 * np.pi)))
        self.def_margin = sum(w[1] for w in self.waves) / 2 + abs(self.psi) * 250 + 8
        # body outline perturbation P(theta), theta about the body centre (computed once)
        X, Y = self.coords[None, :], self.coords[:, None]
        th = np.arctan2(Y - self.by0, X - self.bx0)
        P = np.zeros((N, N), np.float32)
        for k in range(2, 7):
            P += np.float32(u(0, 0.014)) * np.cos(k * th + u(0, 2 * np.pi)).astype(np.float32)
        self.perturb = (1 + P) ** 2
        P = np.zeros((N, N), np.float32)
        for k in range(2, 8):
            P += np.float32(u(0, 0.03)) * np.cos(k * th + u(0, 2 * np.pi)).astype(np.float32)
        self.perturb_m = (1 + P) ** 2
        P = np.zeros((N, N), np.float32)
        for k in range(2, 6):
            P += np.float32(u(0, 0.012)) * np.cos(k * th + u(0, 2 * np.pi)).astype(np.float32)
        self.perturb_c = (1 + P) ** 2
        self.imfat = u(1.0, 2.2)                 # texture threshold for intermuscular fat
        c, s_ = math.cos(self.psi), math.sin(self.psi)
        self.Xr0 = (self.bx0 + c * (X - self.bx0) + s_ * (Y - self.by0)).astype(np.float32)
        self.Yr0 = (self.by0 - s_ * (X - self.bx0) + c * (Y - self.by0)).astype(np.float32)
        # ---- skeleton
        self.rv0, self.rv1 = u(11.5, 15), u(17, 23)       # vertebral body radius T1 -> L2
        self.vert_d0, self.vert_d1 = u(20, 24) * L, u(30, 36) * L
        self.scol = (u(0, 8), u(0, 2 * np.pi), u(250, 600))
        grid = np.arange(-400, 1000, 0.5, dtype=np.float64)
        dv = self.vert_d0 + (self.vert_d1 - self.vert_d0) * np.clip(grid / (450 * L), 0, 1)
        phi = np.cumsum(0.5 / dv)
        self._phi_grid, self._phi = grid, phi - np.interp(-20 * L, grid, phi - 0)  # T1 at s=-20L
        self.disc_frac = u(0.14, 0.24)
        self.cortex_mm = u(1.2, 2.5)
        # ---- thorax landmarks
        self.carina = u(75, 100) * L
        self.dome_r = u(185, 215) * L + self.breath
        self.dome_l = self.dome_r + u(8, 25)
        self.dome_depth = (u(50, 85), u(50, 85))
        self.dia_t = u(3, 6)
        self.trachea_r = u(7.5, 11)
        self.heart = dict(top=self.carina + u(15, 30), bottom=self.dome_l + u(10, 35), x=u(0.08, 0.22),
                          y=u(-0.3, -0.1), ax=u(0.36, 0.46), ay=u(0.27, 0.34), ang=math.radians(u(20, 45)),
                          pool=u(0.7, 0.82))
        self.aorta_r = u(11, 16)
        self.arch_s = u(35, 55) * L
        self.asc = (u(-0.12, 0.02), u(-0.42, -0.25))
        self.band = (u(10, 20), u(6, 14))          # mediastinal band half-width: upper, heart level
        # ---- abdomen
        self.liver = dict(len=u(130, 190) * L, x=u(-0.45, -0.3), y=u(-0.1, 0.05), ax=u(0.5, 0.65),
                          ay=u(0.7, 0.9), ang=math.radians(u(-15, 10)), lobe=u(0.6, 1.3))
        self.spleen = dict(top=u(0, 25), len=u(80, 130) * L, ax=u(0.14, 0.24), ay=u(0.28, 0.42),
                           ang=math.radians(u(-55, -25)), x=u(0.55, 0.68), y=u(0.2, 0.45))
        self.stomach = dict(len=u(90, 140) * L, x=u(0.2, 0.45), y=u(-0.4, -0.15), ax=u(0.18, 0.32),
                            ay=u(0.2, 0.35), gas=u(-0.5, 0.9), present=u() < 0.9)
        self.kidney = dict(top=(u(60, 90) * L, u(45, 75) * L), len=u(95, 125) * L, off=u(33, 45),
                           ax=u(22, 30), ay=u(18, 25), ang=math.radians(u(15, 40)), med=u(0.55, 0.72))
        self.gb = dict(present=u() < 0.75, top=u(55, 85) * L, len=u(50, 90), x=u(-0.3, -0.12),
                       y=u(-0.55, -0.35), ax=u(10, 17), ay=u(15, 25), ang=math.radians(u(-40, 40)))
        self.pancreas = dict(top=u(55, 80) * L, len=u(30, 60), ax=u(0.28, 0.4), ay=u(8, 14),
                             ang=math.radians(u(-25, -5)))
        self.bowel_top = u(80, 130) * L
        # ---- extras
        self.female = u() < 0.4
        self.breast = (u(0.3, 0.42), u(10, 32), u(0.3, 0.45), u(55, 85) * L, u(125, 175) * L)
        self.arms_down = u() < 0.15
        self.arm = (u(40, 55), u(8, 25))
        self.table = None
        # ---- scan range along s
        if region_center_s is None:
            if region == "chest":
                region_center_s = u(60, 175) * L
            elif region == "abdomen":
                region_center_s = self.dome_r + u(40, 140) * L
            else:
                region_center_s = self.dome_r + u(-90, 50)
        lo, hi = -110 * L, 560 * L
        s_min = region_center_s - coverage_mm / 2
        s_min = min(max(s_min, lo), max(hi - coverage_mm, lo)) if coverage_mm < hi - lo else \
            (lo + hi) / 2 - coverage_mm / 2
        self.s_range = (s_min, s_min + coverage_mm)
        # textures: two coarse and two fine fields on a padded canvas, slid with s
        pad = N // 2
        self.tex_pad = pad
        self.tex = []
        for sig in (u(5, 14), u(1.0, 2.4)):
            fields = []
            for _ in range(2):
                w = rng.standard_normal((N + pad, N + pad), dtype=np.float32)
                f = ndimage.gaussian_filter(w, sig, mode="wrap")
                f /= f.std() + 1e-6
                fields.append(f)
            vel = u(0.15, 0.6) / ps * np.array([math.cos(t := u(0, 2 * np.pi)), math.sin(t)])
            self.tex.append((fields, 2 * np.pi / u(25, 80) if sig > 3 else 2 * np.pi / u(4, 12),
                             u(0, 2 * np.pi), vel, u(0, pad, 2)))
        bowel = []
        for _ in range(2):
            w = rng.standard_normal((N + pad, N + pad), dtype=np.float32)
            f = ndimage.gaussian_filter(w, u(7, 13) / ps * 0.7, mode="wrap")
            bowel.append(f / (f.std() + 1e-6))
        self.bowel_tex = (bowel, 2 * np.pi / u(30, 60), u(0, pad, 2), u(0.1, 0.4) / ps)
        self.bowel_thr = (u(-0.1, 0.5), u(1.1, 1.8))

    # ------------------------------------------------------------------ geometry as f(s)
    def body(self, s):
        """Body centre (x, y) and semi-axes a (lateral), b_ant, b_post at depth s."""
        a = np.interp(s, self.sk, self.ak)
        b = np.interp(s, self.sk, self.bk)
        d = self.drift
        bx = self.bx0 + d[0] * np.sin(s / 300 + d[1])
        by = self.by0 + d[2] * np.sin(s / 260 + d[3])
        return bx, by, a, b, b / self.fpost

    def layers(self, s):
        fat = [np.interp(s, self.fat_s, self.fatk[i]) for i in range(3)]
        mus = [np.interp(s, self.fat_s, self.musk[i]) for i in range(3)]
        return fat, mus

    def cavity(self, s):
        bx, by, a, b, bp = self.body(s)
        (fl, fa, fp), (ml, ma, mp) = self.layers(s)
        ac = np.maximum(a - fl - ml, 0.45 * a)
        bca = np.maximum(b - fa - ma, 0.45 * b)
        bcp = np.maximum(bp - fp - mp, 0.35 * bp)
        return bx, by, ac, bca, bcp

    def spine(self, s):
        bx, by, ac, bca, bcp = self.cavity(s)
        t = np.clip(s / (450 * self.L), 0, 1)
        rv = self.rv0 + (self.rv1 - self.rv0) * t
        a, ph, per = self.scol
        xs = bx + a * np.sin(s / per * 2 * np.pi + ph)
        ys = by + bcp - 9 - rv          # vertebral body centre; the canal sits at the cavity's back
        return xs, ys, rv

    def vert_phase(self, s):
        return np.interp(s, self._phi_grid, self._phi)

    def dome(self, x, y, s, side):
        """Diaphragm surface depth s_d(x, y) for side -1 (right, -x) / +1 (left)."""
        bx, by, ac, bca, bcp = self.cavity(s)
        top = self.dome_r if side < 0 else self.dome_l
        depth = self.dome_depth[0 if side < 0 else 1]
        xd = bx + side * 0.42 * ac
        yd = by - 0.1 * bca
        r2 = ((x - xd) / (0.75 * ac)) ** 2 + ((y - yd) / (0.9 * bcp)) ** 2
        return top + depth * np.minimum(r2, 1.6)

    # ------------------------------------------------------------------ deformation
    def deform_points(self, x, y, s):
        c, sn = math.cos(self.psi), math.sin(self.psi)
        xr = self.bx0 + c * (x - self.bx0) + sn * (y - self.by0)
        yr = self.by0 - sn * (x - self.bx0) + c * (y - self.by0)
        for comp, A, kx, px, ky, py, kz, pz in self.waves:
            d = A * np.sin(kx * x + px) * np.sin(ky * y + py) * np.cos(kz * s + pz)
            if comp == 0:
                xr = xr + d
            else:
                yr = yr + d
        return xr, yr

    def to_image(self, xd, yd, s, iters=4):
        """Invert deform_points (fixed-point iteration; the field is smooth and small)."""
        x, y = np.array(xd, float), np.array(yd, float)
        for _ in range(iters):
            fx, fy = self.deform_points(x, y, s)
            x = x + (xd - fx)
            y = y + (yd - fy)
        return x, y

    def deform_slice(self, s, win=None):
        rs, cs = win if win is not None else (slice(None), slice(None))
        X, Y = self.coords[cs][None, :], self.coords[rs][:, None]
        Xd, Yd = self.Xr0[rs, cs].copy(), self.Yr0[rs, cs].copy()
        for comp, A, kx, px, ky, py, kz, pz in self.waves:
            amp = np.float32(A * math.cos(kz * s + pz))
            fx = (amp * np.sin(kx * X + px)).astype(np.float32)
            gy = np.sin(ky * Y + py).astype(np.float32)
            if comp == 0:
                Xd += fx * gy
            else:
                Yd += fx * gy
        return Xd, Yd

    # ------------------------------------------------------------------ slice painting
    def _win(self, cx, cy, r):
        """Row/column slices (relative to the current slice window) of the pixels whose deformed
        coords may lie within r of (cx, cy)."""
        m = r + self.def_margin
        ps, c0 = self.ps, self.coords[0]
        (wr, wc), (wh, ww) = self._wo, self._ws
        i0 = max(0, int((cy - m - c0) / ps) - wr)
        i1 = min(wh, int((cy + m - c0) / ps) + 2 - wr)
        j0 = max(0, int((cx - m - c0) / ps) - wc)
        j1 = min(ww, int((cx + m - c0) / ps) + 2 - wc)
        if i0 >= i1 or j0 >= j1:
            return None
        return slice(i0, i1), slice(j0, j1)

    def body_window(self, s):
        """Global (rows, cols) slices containing everything painted on slice s."""
        bx, by, a, b, bp = (float(v) for v in self.body(s))
        xr = a * 1.08 + (2.2 * self.arm[0] + self.arm[1] if self.arms_down else 0)
        ytop = b * 1.08 + (self.breast[1] + 0.2 * b if self.female else 0)
        m = self.def_margin + 4
        ps, c0 = self.ps, self.coords[0]
        i0 = max(0, int((by - ytop - m - c0) / ps))
        i1 = min(self.N, int((by + bp * 1.08 + m - c0) / ps) + 2)
        j0 = max(0, int((bx - xr - m - c0) / ps))
        j1 = min(self.N, int((bx + xr + m - c0) / ps) + 2)
        return slice(i0, max(i0 + 1, i1)), slice(j0, max(j0 + 1, j1))

    @staticmethod
    def _q(X, Y, cx, cy, ax, ay, ang=0.0):
        if ang:
            c, s = math.cos(ang), math.sin(ang)
            dx, dy = X - cx, Y - cy
            u = (c * dx + s * dy) / ax
            v = (c * dy - s * dx) / ay
        else:
            u = (X - cx) / ax
            v = (Y - cy) / ay
        return u * u + v * v

    def _ellipse(self, lab, ctx, cx, cy, ax, ay, ang, label, allowed=None, extra=None, scale=1.0):
        """Paint an ellipse; returns (window, q) for inner structures or None."""
        if ax <= 0.5 or ay <= 0.5:
            return None
        w = self._win(cx, cy, max(ax, ay) * scale)
        if w is None:
            return None
        Xd, Yd = ctx["Xd"][w], ctx["Yd"][w]
        q = self._q(Xd, Yd, cx, cy, ax, ay, ang)
        m = q < scale * scale
        if allowed is not None:
            m &= allowed[lab[w]]
        if extra is not None:
            m &= extra(Xd, Yd)
        lab[w][m] = label
        return w, q, m

    def _capsule(self, lab, ctx, p0, p1, r, label, allowed=None):
        cx, cy = (p0[0] + p1[0]) / 2, (p0[1] + p1[1]) / 2
        half = math.hypot(p1[0] - p0[0], p1[1] - p0[1]) / 2
        w = self._win(cx, cy, half + r)
        if w is None:
            return
        Xd, Yd = ctx["Xd"][w], ctx["Yd"][w]
        dx, dy = p1[0] - p0[0], p1[1] - p0[1]
        L2 = dx * dx + dy * dy + 1e-9
        t = np.clip(((Xd - p0[0]) * dx + (Yd - p0[1]) * dy) / L2, 0, 1)
        ex, ey = Xd - p0[0] - t * dx, Yd - p0[1] - t * dy
        m = ex * ex + ey * ey < r * r
        if allowed is not None:
            m &= allowed[lab[w]]
        lab[w][m] = label

    @staticmethod
    def _prof(s, top, bottom, p=2.0):
        """Ellipsoid-like size profile: 0 outside [top, bottom], 1 in the middle."""
        if not (top < s < bottom):
            return 0.0
        t = (2 * s - top - bottom) / (bottom - top)
        return float((1 - abs(t) ** p) ** 0.5)

    def paint_labels(self, s: float, base: np.ndarray) -> Tuple[np.ndarray, dict]:
        full = base.copy()
        wb = self.body_window(s)
        self._wo = (wb[0].start, wb[1].start)
        lab = full[wb]
        self._ws = lab.shape
        Xd, Yd = self.deform_slice(s, wb)
        ctx = {"Xd": Xd, "Yd": Yd, "win": wb}
        bx, by, a, b, bp = [float(v) for v in self.body(s)]
        (fl, fa, fp), (ml, ma, mp) = [[float(v) for v in g] for g in self.layers(s)]
        _, _, ac, bca, bcp = [float(v) for v in self.cavity(s)]
        xs, ys, rv = [float(v) for v in self.spine(s)]
        ctx.update(bx=bx, by=by, a=a, b=b, bp=bp, ac=ac, bca=bca, bcp=bcp, xs=xs, ys=ys, rv=rv, fp=fp)
        # ---- body outline (superellipse-ish, posterior flattened, perturbed)
        u = (Xd - bx) * np.float32(1 / a)
        dy = Yd - by
        v = dy * np.where(dy > 0, np.float32(1 / bp), np.float32(1 / b))
        u2, v2 = u * u, v * v
        qb = u2 + v2 + self.kappa * u2 * v2
        qb /= self.perturb[wb]
        gland = []
        if self.female and self.breast[3] < s < self.breast[4]:
            pr = self._prof(s, self.breast[3], self.breast[4], 2)
            for side in (-1, 1):
                cxb, cyb = bx + side * self.breast[2] * a, by - 0.8 * b
                axb, ayb = self.breast[0] * a * (0.6 + 0.4 * pr), self.breast[1] * pr + 0.2 * b
                w = self._win(cxb, cyb, max(axb, ayb)) if pr > 0.05 else None
                if w is not None:
                    q = self._q(Xd[w], Yd[w], cxb, cyb, axb, ayb)
                    np.minimum(qb[w], q, out=qb[w])
                    gland.append((w, q < 0.4))
        body = qb < 1
        if self.arms_down and -60 * self.L < s < 330 * self.L:
            for side in (-1, 1):
                cxa = bx + side * (a + self.arm[1] + self.arm[0])
                r = self._ellipse(lab, ctx, cxa, by + 0.05 * b, self.arm[0], self.arm[0] * 0.9, 0.0, T.FAT)
                if r is not None:
                    w, q, m = r
                    lab[w][m & (q < 0.7)] = T.MUSCLE
                    lab[w][m & (q < 0.09)] = T.BONE_CORTEX
                    lab[w][m & (q < 0.04)] = T.BONE_MARROW
        lab[body] = T.FAT
        skin = body & (qb > (1 - 2.2 / min(a, b)) ** 2)
        # muscle wall and cavity: ellipses with separate anterior / posterior semi-axes
        am, bma, bmp = a - fl, b - fa, bp - fp
        um = (Xd - bx) * np.float32(1 / am)
        vm = dy * np.where(dy > 0, np.float32(1 / bmp), np.float32(1 / bma))
        qm = um * um + vm * vm
        qm /= self.perturb_m[wb]
        Tc, Tf = self.texture(s, wb)
        ctx["tex"] = (Tc, Tf)
        lab[body & (qm < 1) & (Tc < self.imfat)] = T.MUSCLE
        uc = (Xd - bx) * np.float32(1 / ac)
        vc = dy * np.where(dy > 0, np.float32(1 / bcp), np.float32(1 / bca))
        qc = uc * uc + vc * vc
        qc /= self.perturb_c[wb]
        cav = body & (qc < 1)
        lab[cav] = T.VISCERAL_FAT
        lab[skin] = T.SKIN
        for w, g in gland:
            lab[w][g & (lab[w] == T.FAT)] = T.BREAST_GLAND
        ctx["qc"] = qc
        pa, pb, po = self.paraspinal
        for side in (-1, 1):
            self._ellipse(lab, ctx, xs + side * (10 + pa * 0.8), ys + rv + 7 + pb * po, pa, pb, 0.0, T.MUSCLE,
                          allowed=_lut(T.VISCERAL_FAT))
        self._abdomen(lab, ctx, s)
        self._mediastinum(lab, ctx, s)
        self._lungs(lab, ctx, s)
        self._bones2d(lab, ctx, s)
        return full, ctx

    # ---- abdomen
    def _abdomen(self, lab, ctx, s):
        bx, by, ac, bca, bcp, xs, ys, rv = (ctx[k] for k in ("bx", "by", "ac", "bca", "bcp", "xs", "ys", "rv"))
        bmean = 0.5 * (bca + bcp)
        qc = ctx["qc"]
        dome_r, dome_l = self.dome_r, self.dome_l
        free = CAVITY_FREE

        def below(side):
            def f(X, Y):
                return s > self.dome(X, Y, s, side) + self.dia_t
            return f

        def in_cav(w, margin=0.97):
            return qc[w] < margin * margin

        # aorta (descending / abdominal) and IVC
        if s > self.arch_s:
            t = np.clip((s - self.dome_r) / 80, 0, 1)
            axo = xs + (1 - t) * (rv * 0.55 + self.aorta_r * 0.7) + t * rv * 0.35
            ayo = ys - (1 - t) * rv * 0.85 - t * (rv + self.aorta_r * 0.8)
            r_ao = self.aorta_r * (1 - 0.25 * t)
            self._ellipse(lab, ctx, axo, ayo, r_ao, r_ao, 0.0, T.ARTERY)
        if s > dome_r - 25 and s < dome_r + self.liver["len"] + 80:
            self._ellipse(lab, ctx, xs - rv * 0.9 - 10, ys - rv * 1.15, 12, 10, 0.3, T.VEIN, allowed=free)
        # liver
        lv = self.liver
        top, bot = dome_r - lv["ay"] * 40, dome_r + lv["len"]
        if top < s < bot:
            t = (s - dome_r) / lv["len"]
            pr = 1.0 if t < 0.4 else float(np.sqrt(max(0.0, 1 - ((t - 0.4) / 0.6) ** 2)))
            cx = bx + (lv["x"] - 0.12 * max(t - 0.4, 0)) * ac
            cy = by + (lv["y"] - 0.2 * max(t - 0.4, 0)) * bmean
            w_ = self._win(cx, cy, max(lv["ax"] * ac, lv["ay"] * bmean))
            if w_ is not None and pr > 0.05:
                Xd, Yd = ctx["Xd"][w_], ctx["Yd"][w_]
                m = self._q(Xd, Yd, cx, cy, lv["ax"] * ac * pr, lv["ay"] * bmean * (0.5 + 0.5 * pr), lv["ang"]) < 1
                if t < 0.55:   # left lobe across the midline, anterior
                    lp = self._prof(s, top, dome_r + 0.55 * lv["len"], 3)
                    m |= self._q(Xd, Yd, bx + 0.1 * ac, by - 0.5 * bca, 0.38 * ac * lv["lobe"] * lp,
                                 0.3 * bca * lp, 0.2) < 1
                m &= in_cav(w_) & free[lab[w_]]
                m &= s > np.where(Xd < bx, self.dome(Xd, Yd, s, -1), self.dome(Xd, Yd, s, 1)) + self.dia_t
                lab[w_][m] = T.LIVER
        # gallbladder (inside / below the liver)
        g = self.gb
        if g["present"]:
            pr = self._prof(s, dome_r + g["top"], dome_r + g["top"] + g["len"], 2)
            if pr > 0:
                self._ellipse(lab, ctx, bx + g["x"] * ac, by + g["y"] * bca, g["ax"] * pr, g["ay"] * pr, g["ang"],
                              T.GALLBLADDER, allowed=_lut(T.LIVER, T.VISCERAL_FAT))
        # spleen
        sp = self.spleen
        pr = self._prof(s, dome_l + sp["top"], dome_l + sp["top"] + sp["len"], 2)
        if pr > 0:
            r = self._ellipse(lab, ctx, bx + sp["x"] * ac, by + sp["y"] * bcp, sp["ax"] * ac * pr,
                              sp["ay"] * bmean * (0.4 + 0.6 * pr), sp["ang"], T.SPLEEN, allowed=free,
                              extra=lambda X, Y: (s > self.dome(X, Y, s, 1) + self.dia_t))
            if r is not None:
                w, q, m = r
                lab[w][m & ~in_cav(w, 0.98)] = T.MUSCLE
        # stomach
        st = self.stomach
        if st["present"]:
            pr = self._prof(s, dome_l - 5, dome_l + st["len"], 2)
            if pr > 0:
                cx, cy = bx + st["x"] * ac, by + st["y"] * bca
                r = self._ellipse(lab, ctx, cx, cy, st["ax"] * ac * pr, st["ay"] * bmean * pr, 0.3, T.STOMACH_WALL,
                                  allowed=free, extra=below(1))
                if r is not None:
                    w, q, m = r
                    inner = m & (q < 0.8)
                    lab[w][inner] = T.FLUID
                    lab[w][inner & (ctx["Yd"][w] < cy - st["gas"] * st["ay"] * bmean * pr)] = T.GAS
        # pancreas
        pc = self.pancreas
        pr = self._prof(s, dome_l + pc["top"], dome_l + pc["top"] + pc["len"], 2)
        if pr > 0:
            self._ellipse(lab, ctx, bx + 0.12 * ac, ys - rv - 22, pc["ax"] * ac * pr, pc["ay"], pc["ang"], T.PANCREAS,
                          allowed=free)
        # kidneys
        kd = self.kidney
        for side, top in ((-1, dome_r + kd["top"][0]), (1, dome_l + kd["top"][1])):
            pr = self._prof(s, top, top + kd["len"], 2.2)
            if pr <= 0:
                continue
            cx = xs + side * (rv + kd["off"] + 6 * (s - top) / kd["len"])
            cy = ys - 0.2 * rv
            r = self._ellipse(lab, ctx, cx, cy, kd["ax"] * pr, kd["ay"] * pr, side * kd["ang"], T.KIDNEY_CORTEX,
                              allowed=_lut(T.VISCERAL_FAT, T.MUSCLE, T.LIVER, T.SPLEEN))
            if r is not None:
                w, q, m = r
                lab[w][m & (q < kd["med"] ** 2)] = T.KIDNEY_MEDULLA
                hil = self._q(ctx["Xd"][w], ctx["Yd"][w], cx - side * kd["ax"] * pr * 0.75, cy, kd["ax"] * pr * 0.3,
                              kd["ay"] * pr * 0.25) < 1
                lab[w][m & hil] = T.VISCERAL_FAT
        # bowel loops in the remaining visceral fat below the organs
        if s > dome_r + self.bowel_top * 0.6:
            fields, om, off, vel = self.bowel_tex
            o = (off + vel * s).astype(int) % self.tex_pad
            rs, cs = ctx["win"]
            r0, r1, c0_, c1 = o[0] + rs.start, o[0] + rs.stop, o[1] + cs.start, o[1] + cs.stop
            B = np.float32(math.cos(om * s)) * fields[0][r0:r1, c0_:c1] \
                + np.float32(math.sin(om * s)) * fields[1][r0:r1, c0_:c1]
            ramp = float(np.clip((s - dome_r - self.bowel_top * 0.6) / 40, 0, 1))
            m = (lab == T.VISCERAL_FAT) & (qc < 0.9) & (B > self.bowel_thr[0] + 1.5 * (1 - ramp))
            m &= ctx["Yd"] < ys - rv * 1.2
            lab[m] = T.BOWEL
            lab[m & (B > self.bowel_thr[1] + 1.5 * (1 - ramp))] = T.GAS

    # ---- mediastinum
    def _mediastinum(self, lab, ctx, s):
        bx, by, ac, bca, bcp, xs, ys, rv = (ctx[k] for k in ("bx", "by", "ac", "bca", "bcp", "xs", "ys", "rv"))
        free = CAVITY_FREE
        L = self.L
        # trachea / main bronchi (bronchi below the carina are drawn as tubes)
        ty = ys - rv - 14 - self.trachea_r
        if s < self.carina:
            r = self._ellipse(lab, ctx, xs + 2, ty, self.trachea_r + 2, self.trachea_r + 1.5, 0.0, T.ESOPHAGUS)
            if r is not None:
                w, q, m = r
                lab[w][m & (q < (self.trachea_r / (self.trachea_r + 2)) ** 2)] = T.AIRWAY
        # esophagus
        if s < self.dome_l + 10:
            t = np.clip(s / (self.dome_l + 10), 0, 1)
            r = self._ellipse(lab, ctx, xs + 4 + 12 * t, ys - rv - 6 - 6 * t, 8, 6, 0.0, T.ESOPHAGUS)
        # aorta: ascending, arch, descending
        hr = self.heart
        ax_, ay_ = bx + self.asc[0] * ac, by + self.asc[1] * bca
        dx_, dy_ = xs + rv * 0.55 + self.aorta_r * 0.7, ys - rv * 0.85
        if abs(s - self.arch_s) < self.aorta_r * 0.9:
            self._capsule(lab, ctx, (ax_, ay_), (dx_, dy_), self.aorta_r * 0.9, T.ARTERY)
        if self.arch_s < s < hr["top"] + 25:
            self._ellipse(lab, ctx, ax_, ay_, self.aorta_r * 1.1, self.aorta_r * 1.1, 0.0, T.ARTERY)
        # SVC
        if self.arch_s - 40 < s < hr["top"] + 15:
            self._ellipse(lab, ctx, ax_ - self.aorta_r - 9, ay_ + 4, 9, 11, 0.0, T.VEIN)
        # great vessels above the arch
        if -60 * L < s < self.arch_s:
            for dxv in (-0.12, 0.0, 0.1):
                self._ellipse(lab, ctx, bx + dxv * ac, ay_ + 8, 5, 5, 0.0, T.ARTERY, allowed=free)
        # pulmonary trunk and arteries
        c = self.carina
        if c - 12 < s < c + 22:
            px, py = bx + 0.06 * ac, by - 0.3 * bca
            self._ellipse(lab, ctx, px, py, 13, 13, 0.0, T.PULMONARY_ARTERY, allowed=free)
            if s > c + 2:
                for side in (-1, 1):
                    hx = xs + side * (self.band[0] + 14)
                    self._capsule(lab, ctx, (px, py), (hx, ys - rv - 10), 9, T.PULMONARY_ARTERY, allowed=free)
        # heart
        pr = self._prof(s, hr["top"], hr["bottom"], 2.5)
        if pr > 0:
            cx, cy = bx + hr["x"] * ac, by + hr["y"] * bca
            r = self._ellipse(lab, ctx, cx, cy, hr["ax"] * ac * pr, hr["ay"] * ac * (0.4 + 0.6 * pr),
                              hr["ang"], T.MYOCARDIUM, allowed=_lut(T.VISCERAL_FAT, T.ESOPHAGUS))
            if r is not None:
                w, q, m = r
                lab[w][m & (q < hr["pool"] ** 2)] = T.BLOOD

    # ---- lungs
    def _lung_test(self, X, Y, s, side, qc=None):
        bx, by, ac, bca, bcp = (np.asarray(v) for v in self.cavity(s))
        xs, ys, rv = self.spine(s)
        bmean = 0.5 * (bca + bcp)
        ap = np.clip(s / (55 * self.L), 0, 1) ** 0.6
        cx = bx + side * 0.47 * ac
        cy = by + 0.08 * bmean + (1 - ap) * 0.25 * bcp
        m = self._q(X, Y, cx, cy, 0.55 * ac * (0.35 + 0.65 * ap), 0.98 * bmean * self.lung_ap * (0.3 + 0.7 * ap)) < 1
        if qc is None:
            dy = Y - by
            qc = ((X - bx) / ac) ** 2 + (dy / np.where(dy > 0, bcp, bca)) ** 2
        m &= qc < 0.965 ** 2
        m &= s < self.dome(X, Y, s, side)
        m &= s > 0
        hr = self.heart
        band = np.where(s < hr["top"], self.band[0], self.band[1])
        m &= side * (X - xs) > band + 0.2 * np.maximum(0, ys - rv - Y) * (s < hr["top"])
        m &= ((X - xs) ** 2 + (Y - ys) ** 2) > (rv + 6) ** 2
        return m

    def lung_points(self, x, y, s, side):
        xd, yd = self.deform_points(x, y, s)
        m = self._lung_test(xd, yd, s, side)
        # exclude the heart analytically (slice painting does it by label)
        hr = self.heart
        bx, by, ac, bca, bcp = self.cavity(s)
        t = np.clip((2 * s - hr["top"] - hr["bottom"]) / (hr["bottom"] - hr["top"]), -1, 1)
        pr = np.sqrt(np.clip(1 - np.abs(t) ** 2.5, 0, 1)) * ((s > hr["top"]) & (s < hr["bottom"]))
        cx, cy = bx + hr["x"] * ac, by + hr["y"] * bca
        c, sn = math.cos(hr["ang"]), math.sin(hr["ang"])
        du, dv = xd - cx, yd - cy
        aa = hr["ax"] * ac * pr + 1e-3
        bb = hr["ay"] * ac * (0.4 + 0.6 * pr) + 1e-3
        qh = ((c * du + sn * dv) / aa) ** 2 + ((c * dv - sn * du) / bb) ** 2
        return m & ~((qh < 1.1) & (pr > 0))

    def _lungs(self, lab, ctx, s):
        if s <= 0:
            return
        Xd, Yd, qc = ctx["Xd"], ctx["Yd"], ctx["qc"]
        for side in (-1, 1):
            bx, ac = ctx["bx"], ctx["ac"]
            w = self._win(bx + side * 0.47 * ac, ctx["by"], max(0.6 * ac, 1.1 * max(ctx["bca"], ctx["bcp"])))
            if w is None:
                continue
            X, Y = Xd[w], Yd[w]
            m = self._lung_test(X, Y, s, side, qc[w])
            lw = lab[w]
            free = (lw == T.VISCERAL_FAT)
            lw[m & free] = T.LUNG
            # diaphragm: the band just under the lung base
            dia = ~m & (s < self.dome(X, Y, s, side) + self.dia_t) & (s >= self.dome(X, Y, s, side)) & free
            if dia.any():
                lw[dia & (qc[w] < 0.965 ** 2)] = T.MUSCLE

    # ---- bones drawn per slice (spine, sternum, scapulae, humeral heads)
    def _bones2d(self, lab, ctx, s):
        bx, by, ac, bca, bcp, xs, ys, rv = (ctx[k] for k in ("bx", "by", "ac", "bca", "bcp", "xs", "ys", "rv"))
        a, b, bp = ctx["a"], ctx["b"], ctx["bp"]
        ph = self.vert_phase(s) % 1.0
        disc = ph < self.disc_frac
        cort = self.cortex_mm
        r = self._ellipse(lab, ctx, xs, ys, rv * 1.08, rv, 0.0, T.DISC if disc else T.BONE_CORTEX)
        if r is not None and not disc:
            w, q, m = r
            lab[w][m & (q < (1 - cort / rv) ** 2)] = T.BONE_MARROW
        # canal with posterior elements
        cy = ys + rv + 7
        post = self.disc_frac + 0.05 < ph < 0.85
        if post:
            r = self._ellipse(lab, ctx, xs, cy + 2, 14, 12, 0.0, T.BONE_CORTEX)
            if r is not None:
                w, q, m = r
                lab[w][m & (q < 0.6)] = T.BONE_MARROW
            spl = 24 + 10 * min(max(s / 400, 0), 1)
            spl = max(4.0, min(spl, by + bp - ctx["fp"] - 6 - (cy + 8)))
            self._capsule(lab, ctx, (xs, cy + 8), (xs, cy + 8 + spl), 4.0, T.BONE_CORTEX)
            if 0.35 < ph < 0.7:  # transverse processes
                for side in (-1, 1):
                    self._capsule(lab, ctx, (xs + side * 8, cy), (xs + side * (rv + 14), cy - 2), 4.0, T.BONE_CORTEX)
        self._ellipse(lab, ctx, xs, cy, 8, 7, 0.0, T.CSF)
        # sternum
        if 15 * self.L < s < self.dome_r + 25:
            top = s < 50 * self.L
            r = self._ellipse(lab, ctx, bx, by - bca - 6, 22 if top else 15, 7, 0.0, T.BONE_CORTEX)
            if r is not None:
                w, q, m = r
                lab[w][m & (q < 0.45)] = T.BONE_MARROW
        # scapulae
        L = self.L
        if -45 * L < s < 110 * L:
            pr = self._prof(s, -45 * L, 110 * L, 2)
            for side in (-1, 1):
                cxs, cys = bx + side * 0.62 * ac, by + bcp + 9
                r = self._ellipse(lab, ctx, cxs, cys, 42 * pr, 3.5, -side * math.radians(28), T.BONE_CORTEX,
                                  allowed=_lut(T.MUSCLE))
        # humeral heads / shoulders (arms up: only the heads near the top of the thorax)
        if -60 * L < s < 5 * L:
            pr = self._prof(s, -60 * L, 5 * L, 2)
            for side in (-1, 1):
                r = self._ellipse(lab, ctx, bx + side * (a - 32), by + 0.1 * b, 22 * pr, 22 * pr, 0.0, T.BONE_CORTEX)
                if r is not None:
                    w, q, m = r
                    lab[w][m & (q < 0.72)] = T.BONE_MARROW

    # ------------------------------------------------------------------ HU from labels
    def texture(self, s, win=None):
        out = []
        rs, cs = win if win is not None else (slice(0, self.N), slice(0, self.N))
        for fields, om, ph, vel, off in self.tex:
            o = (off + vel * s).astype(int) % self.tex_pad
            f0 = fields[0][o[0] + rs.start:o[0] + rs.stop, o[1] + cs.start:o[1] + cs.stop]
            f1 = fields[1][o[0] + rs.start:o[0] + rs.stop, o[1] + cs.start:o[1] + cs.stop]
            c, sn = math.cos(om * s + ph), math.sin(om * s + ph)
            out.append(np.float32(c) * f0 + np.float32(sn) * f1)
        return out

    def paint_hu(self, full_lab, ctx, s, table, bg_hu):
        """HU of the slice: the static background (air, table) plus the painted body window."""
        base, tc, tf, grad = table
        Tc, Tf = ctx["tex"]
        lab = full_lab[ctx["win"]]
        hu = base[lab]
        hu += tc[lab] * Tc
        hu += tf[lab] * Tf
        g = grad[lab]
        if g.any():
            vn = (ctx["Yd"] - ctx["by"]) / np.float32(max(ctx["bcp"], 1.0))
            hu += g * vn
        out = bg_hu.copy()
        out[ctx["win"]] = hu
        return out

    # ------------------------------------------------------------------ 3-D tube structures
    def rib_segments(self, rng) -> List[tuple]:
        """Ribs (cortex/marrow tubes), costal cartilage and clavicles as (p0, p1, r0, r1, kind)."""
        segs = []
        L = self.L
        drops = np.array([25, 45, 60, 75, 85, 95, 100, 100, 95, 85, 60, 40]) * rng.uniform(0.8, 1.2, 12) * L
        bone_end = [0.72, 0.75, 0.78, 0.78, 0.78, 0.78, 0.78, 0.74, 0.72, 0.7, 0.55, 0.42]
        cart_end = [0.95, 0.96, 0.96, 0.96, 0.95, 0.93, 0.9, 0.86, 0.84, 0.8, None, None]
        phi_grid, phi = self._phi_grid, self._phi
        for i in range(12):
            s0 = float(np.interp(i + 0.5, phi, phi_grid))     # centre of vertebra T(i+1)
            r_rib = rng.uniform(3.2, 5.0) * (0.8 if i in (0, 11) else 1.0)
            for side in (-1, 1):
                ph_b = bone_end[i] * np.pi * rng.uniform(0.95, 1.03)
                ph_c = cart_end[i] * np.pi if cart_end[i] else None
                n = 14
                ph_all = np.linspace(0.1 * np.pi, ph_c if ph_c else ph_b, n + 1)
                ss = s0 + drops[i] * ((ph_all / np.pi) ** 1.3) * (1 if side < 0 else rng.uniform(0.95, 1.05))
                bx, by, ac, bca, bcp = self.cavity(ss)
                k = r_rib + 1.5
                bb = np.where(np.cos(ph_all) > 0, bcp, bca)
                xd = bx + side * (ac + k) * np.sin(ph_all)
                yd = by + (bb + k) * np.cos(ph_all)
                xi, yi = self.to_image(xd, yd, ss)
                xs_, ys_, rv = self.spine(ss[0])
                pts = [(float(xs_ + side * (rv + 6)), float(ys_ + 0.25 * rv), float(ss[0]) - 3)]
                pts0 = self.to_image(np.array(pts[0][0]), np.array(pts[0][1]), pts[0][2])
                pts = [(float(pts0[0]), float(pts0[1]), pts[0][2])] + list(zip(xi.tolist(), yi.tolist(), ss.tolist()))
                for j in range(len(pts) - 1):
                    kind = "rib" if j == 0 or ph_all[j] < ph_b else "cartilage"
                    rr = r_rib * (0.85 if kind == "cartilage" else 1.0)
                    segs.append((pts[j], pts[j + 1], rr, rr, kind))
        # clavicles
        sc = -40 * L
        for side in (-1, 1):
            bx, by, a, b, bp = self.body(sc)
            _, _, ac, bca, bcp = self.cavity(sc)
            p0 = (bx + side * 14, by - bca - 4, sc + 8)
            p1 = (bx + side * 0.55 * a, by - 0.75 * b, sc - 6)
            p2 = (bx + side * 0.85 * a, by - 0.25 * b, sc - 12)
            r = rng.uniform(5, 7)
            segs.append((p0, p1, r, r, "rib"))
            segs.append((p1, p2, r, r * 0.9, "rib"))
        return segs

    def vessel_tree(self, rng, max_segments=6000):
        """Pulmonary vessels (radius-decreasing branching tubes) and bronchi, grown from the hila."""
        vessels, airways = [], []
        for side in (-1, 1):
            sh = self.carina + rng.uniform(8, 28)
            xs, ys, rv = self.spine(sh)
            hx = xs + side * (self.band[0] + rng.uniform(8, 16))
            hy = ys - rv - rng.uniform(5, 20)
            hx, hy = self.to_image(np.array(hx), np.array(hy), sh)
            hilum = np.array([float(hx), float(hy), sh])
            # (lateral, posterior, inferior) root directions: upper, lateral, anterior, lower...
            roots = np.array([(0.3, 0.0, -1.0), (1.0, 0.0, 0.1), (0.6, -0.8, 0.2), (0.4, 0.5, 1.0),
                              (0.2, -0.3, 1.0), (0.5, 0.8, 0.4), (0.5, -0.5, -0.7), (0.6, 0.6, -0.6)], float)
            roots[:, 0] *= side
            roots += rng.normal(0, 0.25, roots.shape)
            roots /= np.linalg.norm(roots, axis=1, keepdims=True)
            P = hilum[None, :] + rng.normal(0, 3, (len(roots), 3))
            R = rng.uniform(3.5, 6.0, len(roots))
            # segmental roots spread through the lung (esp. the lower lobe behind the heart), each
            # joined to the hilum by a straight trunk: guarantees vessels everywhere in the lung
            cand = []
            for _ in range(6):
                n = 400
                ss = rng.uniform(10, max(self.dome_r, self.dome_l) + 60, n)
                bxs, bys, acs, bcas, bcps = self.cavity(ss)
                xs_ = bxs + side * acs * rng.uniform(0.15, 0.95, n)
                ys_ = bys + rng.uniform(-bcas, bcps)
                ok = self.lung_points(xs_, ys_, ss, side)
                cand += list(zip(xs_[ok], ys_[ok], ss[ok]))
                if len(cand) > 40:
                    break
            n_extra = min(len(cand), int(rng.integers(8, 14)))
            extra = np.array(cand[:n_extra], float).reshape(-1, 3)
            trunk = []
            for p in extra:
                r_t = rng.uniform(2.2, 3.6)
                trunk.append((tuple(hilum), tuple(p), r_t * 1.3, r_t, -1))
            d_extra = extra - hilum[None, :] + rng.normal(0, 8, extra.shape)
            d_extra /= np.linalg.norm(d_extra, axis=1, keepdims=True) + 1e-9
            P = np.concatenate([P, extra])
            D0 = np.concatenate([roots, d_extra])
            R = np.concatenate([R, [t[3] for t in trunk]])
            kinds = np.arange(len(P)) % 2
            segs = self._grow_tree(rng, P, D0, R, side, hilum, max_segments // 2, r_min=0.45, check_first=False,
                                   n_unchecked=len(roots))
            vessels += [(a, b, r0, r1, "artery" if kinds[i] == 0 else "vein") for a, b, r0, r1, i in segs]
            vessels += [(a, b, r0, r1, "vein") for a, b, r0, r1, _ in trunk]
            # bronchi: main bronchus from the carina to the hilum, then a short tree (wall + lumen)
            xs0, ys0, rv0 = self.spine(self.carina)
            c0 = self.to_image(np.array(xs0 + 2.0), np.array(ys0 - rv0 - 14 - self.trachea_r), self.carina)
            p = np.array([float(c0[0]), float(c0[1]), self.carina])
            airways.append((tuple(p), tuple(hilum), self.trachea_r * 0.75, self.trachea_r * 0.65, "airway"))
            P = np.repeat(hilum[None, :], 3, 0)
            D = roots[[0, 3, 1]]
            R = np.full(3, self.trachea_r * 0.5)
            segs = self._grow_tree(rng, P, D, R, side, hilum, 80, r_min=1.3, check_first=False, side_p=0.7)
            airways += [(a, b, r0, r1, "airway") for a, b, r0, r1, i in segs]
        return vessels, airways

    def _grow_tree(self, rng, P, D, R, side, hilum, budget, r_min=0.5, check_first=True, side_p=0.92,
                   n_unchecked=None):
        """Grow branching tubes generation by generation (vectorised lung tests).

        Each node continues (small turn, radius x0.82-0.95) and, with probability side_p, spawns a
        side branch (30-70 degrees, radius x0.45-0.75). Growth stops below r_min, outside the lung
        (after one redirect towards the lung centre) or when the budget is spent."""
        out = []
        root = np.arange(len(P))
        first = True
        while len(P) and len(out) < budget:
            n = len(P)
            length = np.clip(R * rng.uniform(3.5, 6.5, n) + rng.uniform(2, 8, n), 4, 32)
            Q = P + D * length[:, None]
            if first and not check_first and n_unchecked is None:
                ok = np.ones(n, bool)
            else:
                ok = self.lung_points(Q[:, 0], Q[:, 1], Q[:, 2], side)
                bad = ~ok
                if bad.any():
                    # redirect towards the lung centre at that depth and retry shorter
                    bx, by, ac, bca, bcp = self.cavity(Q[bad, 2])
                    tgt = np.stack([bx + side * 0.5 * ac, by + 0.05 * bcp, Q[bad, 2]], 1)
                    dn = tgt - P[bad]
                    dn /= np.linalg.norm(dn, axis=1, keepdims=True) + 1e-9
                    D2 = D[bad] + 0.8 * dn
                    D2 /= np.linalg.norm(D2, axis=1, keepdims=True) + 1e-9
                    Q2 = P[bad] + D2 * (0.6 * length[bad])[:, None]
                    ok2 = self.lung_points(Q2[:, 0], Q2[:, 1], Q2[:, 2], side)
                    idx = np.flatnonzero(bad)
                    Q[idx[ok2]] = Q2[ok2]
                    D[idx[ok2]] = D2[ok2]
                    ok[idx[ok2]] = True
                if first and n_unchecked:
                    ok[:n_unchecked] = True
            first = False
            P, Q, D, R, root = P[ok], Q[ok], D[ok], R[ok], root[ok]
            R1 = R * rng.uniform(0.86, 0.96, len(R))
            for i in range(len(P)):
                out.append((tuple(P[i]), tuple(Q[i]), float(R[i]), float(R1[i]), int(root[i])))
            keep = R1 >= r_min
            P, Q, D, R1, root = P[keep], Q[keep], D[keep], R1[keep], root[keep]
            if not len(P):
                break
            away = Q - hilum[None, :]
            away /= np.linalg.norm(away, axis=1, keepdims=True) + 1e-9
            kids_P, kids_D, kids_R, kids_root = [], [], [], []
            for child in (0, 1, 2):
                n = len(P)
                if child == 0:
                    sel = np.ones(n, bool)
                    ang, rf = rng.uniform(0.05, 0.35, n), rng.uniform(0.82, 0.95, n)
                else:
                    sel = rng.random(n) < (side_p if child == 1 else side_p * 0.35)
                    ang, rf = rng.uniform(0.5, 1.2, n), rng.uniform(0.45, 0.75, n)
                perp = np.cross(D, rng.normal(size=(n, 3)))
                perp /= np.linalg.norm(perp, axis=1, keepdims=True) + 1e-9
                nd = np.cos(ang)[:, None] * D + np.sin(ang)[:, None] * perp + 0.35 * away
                nd /= np.linalg.norm(nd, axis=1, keepdims=True)
                kids_P.append(Q[sel]); kids_D.append(nd[sel]); kids_R.append((R1 * rf)[sel]); kids_root.append(root[sel])
            P = np.concatenate(kids_P)
            D = np.concatenate(kids_D)
            R = np.concatenate(kids_R)
            root = np.concatenate(kids_root)
            if len(out) + len(P) > budget:       # keep the thickest when over budget
                k = max(0, budget - len(out))
                order = np.argsort(-R)[:k]
                P, D, R, root = P[order], D[order], R[order], root[order]
        return out

    def liver_vessels(self, rng) -> List[tuple]:
        """Portal / hepatic veins inside the liver (clipped to the liver label when drawn)."""
        segs = []
        lv = self.liver
        s0 = self.dome_r + 0.45 * lv["len"]
        bx, by, ac, bca, bcp = self.cavity(s0)
        bmean = 0.5 * (bca + bcp)
        porta = np.array([bx + (lv["x"] + 0.25) * ac, by + (lv["y"] + 0.1) * bmean, s0])
        ivc = np.array([self.spine(self.dome_r + 10)[0] - 25, self.spine(self.dome_r + 10)[1] - 30,
                        self.dome_r + 10])
        for root in (porta, ivc):
            for _ in range(3):
                d = np.array([-1.0 + rng.normal(0, 0.4), rng.normal(0, 0.6), rng.normal(0, 0.6)])
                d /= np.linalg.norm(d)
                self._grow_free(rng, root.copy(), d, rng.uniform(4, 7), segs, 24)
        return segs

    def _grow_free(self, rng, p, d, r, out, budget):
        stack = [(p, d, r, 0)]
        n = 0
        while stack and n < budget:
            p, d, r, gen = stack.pop()
            q = p + d * float(np.clip(r * rng.uniform(4, 7) + 5, 6, 35))
            r1 = r * rng.uniform(0.85, 0.95)
            out.append((tuple(p), tuple(q), r, r1, "liver_vessel"))
            n += 1
            if r1 < 1.2:
                continue
            for child in range(2):
                ang = rng.uniform(0.1, 0.4) if child == 0 else rng.uniform(0.5, 1.0)
                perp = np.cross(d, rng.normal(size=3))
                perp /= np.linalg.norm(perp) + 1e-9
                nd = math.cos(ang) * d + math.sin(ang) * perp
                stack.append((q, nd / np.linalg.norm(nd), r1 * (0.85 if child == 0 else 0.6), gen + 1))

    def table_labels(self, rng, with_table: bool) -> np.ndarray:
        """The static 2-D background: air, optional mattress pad and curved table."""
        N = self.N
        lab = np.full((N, N), T.AIR, np.uint8)
        if not with_table:
            return lab
        X, Y = self.coords[None, :], self.coords[:, None]
        # lowest body point over the scanned range (outline test along a few columns)
        low = -1e9
        for s in np.linspace(self.s_range[0], self.s_range[1], 12):
            bx, by, a, b, bp = (float(v) for v in self.body(s))
            ys = np.linspace(by, by + bp * 1.3, 400)
            for xc in (bx - 0.5 * a, bx, bx + 0.5 * a):
                xd, yd = self.deform_points(np.full_like(ys, xc), ys, s)
                u_ = (xd - bx) / a
                v_ = (yd - by) / bp
                q = (u_ * u_ + v_ * v_ + self.kappa * u_ * u_ * v_ * v_)
                inside = ys[q < 1.03]
                if inside.size:
                    low = max(low, float(inside.max()))
        pad = rng.uniform(0, 15)
        y0 = low + pad
        curv = rng.uniform(0.0, 0.0008)
        half = rng.uniform(200, 260)
        thick = rng.uniform(30, 60)
        shell = rng.uniform(2, 4)
        yt = y0 - curv * (X - self.bx0) ** 2     # a shallow cradle
        inside = (Y >= yt) & (Y <= yt + thick) & (np.abs(X - self.bx0) < half)
        lab[inside] = T.TABLE_CORE
        lab[inside & ((Y < yt + shell) | (Y > yt + thick - shell))] = T.TABLE_SHELL
        if pad > 3:
            lab[(Y >= yt - pad) & (Y < yt) & (np.abs(X - self.bx0) < half * 0.85)] = T.PAD
        self.table = dict(y=y0, thickness=thick, pad=pad)
        return lab
