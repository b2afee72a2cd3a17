"""Tissue labels and their per-volume attenuation (HU), by contrast phase.

Each volume draws one mean HU per tissue from the ranges below (so no two volumes share
exact values), plus texture amplitudes (coarse / fine, HU) and, for lung, a gravity gradient
(dependent = posterior parenchyma denser).
"""
from __future__ import annotations

import numpy as np

TISSUE_NAMES = (
    "air", "table_shell", "table_core", "pad", "skin", "fat", "muscle", "visceral_fat", "lung",
    "airway", "blood", "myocardium", "artery", "vein", "pulmonary_artery", "liver", "spleen",
    "kidney_cortex", "kidney_medulla", "stomach_wall", "fluid", "gas", "bowel", "gallbladder",
    "pancreas", "bone_cortex", "bone_marrow", "csf", "disc", "cartilage", "esophagus",
    "breast_gland", "liver_vessel", "lung_vessel",
)
T = type("T", (), {n.upper(): i for i, n in enumerate(TISSUE_NAMES)})
N_TISSUES = len(TISSUE_NAMES)

# (low, high) mean HU per tissue and phase: none / arterial / portal (venous).
_R = {
    "air": [(-1005, -990)] * 3,
    "table_shell": [(80, 400)] * 3,
    "table_core": [(-960, -700)] * 3,
    "pad": [(-930, -650)] * 3,
    "skin": [(15, 55)] * 3,
    "fat": [(-120, -80)] * 3,
    "muscle": [(30, 60), (40, 65), (45, 70)],
    "visceral_fat": [(-120, -80)] * 3,
    "lung": [(-900, -750)] * 3,
    "airway": [(-1000, -960)] * 3,
    "blood": [(30, 50), (220, 420), (130, 200)],
    "myocardium": [(35, 55), (90, 150), (90, 140)],
    "artery": [(35, 50), (250, 450), (130, 200)],
    "vein": [(30, 50), (60, 110), (130, 190)],
    "pulmonary_artery": [(30, 50), (180, 400), (130, 190)],
    "liver": [(50, 70), (60, 85), (90, 130)],
    "spleen": [(40, 55), (90, 150), (100, 135)],
    "kidney_cortex": [(25, 40), (150, 230), (140, 200)],
    "kidney_medulla": [(25, 40), (50, 90), (120, 180)],
    "stomach_wall": [(30, 50), (60, 100), (70, 110)],
    "fluid": [(0, 20)] * 3,
    "gas": [(-1000, -950)] * 3,
    "bowel": [(20, 50), (50, 90), (60, 100)],
    "gallbladder": [(0, 20)] * 3,
    "pancreas": [(35, 50), (80, 130), (80, 120)],
    "bone_cortex": [(600, 1200)] * 3,
    "bone_marrow": [(120, 300)] * 3,
    "csf": [(0, 15)] * 3,
    "disc": [(70, 110)] * 3,
    "cartilage": [(90, 180)] * 3,
    "esophagus": [(30, 50), (40, 70), (50, 80)],
    "breast_gland": [(-40, 30)] * 3,
    "liver_vessel": [(35, 45), (60, 90), (150, 200)],   # non-contrast: set relative to liver below
    "lung_vessel": [(30, 50), (180, 400), (130, 190)],
}
# (coarse, fine) texture amplitude ranges in HU.
_TEX = {
    "fat": ((3, 10), (2, 6)), "visceral_fat": ((4, 12), (2, 6)), "muscle": ((3, 8), (2, 5)),
    "lung": ((10, 30), (8, 25)), "liver": ((3, 8), (1, 4)), "spleen": ((3, 9), (1, 4)),
    "bone_marrow": ((15, 40), (20, 50)), "bone_cortex": ((40, 120), (20, 60)),
    "bowel": ((8, 20), (3, 8)), "breast_gland": ((15, 35), (8, 20)), "kidney_cortex": ((3, 8), (2, 5)),
    "pancreas": ((4, 10), (4, 10)), "stomach_wall": ((3, 8), (2, 5)), "skin": ((3, 8), (2, 5)),
    "table_core": ((10, 40), (5, 20)), "pad": ((10, 40), (5, 20)),
}
PHASE_INDEX = {"none": 0, "arterial": 1, "portal": 2}


def sample_tissue_table(rng: np.random.Generator, contrast: str):
    """Return (base, tex_coarse, tex_fine, lung_gradient) float32 arrays indexed by label."""
    p = PHASE_INDEX[contrast]
    base = np.zeros(N_TISSUES, np.float32)
    tc = np.zeros(N_TISSUES, np.float32)
    tf = np.zeros(N_TISSUES, np.float32)
    for i, name in enumerate(TISSUE_NAMES):
        lo, hi = _R[name][p]
        base[i] = rng.uniform(lo, hi)
        (c0, c1), (f0, f1) = _TEX.get(name, ((1, 4), (1, 3)))
        tc[i] = rng.uniform(c0, c1)
        tf[i] = rng.uniform(f0, f1)
    if contrast == "none":
        # Unenhanced hepatic vessels are a little darker than the parenchyma.
        base[T.LIVER_VESSEL] = base[T.LIVER] - rng.uniform(8, 22)
    elif contrast == "arterial":
        base[T.LIVER_VESSEL] = base[T.LIVER] + rng.uniform(-5, 25)
    grad = np.zeros(N_TISSUES, np.float32)
    grad[T.LUNG] = rng.uniform(15, 90)   # HU per unit of normalised AP position (posterior +)
    return base, tc, tf, grad
