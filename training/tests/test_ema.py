"""``train.py --ema``: the weight average follows shadow = d * shadow + (1 - d) * weights after
each step, for parameters and floating buffers alike; integer buffers are copied; ``swap`` puts
the average into the model and hands back the live weights unchanged."""
from __future__ import annotations

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
class WeightEmaSpec(unittest.TestCase):
    def setUp(self):
        torch.manual_seed(0)
        self.net = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3), torch.nn.BatchNorm2d(3))

    def test_average_follows_the_recurrence(self):
        from training.train import WeightEMA
        ema = WeightEMA(self.net, 0.9)
        w0 = self.net[0].weight.detach().clone()
        expect = w0.clone()
        for i in range(3):
            with torch.no_grad():
                self.net[0].weight.add_(1.0 + i)
                self.net[1].running_mean.add_(2.0)
                self.net[1].num_batches_tracked.add_(5)
            ema.update(self.net)
            expect = 0.9 * expect + 0.1 * self.net[0].weight.detach()
        torch.testing.assert_close(ema.shadow["0.weight"], expect)
        # running mean went 0 -> 2 -> 4 -> 6: 0.1*(2*0.81 + 4*0.9 + 6) = 1.122
        torch.testing.assert_close(ema.shadow["1.running_mean"], torch.full((3,), 1.122))
        self.assertEqual(int(ema.shadow["1.num_batches_tracked"]), 15)  # copied, not averaged
        self.assertFalse(torch.allclose(ema.shadow["0.weight"], self.net[0].weight))

    def test_swap_installs_the_average_and_returns_the_live_weights(self):
        from training.train import WeightEMA
        ema = WeightEMA(self.net, 0.5)
        with torch.no_grad():
            self.net[0].weight.mul_(3.0)
        live_w = self.net[0].weight.detach().clone()
        ema.update(self.net)
        live = ema.swap(self.net)
        torch.testing.assert_close(self.net[0].weight.detach(), ema.shadow["0.weight"])
        torch.testing.assert_close(live["0.weight"], live_w)
        self.net.load_state_dict(live)
        torch.testing.assert_close(self.net[0].weight.detach(), live_w)

    def test_rejects_a_decay_outside_the_open_interval(self):
        from training.train import WeightEMA
        for d in (0.0, 1.0, -0.5):
            with self.assertRaises(ValueError):
                WeightEMA(self.net, d)


if __name__ == "__main__":
    unittest.main()
