"""The head probe (training.head_probe) fits a head per pooling and scores each on its own
columns: evidence that only one pooling carries is found there and nowhere else, and the pooled
features come in the documented order (average, max, local max)."""
from __future__ import annotations

import sys
import unittest
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from training.tests.needs import needs_torch  # noqa: E402


@needs_torch
class HeadProbe(unittest.TestCase):
    def split(self, rng, n, width):
        y = (rng.random((n, 2)) < 0.3).astype(np.uint8)
        x = rng.normal(size=(n, 3 * width)).astype(np.float32)
        x[:, width + 1] += 3.0 * y[:, 0]      # class 0: only in the max-pooled block
        x[:, 2 * width + 2] += 3.0 * y[:, 1]  # class 1: only in the local-max block
        return x, y

    def test_evidence_is_found_in_the_pooling_that_carries_it_and_only_there(self):
        from training.head_probe import probe
        rng = np.random.default_rng(3)
        width = 8
        r = probe(self.split(rng, 600, width), self.split(rng, 300, width), self.split(rng, 300, width), width)
        self.assertEqual(set(r), {"gap", "gmp", "local-max", "gap+gmp"})
        self.assertGreater(r["gmp"]["test"][0], 0.95)
        self.assertLess(abs(r["gap"]["test"][0] - 0.5), 0.1, "the average-pooled block knows nothing of class 0")
        self.assertGreater(r["local-max"]["test"][1], 0.95)
        self.assertLess(abs(r["gmp"]["test"][1] - 0.5), 0.1)
        self.assertGreater(r["gap+gmp"]["test"][0], 0.95)

    def test_pooled_features_are_average_max_and_local_max_of_layer4(self):
        import torch
        from training.head_probe import pooled_features
        from training.model import build_model
        torch.manual_seed(0)
        net = build_model({"widths": [4, 4, 4, 8], "layers": [1, 1, 1, 1]}).eval()
        hu = (np.random.default_rng(1).normal(size=(3, 64, 64)) * 300).astype(np.float16)
        f = pooled_features(net, hu, batch=2)
        self.assertEqual(f.shape, (3, 24))
        from training import dataset as D
        with torch.no_grad():
            a4 = net.features(D.windowed(hu))["layer4"]
        np.testing.assert_allclose(f[:, :8], a4.mean(dim=(2, 3)).numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(f[:, 8:16], a4.amax(dim=(2, 3)).numpy(), rtol=1e-5, atol=1e-6)
        local = torch.amax(torch.nn.functional.avg_pool2d(a4, 3, 1, 1), dim=(2, 3)).numpy()
        np.testing.assert_allclose(f[:, 16:], local, rtol=1e-5, atol=1e-6)


if __name__ == "__main__":
    unittest.main()
