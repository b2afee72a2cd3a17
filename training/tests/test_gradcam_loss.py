"""The Grad-CAM pointing loss of ``train.py --gradcam-loss`` (model 2.4.0): the map it trains is
Grad-CAM exactly as the golden vectors (and so the viewer) define it, the loss is low when that
map peaks on the lesion and high when it peaks elsewhere, and it reaches the weights through the
gradients (second order)."""
from __future__ import annotations

import math
import sys
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from training.tests.needs import HAS_TORCH, needs_torch  # noqa: E402

if HAS_TORCH:
    import torch


@needs_torch
class GradCamPointingLoss(unittest.TestCase):
    def setUp(self):
        from training.model import build_model
        torch.manual_seed(3)
        self.net = build_model({"block": "basic", "layers": [1, 1, 1, 1], "widths": [8, 8, 16, 16],
                                "num_classes": 2, "dropout": 0.0, "dilated": ["layer3", "layer4"]})
        # a generic trained-looking network: the builder zero-initialises each block's last
        # batch-norm scale (residual branches start silent), which would hide the branch weights
        with torch.no_grad():
            for m in self.net.modules():
                if isinstance(m, torch.nn.BatchNorm2d):
                    m.weight.uniform_(0.5, 1.5)
                    m.bias.uniform_(-0.1, 0.1)
        self.net.eval()  # the loss needs per-row gradients: batch-norm statistics fixed (--freeze-bn)
        self.x = torch.randn(3, 3, 64, 64)

    def reference_cams(self, row: int, cls: int):
        """Grad-CAM before its ReLU by training/golden.py's definition, one slice at a time."""
        logits, feats = self.net.forward_with_features(self.x[row:row + 1])
        (g,) = torch.autograd.grad(logits[0, cls], feats["layer3"])
        return (g.mean((2, 3), keepdim=True) * feats["layer3"]).sum(1)[0].detach()

    def loss(self, maps, y, n):
        from training.train import gradcam_point_loss
        logits, feats = self.net.forward_with_features(self.x)
        return gradcam_point_loss(logits, feats["layer3"], maps, y, n)

    def test_the_loss_is_the_softmax_cross_entropy_of_the_golden_grad_cam(self):
        y = torch.tensor([[1.0, 0.0], [0.0, 0.0], [0.0, 0.0]])  # one lesion row (class 0)
        maps = torch.zeros(3, 1, 16, 16)
        maps[0, 0, 4:8, 6:10] = 1.0  # the footprint at 4 px per cell -> layer3 cells 2-3 x 3-4
        cam = self.reference_cams(0, 0)
        s = 8.0 * cam / cam.abs().max()
        target = torch.zeros(8, 8, dtype=torch.bool)
        target[2:4, 3:5] = True
        want = float(torch.logsumexp(s.flatten(), 0) - torch.logsumexp(s[target], 0))
        got = float(self.loss(maps, y, n=1))
        self.assertAlmostEqual(got, want, places=4)

    def test_low_when_the_map_peaks_on_the_lesion_high_elsewhere(self):
        y = torch.tensor([[1.0, 0.0], [0.0, 0.0], [0.0, 0.0]])
        cam = self.reference_cams(0, 0)
        peak = int(torch.argmax(cam))
        low = int(torch.argmin(cam))
        losses = []
        for cell in (peak, low):
            maps = torch.zeros(3, 1, 16, 16)
            r, c = divmod(cell, 8)
            maps[0, 0, 2 * r:2 * r + 2, 2 * c:2 * c + 2] = 1.0
            losses.append(float(self.loss(maps, y, n=1)))
        self.assertLess(losses[0], math.log(64))  # better than a uniform map
        self.assertGreater(losses[1], losses[0] + 1.0)

    def test_reaches_the_weights_through_the_gradients(self):
        y = torch.tensor([[0.0, 1.0], [1.0, 1.0], [0.0, 0.0]])
        maps = torch.zeros(3, 1, 16, 16)
        maps[:2, 0, 6:10, 6:10] = 1.0
        self.net.zero_grad()
        self.loss(maps, y, n=2).backward()
        # fc.weight enters Grad-CAM only through alpha = dlogit/dA: a gradient there is second order
        self.assertGreater(float(self.net.fc.weight.grad.abs().sum()), 0.0)
        self.assertGreater(float(self.net.layer4[0].conv1.weight.grad.abs().sum()), 0.0)

    def test_no_lesion_rows_or_no_footprint_give_zero(self):
        maps = torch.zeros(3, 1, 16, 16)
        self.assertEqual(float(self.loss(maps, torch.zeros(3, 2), n=1)), 0.0)
        self.assertEqual(float(self.loss(maps, torch.tensor([[1.0, 0.0], [0.0, 0.0], [0.0, 0.0]]), n=1)), 0.0)


if __name__ == "__main__":
    unittest.main()
