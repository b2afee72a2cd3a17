"""training.hard_negatives: which slices may be mined, and the validation split with every slice."""
from __future__ import annotations

import sys
import tempfile
import unittest
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from training.tests.needs import needs_torch  # noqa: E402


@needs_torch
class HardNegatives(unittest.TestCase):
    def test_slices_near_a_lesion_are_never_mined(self):
        from training.hard_negatives import near_positive
        labels = np.zeros((12, 2), np.uint8)
        labels[5, 0] = 1
        labels[11, 1] = 1
        near = near_positive(labels, 2)
        self.assertEqual(np.flatnonzero(~near).tolist(), [0, 1, 2, 8])
        self.assertEqual(np.flatnonzero(~near_positive(labels, 0)).tolist(),
                         [i for i in range(12) if i not in (5, 11)])

    def test_val_all_slices_is_its_own_cache_folder(self):
        """--val-all-slices must not reuse (or overwrite) the sampled validation shards."""
        from training import dataset as D
        calls = []
        orig = D._build_shard_job

        def fake(job):
            calls.append(job)
            seed, path = job[0], Path(job[1])
            np.savez(path, hu=np.zeros((1, 2, 2), np.float16))
        D._build_shard_job = fake
        try:
            with tempfile.TemporaryDirectory() as tmp:
                sampled = D.ensure_split("val", 1, workers=1, counterfactual=True, cache_root=Path(tmp), log=lambda m: None)
                every = D.ensure_split("val", 1, workers=1, counterfactual=True, all_slices=True,
                                       cache_root=Path(tmp), log=lambda m: None)
        finally:
            D._build_shard_job = orig
        self.assertEqual(sampled[0].parent.name, "val")
        self.assertEqual(every[0].parent.name, "val-all")
        self.assertNotEqual(sampled[0].parent.parent, every[0].parent.parent, "no twins: another cache key")
        self.assertEqual([c[2] for c in calls], [False, True], "all_slices reaches the shard builder")
        self.assertEqual([c[5] for c in calls], [True, False], "and a natural split has no twins")


if __name__ == "__main__":
    unittest.main()
