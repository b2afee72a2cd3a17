"""Tests of the CT phantom generator (training/phantom).

Run from the repository root:  /usr/bin/python3 -m unittest discover -s training/tests
"""
from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from training.phantom import (CLASSES, MIN_LABEL_AREA_MM2, VolumeSpec, balanced_slices,  # noqa: E402
                              make_volume)
from training.phantom import spec as S  # noqa: E402
from training.phantom.tissues import T  # noqa: E402

_CACHE = {}


def vol(seed, **kw):
    key = (seed, tuple(sorted((k, repr(v)) for k, v in kw.items())))
    if key not in _CACHE:
        _CACHE[key] = make_volume(seed, VolumeSpec(**kw))
    return _CACHE[key]


class Determinism(unittest.TestCase):
    def test_same_seed_same_volume(self):
        a = make_volume(11, VolumeSpec(slices=40))
        b = make_volume(11, VolumeSpec(slices=40))
        self.assertTrue(np.array_equal(a.hu, b.hu))
        for c in CLASSES:
            self.assertTrue(np.array_equal(a.masks[c], b.masks[c]))
        self.assertEqual(a.lesions, b.lesions)
        self.assertEqual(a.spacing, b.spacing)
        self.assertEqual(a.origin, b.origin)
        ma, mb = dict(a.meta), dict(b.meta)
        for m in (ma, mb):
            m.pop("seconds")
            m.pop("timing")
        self.assertEqual(ma, mb)

    def test_different_seed_differs(self):
        a = vol(11, slices=40)
        c = make_volume(12, VolumeSpec(slices=40))
        self.assertFalse(a.hu.shape == c.hu.shape and np.array_equal(a.hu, c.hu))
        self.assertNotEqual(a.meta["noise_sigma"], c.meta["noise_sigma"])

    def test_override_keeps_other_draws(self):
        """Overriding the noise leaves anatomy, lesions and geometry untouched."""
        a = vol(21, slices=40, noise_sigma=0.0)
        b = vol(21, slices=40, noise_sigma=20.0)
        self.assertEqual(a.lesions, b.lesions)
        self.assertEqual(a.spacing, b.spacing)
        self.assertTrue(np.array_equal(a.tissue, b.tissue))


class ApiAndSpec(unittest.TestCase):
    def test_api_shapes(self):
        v = vol(3)
        Z = v.hu.shape[0]
        self.assertEqual(v.hu.dtype, np.float32)
        self.assertEqual(v.hu.shape[1:], (512, 512))
        self.assertTrue(S.SLICES[0] <= Z <= S.SLICES[1])
        dz, pr, pc = v.spacing
        self.assertEqual(pr, pc)
        self.assertTrue(S.PIXEL_SPACING_MM[0] <= pr <= S.PIXEL_SPACING_MM[1])
        self.assertTrue(S.THICKNESS_MM[0] <= dz <= S.THICKNESS_MM[1])
        self.assertEqual(v.meta["thickness"], dz)
        self.assertEqual(len(v.origin), 3)
        for c in CLASSES:
            self.assertEqual(v.masks[c].dtype, np.uint8)
            self.assertEqual(v.masks[c].shape, v.hu.shape)
        lab = v.slice_labels()
        self.assertEqual(lab.shape, (Z, 2))
        self.assertEqual(lab.dtype, np.uint8)
        for key in ("seed", "contrast", "noise_sigma", "thickness", "pixel_spacing", "slices"):
            self.assertIn(key, v.meta)
        self.assertTrue(S.NOISE_SIGMA_HU[0] <= v.meta["noise_sigma"] <= S.NOISE_SIGMA_HU[1])
        self.assertIn(v.meta["contrast"], S.CONTRAST_PHASES)
        # IPP of slice k: origin + k * slice spacing along +z
        self.assertAlmostEqual(v.position(Z - 1)[2] - v.position(0)[2], (Z - 1) * dz, places=4)
        # air is -1000, no padding value
        self.assertLess(float(np.median(v.hu[:, :8, :8])), -950)

    def test_random_geometry_within_spec(self):
        # The geometry draws do not depend on the matrix: tiny matrices keep this fast.
        for seed in range(12):
            v = make_volume(seed, VolumeSpec(matrix=64))
            dz, ps, _ = v.spacing
            ps *= 64 / 512          # small matrices keep the field of view
            self.assertTrue(S.THICKNESS_MM[0] <= dz <= S.THICKNESS_MM[1], dz)
            self.assertTrue(S.PIXEL_SPACING_MM[0] <= ps <= S.PIXEL_SPACING_MM[1], ps)
            self.assertTrue(S.SLICES[0] <= v.meta["slices"] <= S.SLICES[1])
            self.assertLessEqual((v.meta["slices"]) * dz, S.MAX_COVERAGE_MM + dz)


