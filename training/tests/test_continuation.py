"""``train.py --init`` from a checkpoint without the dense loss's heads: the heads are warmed up on
the unchanged network, and when the initial weights stay the best, the checkpoint keeps those
warmed heads (not the random ones), so the next continuation resumes them. Runs the real
``train.main`` on the stand-in phantom (seconds)."""
from __future__ import annotations

import copy
import os
import sys
import tempfile
import unittest
from pathlib import Path
from unittest import mock

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from training.tests.needs import HAS_SCIPY, HAS_TORCH, NEED_SCIPY, needs_torch  # noqa: E402


@needs_torch
@unittest.skipUnless(HAS_SCIPY, NEED_SCIPY)
class ContinuationSpec(unittest.TestCase):
    def test_kept_initial_weights_are_saved_with_the_warmed_heads(self):
        import torch
        from training import dataset as D
        from training import pairs as PR
        from training import train as T
        base = ["--minutes", "2", "--data-minutes", "0.5", "--train-volumes", "4", "--val-volumes", "2", "--seed", "3"]
        seen = {}
        make, warm = PR.make_aux_heads, PR.warm_up_aux_heads

        def make_spy(*a, **k):
            heads = make(*a, **k)
            seen["random"] = copy.deepcopy(heads.state_dict())
            return heads

        def warm_spy(model, heads, *a, **k):
            out = warm(model, heads, *a, **k)
            seen["warmed"] = copy.deepcopy(heads.state_dict())
            return out

        with tempfile.TemporaryDirectory() as d, mock.patch.dict(os.environ, {"RESIGHT_PHANTOM_STANDIN": "1"}):
            D.phantom_fingerprint.cache_clear()  # the cache key follows the phantom
            try:
                T.main(base + ["--steps", "3", "--out", f"{d}/a.pt", "--run-dir", f"{d}/ra"])
                ck = torch.load(f"{d}/a.pt", weights_only=False)
                self.assertIn("aux_state_dict", ck)
                del ck["aux_state_dict"]  # as every checkpoint up to model 2.4.1
                torch.save(ck, f"{d}/b.pt")
                # the initial weights win: validation scores them 0.9 and every later step 0.5
                aucs = iter([[0.9, 0.9]] + [[0.5, 0.5]] * 10)
                with mock.patch.object(PR, "make_aux_heads", make_spy), \
                        mock.patch.object(PR, "warm_up_aux_heads", warm_spy), \
                        mock.patch.object(T.M, "per_class_auc", lambda *a: next(aucs)):
                    T.main(base + ["--init", f"{d}/b.pt", "--aux-warmup", "5", "--steps", "2",
                                   "--out", f"{d}/c.pt", "--run-dir", f"{d}/rc"])
            finally:
                D.phantom_fingerprint.cache_clear()  # the cache key follows the phantom
            out = torch.load(f"{d}/c.pt", weights_only=False)
        self.assertEqual(out["training"]["bestStep"], 0)
        saved = out["aux_state_dict"]
        for k, v in saved.items():
            self.assertTrue(torch.equal(v, seen["warmed"][k]), k)
        self.assertFalse(all(torch.equal(v, seen["random"][k]) for k, v in saved.items()))


if __name__ == "__main__":
    unittest.main()
