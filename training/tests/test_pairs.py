"""The pair recipe (training/pairs.py): lesion slices and their twins side by side, cropped and
augmented alike, so a batch's pair rows differ by the lesion only; the rank and dense losses."""
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

from training.tests.test_counterfactual import SEED, small_spec  # noqa: E402


@needs_torch
class PairRecipe(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        from training import dataset as D
        cls.tmp = tempfile.TemporaryDirectory()
        path = Path(cls.tmp.name) / f"{SEED}.npz"
        D.build_shard(SEED, path, all_slices=False, max_pos=24, min_neg=8, counterfactual=True, cf_neg=4,
                      spec=small_spec())
        cls.data = D.SliceSet([path])

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_index_pairs_every_lesion_slice_with_its_twin(self):
        from training import pairs as PR
        d = self.data
        idx = PR.PairIndex(d)
        self.assertEqual(len(idx), int(((d.twin == 0) & d.labels.any(1)).sum()))
        for i, j, cells in zip(idx.pos, idx.twin, idx.cells):
            self.assertEqual((d.seed[i], d.z[i]), (d.seed[j], d.z[j]))
            self.assertEqual((d.twin[i], d.twin[j]), (0, 1))
            self.assertTrue(len(cells))
        self.assertFalse(d.labels[idx.free].any())

    def _check_batch(self, crop: int):
        import torch
        from training import pairs as PR
        d = self.data
        idx = PR.PairIndex(d)
        rng = np.random.default_rng(0)
        hu, y, maps, n = PR.sample_batch(d, idx, rng, batch=12, pairs=4, crop=crop)
        size = crop or d.hu.shape[-1]
        self.assertEqual(hu.shape, (12, 1, size, size))
        self.assertEqual(n, 4)
        self.assertTrue(y[:n].any(1).all(), "lesion rows are positive")
        self.assertFalse(y[n:2 * n].any(), "twins are negative")
        self.assertFalse(maps[n:2 * n].any())
        for k in range(n):
            self.assertGreater(maps[k].max(), 0, "every lesion crop holds its lesion")
            diff = np.abs(hu[k, 0] - hu[n + k, 0]) > 8
            self.assertTrue(diff.any(), "a pair differs")
        if crop:
            self.assertFalse(y[2 * n:].any(), "crop phase: the other rows are lesion-free")
        # identical augmentation: after it, the pair still differs only near the lesion
        g = torch.Generator()
        g.manual_seed(3)
        x, m = PR.augment_pairs(torch.from_numpy(hu), torch.from_numpy(maps), n, g)
        self.assertEqual(tuple(x.shape), (12, 3, size, size))
        ms = size // m.shape[-1]
        for k in range(n):
            dx = (x[k] - x[n + k]).abs().amax(0) > 1e-3
            near = torch.nn.functional.max_pool2d(m[k:k + 1], 5, 1, 2)[0, 0] > 0
            near = near.repeat_interleave(ms, 0).repeat_interleave(ms, 1)
            self.assertLess(float((dx & ~near).float().mean()), 0.002,
                            "outside the (warped) lesion map the two inputs are the same")
        return x, torch.from_numpy(y), m, n

    def test_whole_slice_batch(self):
        self._check_batch(0)

    def test_crop_batch(self):
        self._check_batch(64)

    def test_hard_negative_rows(self):
        """--hard-rows: the last rows of a batch come from the mined slices, negative, with empty maps."""
        from training import pairs as PR
        d = self.data
        idx = PR.PairIndex(d)
        hard = np.full((3,) + d.hu.shape[1:], 777.0, np.float16)  # a value no phantom slice has everywhere
        for crop in (0, 64):
            hu, y, maps, n = PR.sample_batch(d, idx, np.random.default_rng(1), batch=12, pairs=4, crop=crop,
                                             hard=hard, hard_rows=3)
            size = crop or d.hu.shape[-1]
            self.assertEqual(hu.shape, (12, 1, size, size))
            self.assertTrue((hu[-3:] == 777.0).all(), "the last rows are the hard negatives")
            self.assertFalse((hu[:-3] == 777.0).all((1, 2, 3)).any(), "and no other row is")
            self.assertFalse(y[-3:].any())
            self.assertFalse(maps[-3:].any())
            self.assertTrue(y[:n].any(1).all(), "the pairs are unchanged")

    def test_losses(self):
        import torch
        from training import pairs as PR
        from training.model import build_model
        x, y, m, n = self._check_batch(64)
        model = build_model({"widths": [8, 8, 8, 8], "num_classes": 2})
        heads = PR.make_aux_heads([8, 8, 8, 8], 2)
        logits, feats = model.forward_with_features(x)
        rank, dense = PR.pair_losses(logits, feats, heads, y, m, n)
        self.assertTrue(torch.isfinite(rank) and torch.isfinite(dense))
        (rank + dense).backward()
        self.assertIsNotNone(heads["layer2"].weight.grad)
        # the rank loss is a function of the difference only: shifting both logits changes nothing
        fake = torch.zeros(2 * n + 1, 2)
        fake[:n] = 2.0
        r1, _ = PR.pair_losses(fake, {}, {}, y[:2 * n + 1], m[:2 * n + 1], n)
        r2, _ = PR.pair_losses(fake + 5.0, {}, {}, y[:2 * n + 1], m[:2 * n + 1], n)
        self.assertAlmostEqual(float(r1), float(r2), places=5)
        self.assertLess(float(r1), float(torch.nn.functional.softplus(torch.tensor(0.0))))

    def test_head_warm_up_leaves_the_network_exactly_as_it_was(self):
        import copy
        import torch
        from training import pairs as PR
        from training.model import build_model
        torch.manual_seed(1)
        x, y, m, n = self._check_batch(64)
        model = build_model({"widths": [8, 8, 8, 8], "num_classes": 2})
        heads = PR.make_aux_heads([8, 8, 8, 8], 2)
        opt = torch.optim.AdamW([{"params": list(model.parameters())}, {"params": list(heads.parameters())}], lr=1e-2)
        with torch.no_grad():
            _, f = model.eval().forward_with_features(x)
            first = float(PR.pair_losses(torch.zeros(len(y), 2), f, heads, y, m, n)[1])
        model.train()  # as a continuation is when the warm-up starts: it must not update batch-norm either
        before = copy.deepcopy(model.state_dict())
        heads_before = copy.deepcopy(heads.state_dict())
        last = PR.warm_up_aux_heads(model, heads, opt, lambda: (x, y, m, n), 40, 1e-2)
        for k, v in model.state_dict().items():
            self.assertTrue(torch.equal(v, before[k]), k)
        self.assertTrue(all(len(opt.state[p]) == 0 for p in model.parameters()), "no optimiser state for the network")
        self.assertFalse(torch.equal(heads.state_dict()["layer2.weight"], heads_before["layer2.weight"]))
        self.assertLess(last, first)


if __name__ == "__main__":
    unittest.main()