class TissueHU(unittest.TestCase):
    """Clean volumes (no noise, no blur, no streaks): tissue means lie in the spec's ranges."""

    def check(self, v, label, lo, hi, stat=np.median, required=True):
        m = v.tissue == label
        if not required and m.sum() < 50:
            return
        self.assertGreater(int(m.sum()), 50, f"no voxels of tissue {label}")
        val = float(stat(v.hu[m]))
        self.assertTrue(lo <= val <= hi, f"tissue {label}: {val:.1f} not in [{lo}, {hi}]")

    def test_non_contrast_ranges(self):
        for seed in (31, 32):
            v = vol(seed, slices=60, thickness=3.0, region="chest_abdomen", contrast="none", noise_sigma=0.0,
                    blur_sigma_px=0.0, streaks=False)
            self.check(v, T.FAT, -120, -80)
            self.check(v, T.MUSCLE, 30, 60)
            self.check(v, T.LUNG, -900, -700)   # median includes a few vessel voxels
            self.check(v, T.LIVER, 48, 72)      # liver vessels pull it down slightly
            self.check(v, T.SPLEEN, 35, 60, required=False)
            self.check(v, T.BONE_CORTEX, 300, 1200)
            cort = float(np.median(v.hu[v.tissue == T.BONE_CORTEX]))
            marrow = float(np.median(v.hu[v.tissue == T.BONE_MARROW]))
            self.assertLess(marrow, cort)
            self.assertLess(float(np.median(v.hu[v.tissue == T.AIR])), -985)

    def test_contrast_enhances_vessels_and_liver(self):
        a = vol(33, slices=50, thickness=3.0, region="chest_abdomen", contrast="none", noise_sigma=0.0,
                blur_sigma_px=0.0, streaks=False)
        b = vol(33, slices=50, thickness=3.0, region="chest_abdomen", contrast="portal", noise_sigma=0.0,
                blur_sigma_px=0.0, streaks=False)
        for lab, gain in ((T.ARTERY, 60), (T.LIVER, 20)):
            ha = float(np.median(a.hu[a.tissue == lab]))
            hb = float(np.median(b.hu[b.tissue == lab]))
            self.assertGreater(hb - ha, gain, f"tissue {lab}: {ha:.0f} -> {hb:.0f}")

    def test_noise_sigma_and_correlation(self):
        a = vol(21, slices=40, noise_sigma=0.0)
        b = vol(21, slices=40, noise_sigma=20.0)
        d = (b.hu - a.hu).astype(np.float64)
        self.assertAlmostEqual(d.std(), 20.0, delta=2.0)
        lag1 = float(np.mean(d[:, :, 1:] * d[:, :, :-1]) / d.var())
        self.assertGreater(lag1, 0.1, "noise should be spatially correlated (not white)")


