"""training.dataset: which phantom seeds a split is made of."""
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
class Splits(unittest.TestCase):
    def test_splits_are_disjoint_seed_ranges(self):
        from training import dataset as D
        train, val, test = (set(D.split_seeds(s, 50)) for s in ("train", "val", "test"))
        self.assertFalse(train & val or train & test or val & test)
        self.assertEqual(min(val), 1_000_000)
        self.assertEqual(min(test), 2_000_000)

    def test_an_offset_trains_on_volumes_the_first_seeds_never_include(self):
        """train.py --train-offset K: a continuation sees fresh volumes, still inside the train range."""
        from training import dataset as D
        self.assertEqual(D.split_seeds("train", 3, 320), [320, 321, 322])
        with self.assertRaises(ValueError):
            D.split_seeds("train", 10, 999_995)     # would run into the validation seeds
        built = []
        orig = D._build_shard_job

        def fake(job):
            built.append(job[0])
            np.savez(Path(job[1]), hu=np.zeros((1, 2, 2), np.float16))
        D._build_shard_job = fake
        try:
            with tempfile.TemporaryDirectory() as tmp:
                quiet = dict(workers=1, counterfactual=True, cache_root=Path(tmp), log=lambda m: None)
                first = D.ensure_split("train", 2, **quiet)
                fresh = D.ensure_split("train", 2, offset=2, **quiet)
                again = D.ensure_split("train", 4, **quiet)
        finally:
            D._build_shard_job = orig
        self.assertEqual([p.stem for p in first], ["0", "1"])
        self.assertEqual([p.stem for p in fresh], ["2", "3"])
        self.assertEqual([p.stem for p in again], ["0", "1", "2", "3"], "one cache: shards are reused by seed")
        self.assertEqual(built, [0, 1, 2, 3], "each volume is rendered once")


if __name__ == "__main__":
    unittest.main()
