"""The held-out evaluation's error breakdown (training/evaluate.py, training/metrics.py): the
within-scan AUC separates scan-to-scan calibration from discrimination, and each slice's lesion
cross-section comes from the lesion's diameter, centre slice and the slice spacing."""
from __future__ import annotations

import sys
import unittest
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from training import metrics as M  # noqa: E402
from training.evaluate import cross_sections, markdown_report  # noqa: E402


class WithinScanAuc(unittest.TestCase):
    def test_a_per_scan_offset_lowers_the_pooled_auc_but_not_the_within_scan_auc(self):
        rng = np.random.default_rng(0)
        y = rng.integers(0, 2, 400)
        groups = np.repeat(np.arange(8), 50)
        s = y * 1.0 + rng.normal(0, 0.3, 400)  # separable within and across scans ...
        offset = s + groups * 0.8               # ... until each scan gets its own offset
        pooled, within = M.roc_auc(y, offset), M.within_group_auc(y, offset, groups)
        self.assertLess(pooled, 0.85)
        self.assertGreater(within[0], 0.95)
        self.assertEqual(within[1], 8)
        self.assertAlmostEqual(M.within_group_auc(y, s, groups)[0], M.within_group_auc(y, offset, groups)[0])

    def test_scans_with_one_label_only_are_left_out(self):
        y = np.array([0, 0, 0, 1, 0, 1])
        s = np.array([0.1, 0.2, 0.9, 0.8, 0.3, 0.7])
        auc, n = M.within_group_auc(y, s, np.array([0, 0, 0, 1, 1, 1]))
        self.assertEqual(n, 1)
        self.assertEqual(auc, 1.0)
        self.assertTrue(np.isnan(M.within_group_auc(np.zeros(3), np.ones(3), np.zeros(3))[0]))


class CrossSections(unittest.TestCase):
    def test_sphere_chord(self):
        self.assertAlmostEqual(M.sphere_chord_mm(10.0, 0.0), 10.0)
        self.assertAlmostEqual(M.sphere_chord_mm(10.0, 3.0), 8.0)
        self.assertEqual(M.sphere_chord_mm(10.0, 5.0), 0.0)
        self.assertEqual(M.sphere_chord_mm(10.0, -7.0), 0.0)

    def test_each_slice_gets_its_largest_lesion_of_each_class(self):
        class Slices:  # the fields of dataset.SliceSet that cross_sections reads
            seed = np.array([7, 7, 7, 7, 9])
            z = np.array([0, 1, 2, 3, 0])
            volumes = [{"seed": 7, "spacing": [3.0, 0.7, 0.7],
                        "lesions": [{"class": "lung_nodule", "diameter_mm": 10.0, "z0": 0, "z1": 2, "zc": 1},
                                    {"class": "lung_nodule", "diameter_mm": 6.0, "z0": 1, "z1": 1, "zc": 1},
                                    {"class": "liver_lesion", "diameter_mm": 20.0, "z0": 3, "z1": 3, "zc": 3}]},
                       {"seed": 9, "spacing": [1.0, 0.7, 0.7], "lesions": []}]

            def __len__(self):
                return 5
        x = cross_sections(Slices(), ["lung_nodule", "liver_lesion"])
        np.testing.assert_allclose(x[:, 0], [8.0, 10.0, 8.0, 0.0, 0.0])
        np.testing.assert_allclose(x[:, 1], [0.0, 0.0, 0.0, 20.0, 0.0])


class Report(unittest.TestCase):
    def test_the_report_has_the_breakdown_row_per_class(self):
        pc = {"rocAuc": 0.9, "rocAuc95ci": None, "threshold": 0.3, "sensitivity": 0.8, "specificity": 0.85,
              "positives": 10, "negatives": 20, "sizeBins": [],
              "withinScanRocAuc": {"mean": 0.93, "scans": 4},
              "meanNegativeScorePerScan": {"min": 0.01, "median": 0.1, "max": 0.4},
              "rocAucByCrossSection": [{"minCrossSectionMm": x, "positives": 9, "rocAuc": 0.95} for x in (5, 8, 12)]}
        md = markdown_report({"name": "m", "version": "0"}, {
            "dataset": "d", "thresholdSource": "t", "onnxSha256": "s", "command": "c", "evaluatedAt": "e",
            "perClass": {"lung_nodule": pc}})
        self.assertIn("| lung_nodule | 0.930 (4) | 0.010 / 0.100 / 0.400 | 0.950 (9) | 0.950 (9) | 0.950 (9) |", md)


if __name__ == "__main__":
    unittest.main()