class Lesions(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.vols = [vol(s, slices=50, n_nodules=3, n_liver_lesions=3, region="chest_abdomen") for s in (41, 42, 43)]

    def test_lesions_present_and_sizes_in_spec(self):
        n = {c: 0 for c in CLASSES}
        for v in self.vols:
            for i, les in enumerate(v.lesions):
                n[les["class"]] += 1
                d = les["diameter_mm"]
                lo, hi = S.NODULE_DIAMETER_MM if les["class"] == "lung_nodule" else S.LIVER_LESION_DIAMETER_MM
                self.assertTrue(lo <= d <= hi, les)
                # the mask's largest cross-section is consistent with the nominal diameter
                d_eq = 2 * math.sqrt(les["max_area_mm2"] / math.pi)
                if les["shape"] != "spiculated":
                    self.assertLess(d_eq, 1.5 * d + 2 * v.spacing[1], les)
                    if les["juxta"] is None and les["slices"][0] > 0 and les["slices"][1] < v.hu.shape[0] - 1:
                        self.assertGreater(d_eq, 0.5 * d, les)
                if les["class"] == "lung_nodule":
                    if les["kind"] == "ggo":
                        self.assertTrue(S.GGO_HU[0] <= les["hu"] <= S.GGO_HU[1])
                    else:
                        self.assertTrue(S.SOLID_HU[0] <= les["hu"] <= S.SOLID_HU[1])
                    self.assertIn(les["juxta"], (None, "pleural", "vascular"))
                else:
                    self.assertTrue(S.LIVER_LESION_DELTA_HU[0] <= abs(les["delta_hu"]) <= S.LIVER_LESION_DELTA_HU[1])
                    self.assertEqual(les["delta_hu"] > 0, les["kind"] == "hyperdense")
                # slices = the z-range of the lesion's own mask; key slice inside
                (k0, r0, c0), m = v.lesion_mask(i)
                ks = np.flatnonzero(m.any((1, 2))) + k0
                self.assertEqual(tuple(les["slices"]), (int(ks[0]), int(ks[-1])))
                self.assertTrue(les["slices"][0] <= les["key_slice"] <= les["slices"][1])
                z, y, x = les["center_vox"]
                self.assertTrue(les["slices"][0] - 1 <= z <= les["slices"][1] + 1, les)
        self.assertGreaterEqual(n["lung_nodule"], 3)
        self.assertGreaterEqual(n["liver_lesion"], 3)

    def test_masks_inside_host_organ(self):
        for v in self.vols:
            self.assertTrue(np.all(v.tissue[v.masks["lung_nodule"] > 0] == T.LUNG))
            self.assertTrue(np.all(v.tissue[v.masks["liver_lesion"] > 0] == T.LIVER))

    def test_lesion_contrast_visible_in_clean_volume(self):
        v = vol(44, slices=50, region="chest_abdomen", noise_sigma=0.0, streaks=False, lesions=[
            {"class": "lung_nodule", "kind": "solid", "diameter_mm": 14, "hu": 30},
            {"class": "liver_lesion", "kind": "hypodense", "diameter_mm": 24, "delta_hu": -40}])
        self.assertEqual([l_["class"] for l_ in v.lesions], ["lung_nodule", "liver_lesion"])
        nod = v.hu[v.masks["lung_nodule"] > 0]
        self.assertGreater(float(np.median(nod)), -200)
        liv_les = float(np.median(v.hu[v.masks["liver_lesion"] > 0]))
        liver = float(np.median(v.hu[(v.tissue == T.LIVER) & (v.masks["liver_lesion"] == 0)]))
        self.assertLess(liv_les, liver - 20)

    def test_juxtapleural_touches_the_wall(self):
        v = vol(45, slices=60, region="chest", lesions=[{"class": "lung_nodule", "juxta": "pleural", "diameter_mm": 12}])
        self.assertEqual(len(v.lesions), 1)
        les = v.lesions[0]
        self.assertEqual(les["juxta"], "pleural")
        z, y, x = (int(round(c)) for c in les["center_vox"])
        r_px = int(math.ceil((les["diameter_mm"] / 2 + 3) / v.spacing[1]))
        patch = v.tissue[z, max(0, y - r_px):y + r_px + 1, max(0, x - r_px):x + r_px + 1]
        self.assertTrue(np.any((patch != T.LUNG) & (patch != T.AIRWAY)), "no chest wall next to the nodule")


class LabelsAndBoxes(unittest.TestCase):
    def test_labels_consistent_with_masks_and_boxes(self):
        v = vol(41, slices=50, n_nodules=3, n_liver_lesions=3, region="chest_abdomen")
        lab = v.slice_labels()
        px = v.spacing[1] * v.spacing[2]
        for ci, c in enumerate(CLASSES):
            area = v.masks[c].reshape(v.hu.shape[0], -1).sum(1) * px
            self.assertTrue(np.array_equal(lab[:, ci], (area >= MIN_LABEL_AREA_MM2).astype(np.uint8)))
        self.assertGreater(int(lab.sum()), 0)
        for z in range(v.hu.shape[0]):
            boxes = v.boxes(z)
            for ci, c in enumerate(CLASSES):
                m = v.masks[c][z] > 0
                cb = [b for b in boxes if b[0] == c]
                if lab[z, ci]:
                    self.assertTrue(cb, f"slice {z} positive for {c} but no box")
                covered = np.zeros_like(m)
                for _, y0, x0, y1, x1 in cb:
                    self.assertTrue(0 <= y0 <= y1 < 512 and 0 <= x0 <= x1 < 512)
                    self.assertTrue(m[y0:y1 + 1, x0:x1 + 1].any())
                    covered[y0:y1 + 1, x0:x1 + 1] = True
                self.assertFalse(np.any(m & ~covered), f"mask pixels outside boxes on slice {z}")

    def test_balanced_sampling_about_half_positive(self):
        rng = np.random.default_rng(0)
        total_pos = total = 0
        for s in (41, 42, 43):
            v = vol(s, slices=50, n_nodules=3, n_liver_lesions=3, region="chest_abdomen")
            lab = v.slice_labels()
            idx = balanced_slices(lab, rng)
            self.assertEqual(len(np.unique(idx)), len(idx))
            total += len(idx)
            total_pos += int(lab[idx].any(1).sum())
            n = balanced_slices(lab, rng, n=10)
            self.assertLessEqual(len(n), 10)
        self.assertGreater(total, 0)
        self.assertAlmostEqual(total_pos / total, 0.5, delta=0.05)


class Speed(unittest.TestCase):
    def test_512x512x100_is_fast(self):
        t = time.process_time()
        make_volume(5, VolumeSpec(slices=100, thickness=2.5))
        dt = time.process_time() - t
        # measured ~3 s of CPU on the 2-core dev VM; generous bound for slow CI machines
        self.assertLess(dt, 30.0)


class Dicom(unittest.TestCase):
    def test_write_series_roundtrip(self):
        import pydicom

        from training.phantom.dicom import write_series
        v = vol(41, slices=50, n_nodules=3, n_liver_lesions=3, region="chest_abdomen")
        d1 = tempfile.mkdtemp(prefix="phantom-dcm-")
        d2 = tempfile.mkdtemp(prefix="phantom-dcm-")
        try:
            r1 = write_series(v, d1, patient_name="DEMO^PHANTOM", patient_id="T1", seed=41)
            r2 = write_series(v, d2, patient_name="DEMO^PHANTOM", patient_id="T1", seed=41)
            self.assertEqual([r["sop_instance_uid"] for r in r1], [r["sop_instance_uid"] for r in r2])
            self.assertEqual(len(set(r["sop_instance_uid"] for r in r1)), v.hu.shape[0])
            for k in (0, v.hu.shape[0] // 2, v.hu.shape[0] - 1):
                ds = pydicom.dcmread(r1[k]["path"])
                self.assertEqual(ds.file_meta.TransferSyntaxUID, pydicom.uid.ExplicitVRLittleEndian)
                self.assertEqual(ds.SOPClassUID, pydicom.uid.CTImageStorage)
                self.assertEqual((ds.Rows, ds.Columns), (512, 512))
                hu = ds.pixel_array.astype(np.float64) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
                ref = np.clip(np.rint(v.hu[k]), -1024, 3071)
                self.assertTrue(np.array_equal(hu, ref))
                self.assertAlmostEqual(float(ds.ImagePositionPatient[2]), v.position(k)[2], places=4)
                self.assertAlmostEqual(float(ds.PixelSpacing[0]), v.spacing[1], places=5)
                self.assertAlmostEqual(float(ds.SliceThickness), v.spacing[0], places=5)
                self.assertEqual(int(ds.InstanceNumber), k + 1)
                self.assertEqual(str(ds.PatientName), "DEMO^PHANTOM")
            if shutil.which("dciodvfy"):
                p = subprocess.run(["dciodvfy", r1[0]["path"]], capture_output=True, text=True)
                errors = [ln for ln in (p.stdout + p.stderr).splitlines() if ln.startswith("Error")]
                self.assertEqual(errors, [])
        finally:
            shutil.rmtree(d1)
            shutil.rmtree(d2)


if __name__ == "__main__":
    unittest.main()
