"""Lesion/twin pair training: the batches and losses of ``train.py --pair-recipe``.

Why: with image-level labels alone the classifier learned *context* (which organs a slice shows)
and ignored the lesions: its score moved by 0.002 when the lesion was removed (lesion vs twin AUC
0.51 / 0.50), and adding the twins as negatives did not change that within a 40-minute CPU run --
the twin's gradient nearly cancels the lesion slice's, so the lesion's share of the gradient is a
few per cent of each step. Three changes put the lesion at the centre of every step:

* **Paired rows, identical augmentation.** Each batch holds ``pairs`` lesion slices *and* their
  lesion-free twins, augmented with the same random draws (geometry, blur, intensity, noise,
  window), so the two inputs differ by the lesion only.
* **Rank loss.** ``softplus(-k (logit_lesion - logit_twin))`` for the pair's classes: a loss that
  is only the difference, so all its gradient comes from where the images differ.
* **Dense auxiliary loss.** 1x1 convolution heads on layer2 and layer3 (training only, never
  exported) predict, per class, where the lesion footprint (lesion minus twin, ``SliceSet.
  lesion_maps``) is: a per-cell signal, far denser than one label per slice.

and a **crop phase**: for the first ``crop_fraction`` of the run, batches are 128x128 crops of the
256x256 input (a quarter of the compute per sample), pairs cropped around a lesion cell, the
other rows random crops of lesion-free rows; the rest of the run uses whole slices so that the
global average pooling sees what it sees in use. The exported network is the plain ResNet.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import numpy as np

from training import dataset as D


class PairIndex:
    """Row pairs (lesion slice, its twin) of a SliceSet, with the lesion cells of each pair."""

    def __init__(self, data: "D.SliceSet"):
        maps = data.lesion_maps()
        key = {(int(data.seed[j]), int(data.z[j])): int(j) for j in np.flatnonzero(data.twin == 1)}
        self.pos: List[int] = []
        self.twin: List[int] = []
        self.cells: List[np.ndarray] = []
        for i in np.flatnonzero((data.twin == 0) & data.labels.any(1)):
            j = key.get((int(data.seed[i]), int(data.z[i])))
            if j is None:
                continue
            yx = np.argwhere(maps[i] > 0)
            if not len(yx):
                continue
            self.pos.append(int(i))
            self.twin.append(j)
            self.cells.append(yx.astype(np.int16))
        self.free = np.flatnonzero(~data.labels.any(1))  # twins and ordinary negatives
        self.map_scale = D.P.INPUT_SIZE // maps.shape[-1]

    def __len__(self):
        return len(self.pos)


def _crop_origin(centre: int, size: int, full: int, step: int) -> int:
    o = int(np.clip(centre - size // 2, 0, full - size))
    return (o // step) * step  # on the lesion-map grid, so the map crops exactly


def sample_batch(data: "D.SliceSet", index: PairIndex, rng: np.random.Generator, batch: int, pairs: int,
                 crop: int = 0, jitter_frac: float = 0.3, hard: Optional[np.ndarray] = None, hard_rows: int = 0):
    """(hu [B,1,S,S] float32, labels [B,C], maps [B,1,s,s] in 0..1, n_pairs). Rows 0..n-1 are lesion
    slices, n..2n-1 their twins (same crop), the rest random rows (``crop``: random crops of
    lesion-free rows), of which the last ``hard_rows`` are drawn from ``hard`` (float16 HU
    [K,S,S], lesion-free slices: training.hard_negatives). ``crop`` 0: whole slices."""
    full = data.hu.shape[-1]
    maps_all = data.lesion_maps()
    ms = index.map_scale
    n = min(pairs, len(index))
    pick = rng.integers(0, len(index), n)
    rows_a, rows_b, origins = [], [], []
    for k in pick:
        rows_a.append(index.pos[k])
        rows_b.append(index.twin[k])
        if crop:
            cy, cx = index.cells[k][rng.integers(len(index.cells[k]))] * ms + ms // 2
            j = int(crop * jitter_frac)
            origins.append((_crop_origin(cy + rng.integers(-j, j + 1), crop, full, ms),
                            _crop_origin(cx + rng.integers(-j, j + 1), crop, full, ms)))
    h = min(hard_rows, batch - 2 * n) if hard is not None and len(hard) else 0
    m = batch - 2 * n - h
    if crop:
        rest = index.free[rng.integers(0, len(index.free), m)]
        rest_origins = [(int(rng.integers(0, (full - crop) // ms + 1)) * ms,
                         int(rng.integers(0, (full - crop) // ms + 1)) * ms) for _ in range(m)]
    else:
        ok = np.flatnonzero(data.has_map)  # rows whose lesion map is known (all but unpaired positives)
        rest = ok[rng.integers(0, len(ok), m)]
        rest_origins = []
    rows = np.array(rows_a + rows_b + list(rest), dtype=np.int64)
    origins = origins + origins + rest_origins
    hu = data.hu[rows].astype(np.float32)
    maps = maps_all[rows].astype(np.float32)
    labels = data.labels[rows].astype(np.float32)
    if h:
        hu = np.concatenate([hu, hard[rng.integers(0, len(hard), h)].astype(np.float32)])
        maps = np.concatenate([maps, np.zeros((h,) + maps.shape[1:], np.float32)])
        labels = np.concatenate([labels, np.zeros((h, labels.shape[1]), np.float32)])
        if crop:
            origins = origins + [(int(rng.integers(0, (full - crop) // ms + 1)) * ms,
                                  int(rng.integers(0, (full - crop) // ms + 1)) * ms) for _ in range(h)]
    if crop:
        hu = np.stack([hu[r, y:y + crop, x:x + crop] for r, (y, x) in enumerate(origins)])
        c = crop // ms
        maps = np.stack([maps[r, y // ms:y // ms + c, x // ms:x // ms + c] for r, (y, x) in enumerate(origins)])
        # a crop of a lesion slice is positive for the classes whose lesion it holds: the pair was
        # cropped around a lesion cell, so the slice label stands (rest rows are lesion-free)
    labels[n:2 * n] = 0.0  # the twins: negative for every class (their own masks are empty)
    maps[n:2 * n] = 0.0
    return hu[:, None], labels, maps[:, None], n


def augment_pairs(hu, maps, n: int, gen):
    """Augment a batch from ``sample_batch``: the pair rows (lesion slice i and twin n+i) get the
    same random draws, so they still differ by the lesion only; the other rows get their own."""
    import torch
    st = gen.get_state()
    xa, ma = D.augment_batch(hu[:n], gen, maps=maps[:n])
    gen.set_state(st)
    xb, mb = D.augment_batch(hu[n:2 * n], gen, maps=maps[n:2 * n])
    xr, mr = D.augment_batch(hu[2 * n:], gen, maps=maps[2 * n:])
    return torch.cat([xa, xb, xr]), torch.cat([ma, mb, mr])


def make_aux_heads(widths, n_classes: int):
    """1x1 conv heads on layer2 and layer3 for the dense loss (training only)."""
    import torch.nn as nn
    return nn.ModuleDict({"layer2": nn.Conv2d(widths[1], n_classes, 1), "layer3": nn.Conv2d(widths[2], n_classes, 1)})


def pair_losses(logits, feats: Dict[str, "object"], heads, labels, maps, n: int, pos_weight: float = 5.0,
                rank_scale: float = 4.0) -> Tuple["object", "object"]:
    """(rank loss, dense loss). Rank: mean over the pairs' positive classes of
    softplus(-rank_scale * (logit_lesion - logit_twin)). Dense: BCE per cell of each aux head
    towards "the lesion footprint covers >= 10 % of this cell" for the row's positive classes."""
    import torch
    import torch.nn.functional as F
    y = labels[:n]
    if n:
        d = logits[:n] - logits[n:2 * n]
        rank = (F.softplus(-rank_scale * d) * y).sum() / y.sum().clamp_min(1.0)
    else:
        rank = logits.sum() * 0.0
    dense = logits.sum() * 0.0
    pw = torch.tensor(pos_weight, device=logits.device)
    for name, head in heads.items():
        f = feats[name]
        cover = F.adaptive_avg_pool2d(maps, f.shape[-2:]) > 0.1          # [B,1,h,w]
        target = (cover & (labels[:, :, None, None] > 0.5)).float()       # [B,C,h,w]
        dense = dense + F.binary_cross_entropy_with_logits(head(f).float(), target, pos_weight=pw)
    return rank, dense / max(len(heads), 1)


