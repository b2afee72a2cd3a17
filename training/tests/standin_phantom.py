"""A tiny stand-in for ``training.phantom`` (same API), for smoke tests only.

Used only when RESIGHT_PHANTOM_STANDIN=1 or when training.phantom is not importable in the
unit tests. It is *not* the real phantom generator and is never used for the shipped model.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class VolumeSpec:
    slices: int = 40
    rows: int = 512
    cols: int = 512
    pixel_mm: float = 0.7
    slice_mm: float = 2.5


@dataclass
class Volume:
    hu: np.ndarray
    spacing: tuple
    masks: dict
    lesions: list
    meta: dict = field(default_factory=dict)

    def slice_labels(self) -> np.ndarray:
        return np.stack([self.masks["lung_nodule"].any(axis=(1, 2)),
                         self.masks["liver_lesion"].any(axis=(1, 2))], 1).astype(np.uint8)


def _ellipse(yy, xx, cy, cx, ry, rx):
    return ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1.0


def make_volume(seed: int, spec: VolumeSpec | None = None, *, lesions: bool = True) -> Volume:
    """``lesions=False``: the same volume without its lesions (same random draws, same noise)."""
    spec = spec or VolumeSpec()
    paint = lesions
    rng = np.random.default_rng(seed)
    Z, H, W = spec.slices, spec.rows, spec.cols
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    body = _ellipse(yy, xx, H / 2, W / 2, H * 0.33, W * 0.43)
    hu = np.full((Z, H, W), -1000.0, np.float32)
    lung = np.zeros((Z, H, W), bool)
    liver = np.zeros((Z, H, W), bool)
    zl = int(Z * 0.55)
    for z in range(Z):
        hu[z][body] = 40.0
        if z < zl:
            for cx in (W * 0.33, W * 0.67):
                m = _ellipse(yy, xx, H * 0.47, cx, H * 0.22, W * 0.13) & body
                lung[z] |= m
        if z >= int(Z * 0.4):
            liver[z] = _ellipse(yy, xx, H * 0.5, W * 0.38, H * 0.2, W * 0.2) & body
    hu[lung] = -850.0
    hu[liver] = 60.0
    masks = {"lung_nodule": np.zeros((Z, H, W), np.uint8), "liver_lesion": np.zeros((Z, H, W), np.uint8)}
    records = []
    dz, dy, dx = spec.slice_mm, spec.pixel_mm, spec.pixel_mm
    zz = np.arange(Z, dtype=np.float32)[:, None, None]
    for cls, region, n, hu_val, dmin, dmax in (("lung_nodule", lung, rng.integers(0, 3), 30.0, 4.0, 16.0),
                                               ("liver_lesion", liver, rng.integers(0, 3), 10.0, 6.0, 30.0)):
        idx = np.argwhere(region)
        for _ in range(int(n)):
            c = idx[rng.integers(len(idx))]
            d = float(rng.uniform(dmin, dmax))
            r = d / 2
            sph = ((zz - c[0]) * dz) ** 2 + ((yy[None] - c[1]) * dy) ** 2 + ((xx[None] - c[2]) * dx) ** 2 <= r * r
            sph &= region
            if paint:
                hu[sph] = hu_val
                masks[cls][sph] = 1
                records.append({"class": cls, "center_vox": [int(v) for v in c], "diameter_mm": d})
    hu += rng.normal(0, 12, hu.shape).astype(np.float32)
    return Volume(hu=hu, spacing=(dz, dy, dx), masks=masks, lesions=records,
                  meta={"standin": True, "seed": seed, **({} if paint else {"lesions": False})})
