"""Model-input preprocessing for the ReSight CT lesion classifier.

This module is the single definition of how one slice of modality values (HU) becomes the
model input. The TypeScript side (src/core/inference) replicates it to 1e-5, so every step is
written out plainly and documented in the model card (``input`` section):

1. Padding / non-finite -> -1024 HU. Pixels flagged as padding (DICOM Pixel Padding Value,
   passed as ``padding_mask``) and NaN/+-inf are replaced by -1024 (air).
2. Resize rows x cols -> 256 x 256 by bilinear interpolation with half-pixel centers, i.e.
   ``torch.nn.functional.interpolate(mode='bilinear', align_corners=False, antialias=False)``.
   Per axis, for output index ``d`` (0-based) with input length ``n_in`` and output length
   ``n_out``::

       src = (d + 0.5) * n_in / n_out - 0.5,   clamped to [0, n_in - 1]
       i0  = floor(src), i1 = min(i0 + 1, n_in - 1), t = src - i0
       out = (1 - t) * in[i0] + t * in[i1]

   applied separably (rows and columns; the 2-D result is the usual bilinear blend
   ``(1-ty)*((1-tx)*a + tx*b) + ty*((1-tx)*c + tx*d)``). No antialiasing when downsampling.
3. Three CT windows as channels (level L, width W, in HU)::

       channel 0  lung          L = -600, W = 1500
       channel 1  soft tissue   L =   40, W =  400
       channel 2  liver         L =   90, W =  150
       c = clip((hu - (L - W / 2)) / W, 0, 1)

4. Normalize: ``x = (c - 0.5) / 0.5`` (so every channel lies in [-1, 1]).

Output: float32, CHW [3, 256, 256] per slice; batches are NCHW.

Both a numpy implementation (reference, float64 internally) and a torch implementation
(used in training, supports per-sample window jitter for augmentation) are given; the unit
tests check that they agree.
"""
from __future__ import annotations

import math
import os
from typing import Optional, Sequence, Tuple

import numpy as np

# The model's input side. 256 for every shipped model so far; RESIGHT_INPUT_SIZE overrides it for a
# whole process (an experiment at a finer input: the dataset cache key, the checkpoint and the card
# record the size, so nothing trained at one size is read at another).
INPUT_SIZE = int(os.environ.get("RESIGHT_INPUT_SIZE", "256"))
PAD_HU = -1024.0
# (name, level, width) in HU, channel order.
WINDOWS: Tuple[Tuple[str, float, float], ...] = (
    ("lung", -600.0, 1500.0),
    ("soft_tissue", 40.0, 400.0),
    ("liver", 90.0, 150.0),
)
NORM_MEAN = 0.5
NORM_STD = 0.5


def card_input_section(input_tensor: str = "input", size: int = INPUT_SIZE) -> dict:
    """The model-card description of this preprocessing (shared by every exported model)."""
    return {
        "tensor": input_tensor,
        "shape": ["N", 3, size, size],
        "dtype": "float32",
        "layout": "NCHW",
        "values": "modality values (CT: Hounsfield units, after RescaleSlope/Intercept)",
        "padding": {
            "fill": PAD_HU,
            "rule": "pixels equal to PixelPaddingValue (or inside the padding range) and "
                    "non-finite values (NaN, +-inf) are replaced by -1024 before resizing",
        },
        "resampling": {
            "size": [size, size],
            "method": "bilinear",
            "alignCorners": False,
            "antialias": False,
            "halfPixelCenters": True,
            "formula": "per axis: src = (dst + 0.5) * in / out - 0.5, clamped to [0, in - 1]; "
                       "i0 = floor(src), i1 = min(i0 + 1, in - 1), t = src - i0; "
                       "out = (1 - t) * v[i0] + t * v[i1] (separable, rows then columns)",
            "reference": "torch.nn.functional.interpolate(mode='bilinear', "
                         "align_corners=False, antialias=False)",
            "order": "resize the HU slice first, then window",
        },
        "channels": [
            {"index": i, "name": name, "window": {"level": lvl, "width": wid},
             "formula": "c = clip((hu - (level - width / 2)) / width, 0, 1)"}
            for i, (name, lvl, wid) in enumerate(WINDOWS)
        ],
        "normalization": {"mean": [NORM_MEAN] * 3, "std": [NORM_STD] * 3,
                          "formula": "x = (c - 0.5) / 0.5"},
    }


# ----------------------------------------------------------------------------- numpy