def warm_up_aux_heads(model, heads, opt, draw, steps: int, lr: float, autocast=None) -> float:
    """Train only the dense loss's ``heads`` for ``steps`` steps on the network's features, the network
    in eval mode and outside autograd, so its weights, batch-norm statistics and optimiser state stay
    exactly as they were; ``opt`` holds both (AdamW skips parameters without a gradient). ``draw()``
    gives (input, labels, maps, n_pairs) batches. The rate ramps up over the first 10 % of the steps.
    Why: a continuation (``train.py --init``) from a checkpoint without these heads (every model up to
    2.4.1) used to start them random, and their large, arbitrary gradients went through layer2 and
    layer3 of the trained network while the dense loss fell from ~0.7 to ~0.05. Returns the last
    dense loss. ``autocast()`` (optional) gives the training steps' mixed-precision context. The caller
    puts the network back in training mode."""
    import contextlib
    import torch
    autocast = autocast or contextlib.nullcontext
    model.eval()
    last = float("nan")
    for k in range(steps):
        for g in opt.param_groups:
            g["lr"] = lr * min(1.0, (k + 1) / max(steps * 0.1, 1.0))
        x, y, maps, n = draw()
        with autocast():
            with torch.no_grad():
                logits, feats = model.forward_with_features(x)
            _, dense = pair_losses(logits, feats, heads, y, maps, n)
        opt.zero_grad(set_to_none=True)
        dense.backward()
        opt.step()
        last = float(dense)
    return last
