"""Slice sampling for the dataset builder: balance positive and negative slices."""
from __future__ import annotations

from typing import Optional

import numpy as np


def balanced_slices(labels: np.ndarray, rng: np.random.Generator, n: Optional[int] = None,
                    pos_fraction: float = 0.5) -> np.ndarray:
    """Pick slice indices so that about ``pos_fraction`` of them are positive (any class).

    labels: uint8 [Z, C] from ``Volume.slice_labels()``. n: how many to pick (default: all the
    positives plus as many negatives as keep the fraction, i.e. 2 * #positives at 0.5). Picks
    without replacement; when one side runs short the other is not padded, so a volume without
    positives yields ``min(n, Z)`` negatives only if ``pos_fraction == 0`` and nothing otherwise —
    the builder is expected to mix many volumes. Returns sorted indices.
    """
    pos = np.flatnonzero(labels.any(1))
    neg = np.flatnonzero(~labels.any(1))
    if n is None:
        if pos_fraction <= 0:
            n_pos, n_neg = 0, neg.size
        else:
            n_pos = pos.size
            n_neg = int(round(n_pos * (1 - pos_fraction) / pos_fraction))
    else:
        n_pos = int(round(n * pos_fraction))
        n_neg = n - n_pos
    n_pos = min(n_pos, pos.size)
    n_neg = min(n_neg, neg.size)
    if pos_fraction > 0 and n_pos == 0:
        return np.zeros(0, int)
    if n is None and pos_fraction > 0:
        # keep the fraction exact-ish when negatives run short
        n_pos = min(n_pos, int(round(n_neg * pos_fraction / (1 - pos_fraction)))) if pos_fraction < 1 else n_pos
    pick = np.concatenate([rng.choice(pos, n_pos, replace=False), rng.choice(neg, n_neg, replace=False)])
    return np.sort(pick.astype(int))
