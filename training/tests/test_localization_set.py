"""Tests of training/localization_set.py (the explain engine's localization evaluation set).

Run from the repository root:  /usr/bin/python3 -m unittest discover -s training/tests -t .
One small real volume (seed 3000009: 48 slices, both classes) is generated twice (~5 s).
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import unittest

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from training import localization_set as LS  # noqa: E402

SEED = 3_000_009


def _quiet(*a, **k):
    pass


class Selection(unittest.TestCase):
    def test_order_key_first_then_spread(self):
        areas = {10: 5, 11: 40, 12: 80, 13: 100, 14: 90, 15: 60, 16: 20, 17: 4}
        order = LS.order_lesion_slices(areas, list(areas))
        self.assertEqual(order[0], 13)                    # largest cross-section
        self.assertEqual(sorted(order), sorted(areas))    # a permutation
        # the core (area >= 50: 12..15) comes before the rest; farthest from the key slice next,
        # then min-distance ties go to the larger cross-section (14: 90 over 12: 80)
        core = [k for k in areas if areas[k] >= 50]
        self.assertEqual(sorted(order[:len(core)]), core)
        self.assertEqual(order[:4], [13, 15, 14, 12])
        self.assertEqual(order[4:6], [10, 17])            # the rest: the two ends

    def test_allocate_balances_ranks_and_classes(self):
        queues = [(0, 0, [1, 2, 3, 4]), (0, 1, [5, 6]), (1, 0, [7, 8, 9]), (2, 1, [10])]
        picks = LS.allocate(queues, 5, 2)
        self.assertEqual(len(picks), 5)
        self.assertEqual([p[3] for p in picks], [0, 0, 0, 0, 1])   # every first pick before any second
        self.assertEqual(sorted(p[2] for p in picks[:4]), [1, 5, 7, 10])
        self.assertEqual(len(LS.allocate(queues, 100, 2)), 10)


class Build(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="locset-test-")
        cls.a = os.path.join(cls.tmp, "a")
        cls.b = os.path.join(cls.tmp, "b")
        LS.build(cls.a, volumes=1, first_seed=SEED, max_slices=5, per_class_per_volume=3, log=_quiet, command="x")
        os.makedirs(cls.b)
        open(os.path.join(cls.b, "slice_99_hu.f32"), "wb").close()       # stale file: must go
        LS.build(cls.b, volumes=1, first_seed=SEED, max_slices=5, per_class_per_volume=3, log=_quiet, command="x")
        with open(os.path.join(cls.a, "meta.json")) as f:
            cls.meta = json.load(f)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_files_and_entries(self):
        m = self.meta
        self.assertEqual(m["seeds"]["list"], [SEED])
        self.assertTrue(m["seeds"]["heldOut"])
        self.assertEqual(m["classes"], ["lung_nodule", "liver_lesion"])
        self.assertEqual(m["labelRule"]["minAreaMm2"], 10.0)
        ents = m["entries"]
        self.assertEqual(len(ents), 5)
        self.assertEqual([e["id"] for e in ents], list(range(5)))
        self.assertEqual({e["class"] for e in ents}, {"lung_nodule", "liver_lesion"})
        for e in ents:
            R, C = e["rows"], e["columns"]
            self.assertEqual((R, C), (512, 512))
            self.assertEqual(m["classes"][e["classIndex"]], e["class"])
            hu_path, mask_path = os.path.join(self.a, e["hu"]), os.path.join(self.a, e["mask"])
            self.assertEqual(os.path.getsize(hu_path), R * C * 4)
            self.assertEqual(os.path.getsize(mask_path), R * C)
            hu = np.fromfile(hu_path, "<f4").reshape(R, C)
            mask = np.fromfile(mask_path, np.uint8).reshape(R, C)
            self.assertTrue(np.isfinite(hu).all())
            self.assertLess(float(np.median(hu[:8, :8])), -900)              # air in the corner
            self.assertTrue(set(np.unique(mask).tolist()) <= {0, 1})
            self.assertEqual(int(mask.sum()), e["maskArea"])
            # positive by the training rule, and the mask lies inside the body, off the border
            self.assertGreaterEqual(e["maskArea"] * e["pixelSpacing"][0] * e["pixelSpacing"][1], 10.0)
            self.assertEqual(e["labels"][e["class"]], 1)
            self.assertFalse(mask[0].any() or mask[-1].any() or mask[:, 0].any() or mask[:, -1].any())
            self.assertGreater(float(np.median(hu[mask > 0])), -850)          # not air / lung parenchyma
            self.assertTrue(e["lesions"])
            self.assertGreaterEqual(sum(l_["area"] for l_ in e["lesions"]), e["maskArea"])
            for les in e["lesions"]:
                x0, y0, x1, y1 = les["box"]
                self.assertTrue(0 <= x0 <= les["centroid"][0] <= x1 < C and 0 <= y0 <= les["centroid"][1] <= y1 < R)
                self.assertTrue(mask[y0:y1 + 1, x0:x1 + 1].any())
        names = sorted(os.listdir(self.a))
        self.assertEqual(len(names), 2 * len(ents) + 1)

    def test_deterministic(self):
        self.assertEqual(sorted(os.listdir(self.a)), sorted(os.listdir(self.b)))
        for n in os.listdir(self.a):
            with open(os.path.join(self.a, n), "rb") as fa, open(os.path.join(self.b, n), "rb") as fb:
                self.assertEqual(fa.read(), fb.read(), n)


if __name__ == "__main__":
    unittest.main()
