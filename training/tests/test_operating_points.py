"""Operating points chosen on validation (metrics.operating_points, the card's
``outputs.operatingPoints``): the specificity point is the lowest threshold that reaches its
specificity, the sensitivity point the highest that reaches its sensitivity, and "balanced" is the
Youden threshold the card already has, listed first."""
from __future__ import annotations

import sys
import unittest
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from training import metrics as M  # noqa: E402


class OperatingPoints(unittest.TestCase):
    def setUp(self):
        rng = np.random.default_rng(5)
        self.y = (rng.random(400) < 0.3).astype(np.uint8)
        self.s = np.clip(rng.normal(0.35 + 0.3 * self.y, 0.15), 0, 1).astype(np.float32)

    def test_specificity_point_is_the_lowest_threshold_reaching_the_target(self):
        for target in (0.5, 0.9, 0.95, 0.99):
            t = M.threshold_for_specificity(self.y, self.s, target)
            _, spec = M.sens_spec(self.y, self.s, t)
            self.assertGreaterEqual(spec, target)
            lower = self.s[self.s < t]
            if len(lower):  # the next score down as threshold flags one more negative: below target
                self.assertLess(M.sens_spec(self.y, self.s, float(lower.max()))[1], target)
            self.assertFalse(np.any(self.s == t), "the threshold does not sit on a validation score")

    def test_sensitivity_point_is_the_highest_threshold_reaching_the_target(self):
        for target in (0.5, 0.9, 0.95, 1.0):
            t = M.threshold_for_sensitivity(self.y, self.s, target)
            sens, _ = M.sens_spec(self.y, self.s, t)
            self.assertGreaterEqual(sens, target)
            higher = self.s[self.s > t]
            if len(higher):  # any threshold above the next score up loses a positive: below target
                up = np.nextafter(higher.min(), np.float32(np.inf))  # (scores are float32)
                self.assertLess(M.sens_spec(self.y, self.s, up)[0], target)
            self.assertFalse(np.any(self.s == t), "the threshold does not sit on a validation score")

    def test_sens_spec_compares_in_float64_as_the_viewer_does(self):
        s = np.array([0.3, 0.1], np.float32)
        y = np.array([1, 0])
        above = float(np.nextafter(np.float64(s[0]), np.inf))  # rounds back to s[0] in float32
        self.assertEqual(M.sens_spec(y, s, above), (0.0, 1.0))
        self.assertEqual(M.sens_spec(y, s, float(s[0])), (1.0, 1.0))

    def test_points_list_balanced_first_with_validation_figures(self):
        labels = np.stack([self.y, 1 - self.y], 1)
        probs = np.stack([self.s, 1 - self.s], 1)
        youden = {c: M.youden_threshold(labels[:, i], probs[:, i])[0] for i, c in enumerate(["a", "b"])}
        pts = M.operating_points(labels, probs, ["a", "b"], youden)
        self.assertEqual([p["id"] for p in pts], ["balanced", "specificity-90", "sensitivity-95"])
        self.assertEqual(pts[0]["thresholds"], youden)
        for p in pts:
            for i, c in enumerate(["a", "b"]):
                sens, spec = M.sens_spec(labels[:, i], probs[:, i], p["thresholds"][c])
                self.assertEqual(p["validation"][c], {"sensitivity": sens, "specificity": spec})
        self.assertGreaterEqual(pts[1]["validation"]["a"]["specificity"], 0.9)
        self.assertGreaterEqual(pts[2]["validation"]["a"]["sensitivity"], 0.95)
        # ordered as their names say: strict above balanced above lenient
        self.assertGreater(pts[1]["thresholds"]["a"], pts[0]["thresholds"]["a"])
        self.assertLess(pts[2]["thresholds"]["a"], pts[0]["thresholds"]["a"])

    def test_a_point_never_crosses_the_default(self):
        """If the balanced threshold already reaches a point's target, the point keeps it: the
        "high sensitivity" point of a class must not be less sensitive than the default."""
        y = np.array([0] * 20 + [1] * 20)
        s = np.concatenate([np.linspace(0.0, 0.3, 20), np.linspace(0.5, 1.0, 20)])
        labels, probs = y[:, None], s[:, None]
        low = {"a": 0.1}  # a default below the sensitivity point's own choice
        pts = {p["id"]: p for p in M.operating_points(labels, probs, ["a"], low)}
        self.assertGreater(M.threshold_for_sensitivity(y, s, 0.95), 0.1, "precondition")
        self.assertEqual(pts["sensitivity-95"]["thresholds"]["a"], 0.1)
        high = {"a": 0.9}  # a default above the specificity point's own choice
        pts = {p["id"]: p for p in M.operating_points(labels, probs, ["a"], high)}
        self.assertLess(M.threshold_for_specificity(y, s, 0.90), 0.9, "precondition")
        self.assertEqual(pts["specificity-90"]["thresholds"]["a"], 0.9)


if __name__ == "__main__":
    unittest.main()
