"""The error analysis (training.error_analysis) splits the AUC exactly: a group's AUC against the
negatives is the Mann-Whitney AUC of those slices, the mis-ordered pairs of all negatives add up
to (1 - AUC) x positives x negatives, and the distance to a lesion is counted within a volume."""
from __future__ import annotations

import sys
import unittest
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from training import metrics as M  # noqa: E402
from training.error_analysis import auc_against, binned, distance_to_positive, grouped, misordered  # noqa: E402


class ErrorAnalysis(unittest.TestCase):
    def test_group_auc_is_the_mann_whitney_auc_with_ties_counting_half(self):
        rng = np.random.default_rng(0)
        neg = np.round(rng.random(300), 2)          # rounded: ties happen
        pos = np.round(rng.random(80) * 0.6 + 0.3, 2)
        y = np.r_[np.zeros(len(neg)), np.ones(len(pos))]
        self.assertAlmostEqual(auc_against(neg, pos), M.roc_auc(y, np.r_[neg, pos]), places=12)
        self.assertTrue(np.isnan(auc_against(neg, pos[:0])))

    def test_misordered_pairs_add_up_to_the_auc_loss(self):
        rng = np.random.default_rng(1)
        neg = np.round(rng.random(200), 2)
        pos = np.round(rng.random(50) + 0.2, 2)
        y = np.r_[np.zeros(len(neg)), np.ones(len(pos))]
        loss = (1 - M.roc_auc(y, np.r_[neg, pos])) * len(neg) * len(pos)
        self.assertAlmostEqual(float(misordered(neg, pos).sum()), loss, places=6)
        self.assertEqual(list(misordered(np.array([0.0, 0.5, 1.0]), np.array([0.5, 0.7]))), [0.0, 0.5, 2.0])

    def test_distance_to_a_lesion_is_counted_within_the_volume(self):
        y = np.array([0, 1, 0, 0, 0, 0])
        z = np.array([0, 1, 2, 3, 0, 1])
        vol = np.array([7, 7, 7, 7, 8, 8])
        d = distance_to_positive(y, z, vol)
        self.assertEqual(list(d[:4]), [1, 0, 1, 2])
        self.assertTrue((d[4:] > 1000).all(), "a volume without a lesion is far from every lesion")

    def test_groups_are_scored_separately(self):
        neg = np.linspace(0, 1, 101)
        rows = [{"kind": "a", "score": 2.0}, {"kind": "a", "score": 2.0}, {"kind": "b", "score": -1.0}]
        self.assertEqual(grouped(rows, lambda r: r["kind"], neg), [("a", 2, 1.0), ("b", 1, 0.0)])

    def test_bins_split_the_misordered_pairs_and_skip_slices_outside_every_bin(self):
        neg = np.array([0.1, 0.9, 0.2, 0.8, 0.5])
        pos = np.array([0.3, 0.6])
        where = np.array([0.1, 0.1, 0.7, 0.7, np.nan])     # the last one: the organ is not on the slice
        mis = misordered(neg, pos)
        rows = binned(where, (0.0, 0.5, 1.01), neg, mis)
        self.assertEqual([r["slices"] for r in rows], [2, 2])
        # 5 mis-ordered pairs: 2 in each bin, 1 on the slice without the organ
        self.assertAlmostEqual(rows[0]["misorderedShare"], 0.4)
        self.assertAlmostEqual(rows[1]["misorderedShare"], 0.4)
        self.assertEqual(rows[1]["bin"], [0.5, 1.0])


if __name__ == "__main__":
    unittest.main()
