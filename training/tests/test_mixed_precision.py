"""``train.py --amp bf16``: the training steps run their convolutions in bfloat16 (autocast), the
network and its batches in channels-last layout, while everything that leaves the run stays float32:
the checkpoint's weights, the validation scores (so selection and thresholds are the ones the
float32 ONNX model reproduces) and the card, which records the precision. Runs the real
``train.main`` on the stand-in phantom (seconds)."""
from __future__ import annotations

import math
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


def _bf16_supported() -> bool:
    if not HAS_TORCH:
        return False
    import torch
    try:
        with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
            return torch.nn.functional.conv2d(torch.ones(1, 1, 3, 3), torch.ones(1, 1, 1, 1)).dtype == torch.bfloat16
    except (RuntimeError, TypeError):
        return False


@needs_torch
@unittest.skipUnless(HAS_SCIPY, NEED_SCIPY)
@unittest.skipUnless(_bf16_supported(), "this PyTorch build has no CPU bfloat16 autocast")
class MixedPrecisionSpec(unittest.TestCase):
    BASE = ["--minutes", "2", "--data-minutes", "0.5", "--train-volumes", "4", "--val-volumes", "2", "--seed", "5",
            "--steps", "3"]

    def _run(self, extra):
        """(checkpoint dict, dtypes of layer2 seen by the dense loss, Grad-CAM losses) of one run."""
        import torch
        from training import dataset as D
        from training import pairs as PR
        from training import train as T
        seen = {"layer2": [], "nhwc": [], "gradcam": [], "val_autocast": []}
        pair_losses, point_loss, predict = PR.pair_losses, T.gradcam_point_loss, T.predict

        def losses_spy(logits, feats, *a, **k):
            seen["layer2"].append(feats["layer2"].dtype)
            seen["nhwc"].append(feats["layer2"].is_contiguous(memory_format=torch.channels_last))
            return pair_losses(logits, feats, *a, **k)

        def point_spy(*a, **k):
            out = point_loss(*a, **k)
            seen["gradcam"].append(float(out))
            return out

        def predict_spy(model, hu, *a, **k):
            seen["val_autocast"].append(torch.is_autocast_cpu_enabled())
            return predict(model, hu, *a, **k)

        with tempfile.TemporaryDirectory() as d, mock.patch.dict(os.environ, {"RESIGHT_PHANTOM_STANDIN": "1"}):
            D.phantom_fingerprint.cache_clear()  # the cache key follows the phantom
            try:
                with mock.patch.object(PR, "pair_losses", losses_spy), \
                        mock.patch.object(T, "gradcam_point_loss", point_spy), \
                        mock.patch.object(T, "predict", predict_spy):
                    T.main(self.BASE + extra + ["--out", f"{d}/ck.pt", "--run-dir", f"{d}/run"])
            finally:
                D.phantom_fingerprint.cache_clear()
            return torch.load(f"{d}/ck.pt", weights_only=False), seen

    def test_bf16_runs_the_network_in_bfloat16_and_saves_float32(self):
        import torch
        from training.model import build_model
        ck, seen = self._run(["--amp", "bf16", "--dilated", "layer3,layer4", "--gradcam-loss", "0.5", "--freeze-bn",
                              "--cam-loss", "1.0"])
        self.assertEqual(set(seen["layer2"]), {torch.bfloat16})
        self.assertEqual(set(seen["nhwc"]), {True})
        self.assertTrue(seen["gradcam"] and all(math.isfinite(v) for v in seen["gradcam"]))
        self.assertTrue(any(v != 0.0 for v in seen["gradcam"]))  # the loss ran on lesion rows, not its 0 fallback
        self.assertEqual(seen["val_autocast"], [False] * len(seen["val_autocast"]))  # validation in float32
        floats = {k: v.dtype for k, v in ck["state_dict"].items() if v.is_floating_point()}
        self.assertEqual(set(floats.values()), {torch.float32})
        self.assertTrue(all(v.is_contiguous() for v in ck["state_dict"].values()))
        self.assertIn("bf16", ck["training"]["mixedPrecision"])
        self.assertEqual(ck["training"]["memoryFormat"], "channels_last")
        model = build_model(ck["arch"])
        model.load_state_dict(ck["state_dict"])
        model.eval()
        with torch.no_grad():
            logits = model(torch.zeros(1, 3, 64, 64))
        self.assertEqual(logits.dtype, torch.float32)

    def test_default_stays_float32(self):
        import torch
        ck, seen = self._run([])
        self.assertEqual(set(seen["layer2"]), {torch.float32})
        self.assertEqual(set(seen["nhwc"]), {False})
        self.assertNotIn("mixedPrecision", ck["training"])
        self.assertNotIn("memoryFormat", ck["training"])

    def test_the_head_runs_in_float32_under_autocast(self):
        """The rank loss compares lesion and twin logits that differ by a few hundredths; bfloat16's
        step at a logit of 4 is 0.03, so the pooling and fc stay float32 under autocast."""
        import torch
        import torch.nn.functional as F
        from training.model import build_model
        torch.manual_seed(0)
        net = build_model({"widths": [8, 8, 8, 8], "num_classes": 2}).eval()
        x = torch.randn(2, 3, 64, 64)
        with torch.no_grad():
            with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
                logits, feats = net.forward_with_features(x)
            # the head adds no rounding of its own: float32 pooling and fc on the same bfloat16 features
            want = F.linear(torch.flatten(net.avgpool(feats["layer4"].float()), 1), net.fc.weight, net.fc.bias)
        self.assertEqual(feats["layer4"].dtype, torch.bfloat16)
        self.assertEqual(logits.dtype, torch.float32)
        self.assertTrue(torch.allclose(logits, want, atol=1e-6), (logits, want))


if __name__ == "__main__":
    unittest.main()
