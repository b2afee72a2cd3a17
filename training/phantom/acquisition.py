"""Acquisition model: beam-hardening streaks, partial-volume blur, correlated noise.

Blur and noise are applied together in the 2-D frequency domain, slice chunk by chunk:

    out = irfft2( rfft2(zmix(hu)) * MTF  +  C * A )

MTF: Gaussian (sigma 0.45-1.2 px) with optional mid-frequency boost (sharper kernels).
zmix: 3-tap mixing with the neighbouring slices (slice-profile partial volume).
Noise: C has independent uniform real / imaginary parts, A = sqrt(NPS) with a random ramp
power, cut-off and roll-off, so the noise is Gaussian (sum of many terms), spatially correlated
and its texture differs between volumes. A is scaled so the noise SD equals the slice's sigma.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import fft as sfft


def noise_filter(N: int, rng: np.random.Generator):
    fy = np.fft.fftfreq(N).astype(np.float32)[:, None]
    fx = np.fft.rfftfreq(N).astype(np.float32)[None, :]
    f = np.sqrt(fx * fx + fy * fy)
    alpha = rng.uniform(0.3, 1.1)          # ramp power (FBP-like ~1, iterative lower)
    fc = rng.uniform(0.12, 0.34)           # cycles / pixel
    beta = rng.uniform(2.0, 4.0)
    floor = rng.uniform(0.0, 0.15)
    A = (f / fc) ** alpha * np.exp(-(f / fc) ** beta) + floor * np.exp(-(f / 0.45) ** 4)
    A[0, 0] = 0.0
    params = dict(nps_alpha=round(alpha, 3), nps_fc=round(fc, 3), nps_beta=round(beta, 3), nps_floor=round(floor, 3))
    return A.astype(np.float32), params


def noise_var_unit(A: np.ndarray, N: int) -> float:
    """Variance of irfft2(C * A) with C = (U1 + iU2), U ~ U(-0.5, 0.5)."""
    a2 = A.astype(np.float64) ** 2 / 6.0          # E|C|^2 * A^2
    edge = a2[:, 0].sum() + (a2[:, -1].sum() if N % 2 == 0 else 0.0)
    mid = a2.sum() - edge
    return float((0.5 * edge + 2 * mid) / N ** 4)


def mtf(N: int, sigma_px: float, boost: float):
    fy = np.fft.fftfreq(N).astype(np.float32)[:, None]
    fx = np.fft.rfftfreq(N).astype(np.float32)[None, :]
    f2 = fx * fx + fy * fy
    m = np.exp(-2 * math.pi ** 2 * sigma_px ** 2 * f2) * (1 + boost * np.sin(np.pi * np.sqrt(f2) * 2).clip(0) ** 2)
    return m.astype(np.float32)


def _window(Xd, Yd, xlo, xhi, ylo, yhi):
    """Pixel window (rows, cols) whose (deformed) coordinates may fall in the box; coarse."""
    N = Xd.shape[0]
    cols = np.flatnonzero((Xd[N // 2] >= xlo - 20) & (Xd[N // 2] <= xhi + 20))
    rows = np.flatnonzero((Yd[:, N // 2] >= ylo - 20) & (Yd[:, N // 2] <= yhi + 20))
    if not cols.size or not rows.size:
        return None
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def add_streaks(hu2d, Xd, Yd, body, streaks):
    """streaks: list of ('band', P, Q, width_mm, amp) | ('ray', C, angle, width_mm, amp, decay_mm)."""
    for st in streaks:
        if st[0] == "band":
            _, P, Q, w, A = st
            d = np.subtract(Q, P)
            L = float(np.hypot(*d))
            if L < 1:
                continue
            win = _window(Xd, Yd, min(P[0], Q[0]) - 3 * w, max(P[0], Q[0]) + 3 * w,
                          min(P[1], Q[1]) - 3 * w, max(P[1], Q[1]) + 3 * w)
            if win is None:
                continue
            u = d / L
            X, Y = Xd[win] - np.float32(P[0]), Yd[win] - np.float32(P[1])
            along = (X * np.float32(u[0]) + Y * np.float32(u[1])) * np.float32(2 / L) - 1
            perp = (Y * np.float32(u[0]) - X * np.float32(u[1])) * np.float32(1 / w)
            prof = np.exp(-perp * perp) * np.clip(1 - along ** 4, 0, 1)
            hu2d[win] -= np.float32(A) * prof * body[win]
        else:
            _, C, ang, w, A, decay = st
            u = (math.cos(ang), math.sin(ang))
            ext = 3 * decay
            win = _window(Xd, Yd, C[0] - ext * abs(u[0]) - 3 * w, C[0] + ext * abs(u[0]) + 3 * w,
                          C[1] - ext * abs(u[1]) - 3 * w, C[1] + ext * abs(u[1]) + 3 * w)
            if win is None:
                continue
            X, Y = Xd[win] - np.float32(C[0]), Yd[win] - np.float32(C[1])
            perp = (Y * np.float32(u[0]) - X * np.float32(u[1])) * np.float32(1 / w)
            along = np.abs(X * np.float32(u[0]) + Y * np.float32(u[1]))
            hu2d[win] += np.float32(A) * np.exp(-perp * perp - along * np.float32(1 / decay)) * body[win]


def blur_and_noise(hu: np.ndarray, rng: np.random.Generator, *, sigma: float, sigma_scale: np.ndarray,
                   blur_px: float, boost: float, zmix: float, A: np.ndarray, chunk: int = 8):
    """In place. sigma_scale: per-slice multiplier of the noise SD."""
    Z, N, _ = hu.shape
    do_blur = blur_px > 0
    do_noise = sigma > 0
    if not (do_blur or do_noise):
        return
    M = mtf(N, blur_px, boost) if do_blur else None
    An = (A * np.float32(sigma / math.sqrt(noise_var_unit(A, N)))) if do_noise else None
    prev_orig = hu[0].copy()
    for k0 in range(0, Z, chunk):
        k1 = min(Z, k0 + chunk)
        blk = hu[k0:k1]
        if do_blur and zmix > 0 and Z > 1:
            orig_last = blk[-1].copy()
            nxt = hu[k1] if k1 < Z else blk[-1]
            mixed = blk * np.float32(1 - 2 * zmix)
            mixed[1:] += np.float32(zmix) * blk[:-1]
            mixed[0] += np.float32(zmix) * prev_orig
            mixed[:-1] += np.float32(zmix) * blk[1:]
            mixed[-1] += np.float32(zmix) * nxt
            prev_orig = orig_last
            blk_in = mixed
        else:
            blk_in = blk
        F = sfft.rfft2(blk_in, workers=1)
        if M is not None:
            F *= M
        if An is not None:
            sc = sigma_scale[k0:k1].astype(np.float32)[:, None, None]
            U = rng.random(F.shape, dtype=np.float32)
            U -= np.float32(0.5)
            U *= An
            U *= sc
            F.real += U
            U = rng.random(F.shape, dtype=np.float32)
            U -= np.float32(0.5)
            U *= An
            U *= sc
            F.imag += U
        hu[k0:k1] = sfft.irfft2(F, s=(N, N), workers=1)
