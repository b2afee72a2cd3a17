"""The Volume returned by make_volume: HU, geometry, masks, lesions, labels, boxes."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import numpy as np

from .spec import CLASSES, MIN_LABEL_AREA_MM2


@dataclass
class Volume:
    hu: np.ndarray                         # float32 [Z, N, N], HU
    spacing: Tuple[float, float, float]    # (slice_spacing_mm, row_mm, col_mm)
    origin: Tuple[float, float, float]     # (x, y, z) mm of voxel [0,0,0] centre, patient LPS
    masks: Dict[str, np.ndarray]           # class -> uint8 [Z, N, N]
    lesions: List[dict]
    meta: dict
    tissue: Optional[np.ndarray] = None    # uint8 [Z, N, N] tissue labels (see tissues.TISSUE_NAMES)
    _footprints: List[dict] = field(default_factory=list, repr=False)

    # Geometry: slice k is at z = origin[2] + k * spacing[0] (ascending z = head-wards, i.e. the
    # order a DICOM reader sorts by position along the normal (0,0,1)); row r is at
    # y = origin[1] + r * spacing[1]; column c at x = origin[0] + c * spacing[2].
    iop = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)

    @property
    def shape(self):
        return self.hu.shape

    def position(self, k: int) -> Tuple[float, float, float]:
        """ImagePositionPatient of slice k."""
        return (self.origin[0], self.origin[1], self.origin[2] + k * self.spacing[0])

    def class_areas_mm2(self) -> np.ndarray:
        """float [Z, 2]: mask area per slice and class (mm^2)."""
        px = self.spacing[1] * self.spacing[2]
        return np.stack([self.masks[c].reshape(self.hu.shape[0], -1).sum(1) * px for c in CLASSES], 1)

    def slice_labels(self, min_area_mm2: float = MIN_LABEL_AREA_MM2) -> np.ndarray:
        """uint8 [Z, 2] (lung_nodule, liver_lesion).

        Rule: a slice is positive for a class when that class's mask covers >= ``min_area_mm2``
        (default 10 mm^2, i.e. 12-28 voxels at 0.6-0.9 mm pixels) on the slice. Slices that only
        graze a lesion's pole (smaller footprint) count as negative.
        """
        return (self.class_areas_mm2() >= min_area_mm2).astype(np.uint8)

    def boxes(self, z: int, min_area_mm2: float = 0.0) -> List[Tuple[str, int, int, int, int]]:
        """[(class, y0, x0, y1, x1)] for slice z: each lesion's own mask footprint on the slice,
        inclusive pixel bounds (rows y, columns x); lesions whose footprint there is smaller than
        ``min_area_mm2`` are left out (default: none are)."""
        out = []
        px = self.spacing[1] * self.spacing[2]
        for les, fp in zip(self.lesions, self._footprints):
            k = z - fp["k0"]
            if k < 0 or k >= fp["mask"].shape[0]:
                continue
            m = fp["mask"][k]
            n = int(m.sum())
            if n == 0 or n * px < min_area_mm2:
                continue
            rows = np.flatnonzero(m.any(1))
            cols = np.flatnonzero(m.any(0))
            out.append((les["class"], int(fp["r0"] + rows[0]), int(fp["c0"] + cols[0]),
                        int(fp["r0"] + rows[-1]), int(fp["c0"] + cols[-1])))
        return out

    def lesion_mask(self, i: int) -> Tuple[Tuple[int, int, int], np.ndarray]:
        """(k0, r0, c0), bool mask of lesion i in its own bounding box."""
        fp = self._footprints[i]
        return (fp["k0"], fp["r0"], fp["c0"]), fp["mask"]