def _axis_weights(n_in: int, n_out: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = np.arange(n_out, dtype=np.float64)
    src = (d + 0.5) * (n_in / n_out) - 0.5
    src = np.clip(src, 0.0, n_in - 1)
    i0 = np.floor(src).astype(np.int64)
    i1 = np.minimum(i0 + 1, n_in - 1)
    t = src - i0
    return i0, i1, t


def fill_padding(hu: np.ndarray, padding_mask: Optional[np.ndarray] = None) -> np.ndarray:
    """Step 1: float64 copy with padding and non-finite values set to -1024."""
    x = np.array(hu, dtype=np.float64, copy=True)
    bad = ~np.isfinite(x)
    if padding_mask is not None:
        bad |= np.asarray(padding_mask, dtype=bool)
    x[bad] = PAD_HU
    return x


def resize_bilinear_np(img: np.ndarray, out_h: int = INPUT_SIZE, out_w: int = INPUT_SIZE) -> np.ndarray:
    """Step 2 on a 2-D array (float64 result): half-pixel-centre bilinear, no antialiasing."""
    img = np.asarray(img, dtype=np.float64)
    h, w = img.shape
    r0, r1, ty = _axis_weights(h, out_h)
    c0, c1, tx = _axis_weights(w, out_w)
    ty = ty[:, None]
    tx = tx[None, :]
    a = img[r0][:, c0]
    b = img[r0][:, c1]
    c = img[r1][:, c0]
    d = img[r1][:, c1]
    return (1.0 - ty) * ((1.0 - tx) * a + tx * b) + ty * ((1.0 - tx) * c + tx * d)


def window_np(hu: np.ndarray, windows: Sequence[Tuple[str, float, float]] = WINDOWS) -> np.ndarray:
    """Steps 3+4 on a 2-D HU array -> float32 [3, H, W]."""
    hu = np.asarray(hu, dtype=np.float64)
    out = np.empty((len(windows),) + hu.shape, dtype=np.float32)
    for i, (_, lvl, wid) in enumerate(windows):
        c = np.clip((hu - (lvl - wid / 2.0)) / wid, 0.0, 1.0)
        out[i] = ((c - NORM_MEAN) / NORM_STD).astype(np.float32)
    return out


def preprocess_slice(hu: np.ndarray, padding_mask: Optional[np.ndarray] = None,
                     size: int = INPUT_SIZE) -> np.ndarray:
    """Full pipeline for one slice: HU [rows, cols] -> float32 [3, size, size]."""
    hu = np.asarray(hu)
    if hu.ndim != 2:
        raise ValueError(f"expected a 2-D slice, got shape {hu.shape}")
    x = fill_padding(hu, padding_mask)
    x = resize_bilinear_np(x, size, size)
    return window_np(x)


def resize_hu_slice(hu: np.ndarray, padding_mask: Optional[np.ndarray] = None,
                    size: int = INPUT_SIZE) -> np.ndarray:
    """Steps 1+2 only (float32 [size, size] HU); windowing is pointwise so it can follow later."""
    return resize_bilinear_np(fill_padding(hu, padding_mask), size, size).astype(np.float32)


def preprocess_volume(hu: np.ndarray, size: int = INPUT_SIZE) -> np.ndarray:
    """[Z, rows, cols] HU -> float32 [Z, 3, size, size]."""
    return np.stack([preprocess_slice(s, size=size) for s in hu], 0)


# ----------------------------------------------------------------------------- torch

def _torch():
    import torch  # local import so the numpy half works without torch
    return torch


def resize_torch(hu, size: int = INPUT_SIZE):
    """[N,1,H,W] (or [N,H,W]) float tensor -> [N,1,size,size], steps 1+2."""
    torch = _torch()
    import torch.nn.functional as F
    x = hu if hu.dim() == 4 else hu.unsqueeze(1)
    x = torch.where(torch.isfinite(x), x, torch.full_like(x, PAD_HU))
    if x.shape[-2:] != (size, size):
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=False)
    return x


def window_torch(hu, levels=None, widths=None):
    """[N,1,H,W] HU -> [N,3,H,W] normalized. ``levels``/``widths`` may be [N,3] tensors
    (per-sample window jitter for augmentation); default: the fixed windows."""
    torch = _torch()
    if hu.dim() == 3:
        hu = hu.unsqueeze(1)
    n = hu.shape[0]
    if levels is None:
        levels = torch.tensor([w[1] for w in WINDOWS], dtype=hu.dtype, device=hu.device).expand(n, 3)
    if widths is None:
        widths = torch.tensor([w[2] for w in WINDOWS], dtype=hu.dtype, device=hu.device).expand(n, 3)
    lv = levels.to(hu.dtype).reshape(n, 3, 1, 1)
    wd = widths.to(hu.dtype).reshape(n, 3, 1, 1)
    c = ((hu - (lv - wd / 2.0)) / wd).clamp(0.0, 1.0)
    return (c - NORM_MEAN) / NORM_STD


def preprocess_torch(hu, size: int = INPUT_SIZE):
    """Full pipeline in torch: [N,1,H,W] or [N,H,W] HU -> float32 [N,3,size,size]."""
    return window_torch(resize_torch(hu, size))
