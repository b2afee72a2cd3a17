"""Volume specification: the acquisition-spec ranges and optional per-volume overrides.

Every field of :class:`VolumeSpec` left as ``None`` is drawn at random (from the volume's own
seeded generator) within the ranges below, which are the acceptance spec of the phantom issue.
Overrides never shift the other random draws: a value is always drawn and then replaced, so
``make_volume(s)`` and ``make_volume(s, VolumeSpec(noise_sigma=0))`` share anatomy, lesions and
geometry exactly.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Dict, List, Optional, Union

GENERATOR_VERSION = "resight-phantom-1"

MATRIX = 512                       # axial slices are MATRIX x MATRIX
PIXEL_SPACING_MM = (0.6, 0.9)      # row == column spacing
THICKNESS_MM = (1.25, 5.0)         # slice thickness == slice spacing (contiguous)
SLICES = (40, 200)
MAX_COVERAGE_MM = 560.0            # random defaults keep slices*thickness <= this (neck..abdomen)
NOISE_SIGMA_HU = (8.0, 35.0)
BLUR_SIGMA_PX = (0.45, 1.2)        # in-plane Gaussian MTF of the reconstruction kernel
NODULE_DIAMETER_MM = (5.0, 30.0)
LIVER_LESION_DIAMETER_MM = (8.0, 40.0)
SOLID_HU = (-50.0, 80.0)
GGO_HU = (-700.0, -300.0)
LIVER_LESION_DELTA_HU = (15.0, 60.0)   # |lesion - liver|
CONTRAST_PHASES = ("none", "arterial", "portal")
REGIONS = ("chest", "chest_abdomen", "abdomen")

# A slice is labelled positive for a class when that class's mask covers at least this area on
# the slice (about a 3.6 mm disc; 12-28 voxels at 0.6-0.9 mm pixels).
MIN_LABEL_AREA_MM2 = 10.0

CLASSES = ("lung_nodule", "liver_lesion")


@dataclass
class VolumeSpec:
    """Optional overrides; ``None`` means "random within the spec".

    slices, pixel_spacing (mm), thickness (mm, == slice spacing), contrast ('none' | 'arterial'
    | 'portal', or a bool: True = 'portal'), n_nodules, n_liver_lesions, noise_sigma (HU; 0
    disables noise), blur_sigma_px (in-plane MTF sigma; 0 disables blur and z partial-volume
    mixing), region ('chest' | 'chest_abdomen' | 'abdomen'), center_s_mm (anatomical depth of
    the scan centre below the lung apex, overrides region), table, streaks (beam-hardening),
    lesions (explicit lesions placed before the random ones; each a dict with 'class' and any of
    'kind', 'shape', 'diameter_mm', 'juxta', 'hu' (nodules), 'delta_hu' (liver, signed),
    'margin' ('sharp' | 'ill_defined'), 'center_s_frac' (0..1 position of the lesion's slice in
    the volume, approximate)). When ``lesions`` is given, n_nodules/n_liver_lesions default to 0.
    matrix: rows == columns (512 is the spec; smaller only for quick tests: unless pixel_spacing
    is given, the drawn spacing is scaled by 512 / matrix so the field of view stays realistic).
    """

    slices: Optional[int] = None
    pixel_spacing: Optional[float] = None
    thickness: Optional[float] = None
    contrast: Optional[Union[str, bool]] = None
    n_nodules: Optional[int] = None
    n_liver_lesions: Optional[int] = None
    noise_sigma: Optional[float] = None
    blur_sigma_px: Optional[float] = None
    region: Optional[str] = None
    center_s_mm: Optional[float] = None
    table: Optional[bool] = None
    streaks: Optional[bool] = None
    lesions: Optional[List[Dict[str, Any]]] = None
    matrix: int = MATRIX

    def as_dict(self) -> Dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def pick(value, drawn):
    """Return the override when given, else the drawn value (the draw always happened)."""
    return drawn if value is None else value


def normalize_contrast(c) -> str:
    if c is True:
        return "portal"
    if c is False:
        return "none"
    if c not in CONTRAST_PHASES:
        raise ValueError(f"contrast must be one of {CONTRAST_PHASES} or a bool, not {c!r}")
    return c


__all__ = [
    "VolumeSpec", "GENERATOR_VERSION", "MATRIX", "PIXEL_SPACING_MM", "THICKNESS_MM", "SLICES",
    "NOISE_SIGMA_HU", "BLUR_SIGMA_PX", "NODULE_DIAMETER_MM", "LIVER_LESION_DIAMETER_MM",
    "SOLID_HU", "GGO_HU", "LIVER_LESION_DELTA_HU", "CONTRAST_PHASES", "REGIONS",
    "MIN_LABEL_AREA_MM2", "CLASSES", "MAX_COVERAGE_MM", "pick", "normalize_contrast",
]
