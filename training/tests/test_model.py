"""Unit tests for the model pipeline (preprocessing, model, export, card, fine-tuning).

    /usr/bin/python3 -m unittest training.tests.test_model -v

Needs Debian's python3-torch, python3-torchvision, python3-onnx, python3-scipy (and
python3-pydicom for the DICOM part of the fine-tuning test); tests that need a missing package
are skipped with a message saying which.
"""
from __future__ import annotations

import csv
import json
import sys
import tempfile
import unittest
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from training import preprocess as P  # noqa: E402

from training.tests.needs import (HAS_ONNX, HAS_PYDICOM, HAS_SCIPY, HAS_TORCH, NEED_ONNX,  # noqa: E402,F401
                                  NEED_SCIPY, NEED_TORCH)


def _slow_reference(hu, out_h, out_w):
    """Literal per-pixel implementation of the documented formula (independent of numpy tricks)."""
    h, w = hu.shape
    x = np.where(np.isfinite(hu), hu, -1024.0).astype(np.float64)
    out = np.zeros((3, out_h, out_w), np.float64)
    for r in range(out_h):
        sy = min(max((r + 0.5) * h / out_h - 0.5, 0.0), h - 1)
        y0 = int(np.floor(sy)); y1 = min(y0 + 1, h - 1); ty = sy - y0
        for c in range(out_w):
            sx = min(max((c + 0.5) * w / out_w - 0.5, 0.0), w - 1)
            x0 = int(np.floor(sx)); x1 = min(x0 + 1, w - 1); tx = sx - x0
            v = (1 - ty) * ((1 - tx) * x[y0, x0] + tx * x[y0, x1]) + ty * ((1 - tx) * x[y1, x0] + tx * x[y1, x1])
            for k, (_, lvl, wid) in enumerate(P.WINDOWS):
                cc = min(max((v - (lvl - wid / 2)) / wid, 0.0), 1.0)
                out[k, r, c] = (cc - 0.5) / 0.5
    return out


class TestPreprocessNumpy(unittest.TestCase):
    def test_formula_matches_literal_reference(self):
        rng = np.random.default_rng(0)
        for shape in ((13, 9), (5, 21)):
            hu = rng.uniform(-1200, 1500, shape).astype(np.float32)
            hu[1, 2] = np.nan
            got = P.preprocess_slice(hu, size=16)
            np.testing.assert_allclose(got, _slow_reference(hu, 16, 16), atol=1e-6)

    def test_windows_and_padding(self):
        hu = np.array([[-1024.0, 40.0], [np.nan, 3000.0]], np.float32)
        pad = np.array([[False, False], [False, True]])
        x = P.window_np(P.fill_padding(hu, pad))
        # -1024 (and the padded/NaN pixels) in the lung window: (-1024 - (-1350)) / 1500
        np.testing.assert_allclose(x[0, 0, 0], ((-1024 + 1350) / 1500 - 0.5) / 0.5, atol=1e-6)
        np.testing.assert_allclose(x[:, 1, 0], x[:, 0, 0])
        np.testing.assert_allclose(x[:, 1, 1], x[:, 0, 0])
        np.testing.assert_allclose(x[1, 0, 1], 0.0, atol=1e-6)  # 40 HU is the soft-tissue level
        self.assertTrue(np.all(x >= -1) and np.all(x <= 1))
        self.assertEqual(P.preprocess_slice(np.zeros((512, 512))).shape, (3, 256, 256))

    def test_card_section(self):
        sec = P.card_input_section()
        self.assertEqual(sec["shape"], ["N", 3, 256, 256])
        self.assertEqual([(c["window"]["level"], c["window"]["width"]) for c in sec["channels"]],
                         [(-600.0, 1500.0), (40.0, 400.0), (90.0, 150.0)])
        self.assertEqual(sec["padding"]["fill"], -1024.0)


@unittest.skipUnless(HAS_TORCH, NEED_TORCH)
class TestPreprocessTorch(unittest.TestCase):
    def test_numpy_equals_torch(self):
        import torch
        rng = np.random.default_rng(1)
        for shape in ((512, 512), (300, 200), (100, 130), (256, 256), (37, 600)):
            hu = rng.normal(0, 500, shape).astype(np.float32)
            hu[shape[0] // 3, :5] = np.nan
            hu[-1, -1] = np.inf
            a = P.preprocess_slice(hu)
            b = P.preprocess_torch(torch.from_numpy(hu)[None, None])[0].numpy()
            self.assertEqual(b.dtype, np.float32)
            np.testing.assert_allclose(a, b, atol=1e-5, err_msg=str(shape))

    def test_window_jitter_identity(self):
        import torch
        hu = torch.linspace(-1100, 400, 64).reshape(1, 1, 8, 8)
        lv = torch.tensor([[w[1] for w in P.WINDOWS]])
        wd = torch.tensor([[w[2] for w in P.WINDOWS]])
        torch.testing.assert_close(P.window_torch(hu, lv, wd), P.window_torch(hu))


@unittest.skipUnless(HAS_TORCH, NEED_TORCH)
class TestModel(unittest.TestCase):
    def test_shapes_and_layer_names(self):
        import torch
        from training.model import build_model
        net = build_model().eval()
        names = [n for n, _ in net.named_children()]
        for n in ("conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool", "fc"):
            self.assertIn(n, names)
        x = torch.zeros(2, 3, 256, 256)
        with torch.no_grad():
            logits, feats = net.forward_with_features(x)
            self.assertEqual(tuple(net(x).shape), (2, 2))
        self.assertEqual(tuple(logits.shape), (2, 2))
        w = net.arch["widths"]
        self.assertEqual(tuple(feats["layer1"].shape), (2, w[0], 64, 64))
        self.assertEqual(tuple(feats["layer4"].shape), (2, w[3], 8, 8))

    def test_bottleneck(self):
        import torch
        from torchvision.models.resnet import Bottleneck
        from training.model import NarrowResNet
        net = NarrowResNet("bottleneck", [3, 4, 6, 3], [8, 16, 32, 64], num_classes=3).eval()
        self.assertIsInstance(net.layer1[0], Bottleneck)
        with torch.no_grad():
            self.assertEqual(tuple(net(torch.zeros(1, 3, 64, 64)).shape), (1, 3))

    def test_dilated_stages_compute_the_strided_network_densely(self):
        """The "a trous" identity the dilated default model rests on: same parameters (so
        undilated weights load unchanged), maps 2x finer per dilated stage, and at the positions
        the strided network computes, the same values."""
        import torch
        from training.model import build_model
        torch.manual_seed(0)
        x = torch.randn(2, 3, 96, 96)
        for block, layers in (("basic", [2, 2, 2, 2]), ("bottleneck", [3, 4, 6, 3])):
            base = build_model({"block": block, "layers": layers, "widths": [8, 16, 16, 24]}).eval()
            for m in base.modules():  # BN with non-trivial statistics, so the check is not about zeros
                if isinstance(m, torch.nn.BatchNorm2d):
                    m.running_mean.uniform_(-0.2, 0.2), m.running_var.uniform_(0.5, 1.5)
                    m.weight.data.uniform_(0.5, 1.5)
            for dilated, step in ((["layer4"], {"layer4": 2}), (["layer3", "layer4"], {"layer3": 2, "layer4": 4}),
                                  (["layer2", "layer3", "layer4"], {"layer2": 2, "layer3": 4, "layer4": 8})):
                with self.subTest(block=block, dilated=dilated):
                    net = build_model({**base.arch, "dilated": dilated}).eval()
                    self.assertEqual(net.arch["dilated"], dilated)
                    net.load_state_dict(base.state_dict())  # strict: identical keys and shapes
                    with torch.no_grad():
                        _, f0 = base.forward_with_features(x)
                        _, f1 = net.forward_with_features(x)
                    for name, s in step.items():
                        self.assertEqual(f1[name].shape[-1], f0[name].shape[-1] * s, name)
                        dense = f1[name][..., ::s, ::s]
                        scale = float(f0[name].abs().max())
                        torch.testing.assert_close(dense, f0[name], atol=1e-5 * scale, rtol=1e-4)

    def test_dilated_must_be_a_tail_of_the_stages(self):
        from training.model import build_model
        for bad in (["layer1"], ["layer3"], ["layer2", "layer4"], ["layer5"]):
            with self.assertRaises(ValueError, msg=bad):
                build_model({"dilated": bad})

    def test_augment_shapes(self):
        import torch
        from training.dataset import augment_batch
        g = torch.Generator().manual_seed(0)
        x = augment_batch(torch.full((4, 1, 64, 64), 40.0), g)
        self.assertEqual(tuple(x.shape), (4, 3, 64, 64))
        self.assertTrue(bool((x >= -1).all() and (x <= 1).all()))


def _tiny_checkpoint(path, size=64, classes=("lung_nodule", "liver_lesion")):
    import torch
    from training.model import build_model, save_checkpoint
    torch.manual_seed(0)
    net = build_model({"widths": [8, 16, 32, 64], "num_classes": len(classes), "dropout": 0.2})
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            with torch.no_grad():
                m.weight.uniform_(0.5, 1.5)
                m.running_var.uniform_(0.5, 2.0)
    save_checkpoint(path, net, list(classes), {"input_size": size, "thresholds": {c: 0.4 for c in classes},
                                                "threshold_method": "test"})
    return net


class TestInputSize(unittest.TestCase):
    def test_environment_sets_the_input_size_for_the_whole_pipeline(self):
        import os
        import subprocess
        code = ("from training import preprocess as P, dataset as D; "
                "print(P.INPUT_SIZE, D.MAP_SIZE, P.card_input_section()['shape'][2:], "
                "P.preprocess_slice(__import__('numpy').zeros((300, 200))).shape, D.cache_key(24, 8))")
        env = {**os.environ, "RESIGHT_INPUT_SIZE": "96"}
        out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
                             check=True).stdout.split()
        self.assertEqual(out[:6], ["96", "24", "[96,", "96]", "(3,", "96,"])
        self.assertTrue(out[-1].endswith("_s96_p24_n8"), out[-1])  # its own dataset cache

    @unittest.skipUnless(HAS_TORCH, NEED_TORCH)
    def test_a_checkpoint_is_only_read_at_its_own_input_size(self):
        from training.model import load_checkpoint
        other = 64 if P.INPUT_SIZE != 64 else 96
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "ck.pt"
            _tiny_checkpoint(path, size=other)
            with self.assertRaises(SystemExit) as e:
                load_checkpoint(path)
            self.assertIn(f"RESIGHT_INPUT_SIZE={other}", str(e.exception))
            net, ck = load_checkpoint(path, check_input_size=False)  # export and finetune read the size themselves
            self.assertEqual(ck["input_size"], other)
            _tiny_checkpoint(path, size=P.INPUT_SIZE)
            load_checkpoint(path)


@unittest.skipUnless(HAS_TORCH, NEED_TORCH)
@unittest.skipUnless(HAS_ONNX, NEED_ONNX)
@unittest.skipUnless(HAS_SCIPY, NEED_SCIPY)
class TestExport(unittest.TestCase):
    def test_export_renames_and_ops(self):
        import onnx
        import torch
        from training import onnx_ref
        from training.export import ALLOWED_OPS, STAGES, to_onnx
        from training.model import build_model
        net = build_model({"widths": [8, 16, 32, 64]}).eval()
        for fold in (True, False):
            m = to_onnx(net, 64, ["a", "b"], fold_bn=fold)
            onnx.checker.check_model(m)
            ops = {n.op_type for n in m.graph.node}
            self.assertTrue(ops <= ALLOWED_OPS, ops - ALLOWED_OPS)
            self.assertEqual("BatchNormalization" in ops, not fold)
            self.assertEqual([i.name for i in m.graph.input], ["input"])
            self.assertEqual([o.name for o in m.graph.output], ["logits", "probabilities"])
            self.assertEqual(m.opset_import[0].version, 17)
            self.assertEqual(m.graph.input[0].type.tensor_type.shape.dim[0].dim_param, "N")
            produced = [o for n in m.graph.node for o in n.output]
            for s in STAGES:
                self.assertEqual(produced.count(s), 1, s)
                prod = next(n for n in m.graph.node if s in n.output)
                self.assertEqual(prod.op_type, "Relu")
                self.assertTrue(any(s in n.input for n in m.graph.node), f"{s} not consumed")
            x = np.random.default_rng(0).uniform(-1, 1, (2, 3, 64, 64)).astype(np.float32)
            out = onnx_ref.run(m, {"input": x}, ["logits", "probabilities", "layer4"])
            with torch.no_grad():
                logits, feats = net.forward_with_features(torch.from_numpy(x))
            np.testing.assert_allclose(out["logits"], logits.numpy(), atol=1e-4)
            np.testing.assert_allclose(out["probabilities"], torch.sigmoid(logits).numpy(), atol=1e-5)
            np.testing.assert_allclose(out["layer4"], feats["layer4"].numpy(), atol=1e-4)

    def test_export_dilated(self):
        """A dilated model exports with dilations on its Conv nodes and runs in the reference."""
        import torch
        from training import onnx_ref
        from training.export import to_onnx
        from training.model import build_model
        net = build_model({"widths": [8, 16, 32, 64], "dilated": ["layer3", "layer4"]}).eval()
        m = to_onnx(net, 64, ["a", "b"])
        dil = {tuple(a.ints) for n in m.graph.node if n.op_type == "Conv" for a in n.attribute if a.name == "dilations"}
        self.assertIn((4, 4), dil)
        x = np.random.default_rng(1).uniform(-1, 1, (1, 3, 64, 64)).astype(np.float32)
        out = onnx_ref.run(m, {"input": x}, ["logits", "layer3", "layer4"])
        with torch.no_grad():
            logits, feats = net.forward_with_features(torch.from_numpy(x))
        self.assertEqual(out["layer4"].shape[-1], 8)  # 64 / 8, not 64 / 32
        np.testing.assert_allclose(out["logits"], logits.numpy(), atol=1e-4)
        np.testing.assert_allclose(out["layer3"], feats["layer3"].numpy(), atol=1e-4)

    def test_export_checkpoint_card(self):
        from training.export import ALLOWED_OPS, export_checkpoint, sha256_file
        with tempfile.TemporaryDirectory() as d:
            ck = Path(d) / "ck.pt"
            _tiny_checkpoint(ck)
            card = export_checkpoint(ck, Path(d) / "out", name="tiny")
            onnx_path = Path(d) / "out" / "tiny.onnx"
            on_disk = json.loads((Path(d) / "out" / "tiny.card.json").read_text())
            self.assertEqual(on_disk, card)
            self.assertEqual(card["onnx"]["sha256"], sha256_file(onnx_path))
            self.assertEqual(card["input"]["shape"], ["N", 3, 64, 64])
            self.assertEqual(card["outputs"]["classes"], ["lung_nodule", "liver_lesion"])
            self.assertEqual(card["outputs"]["activation"], "sigmoid")
            self.assertEqual(card["cam"]["defaultLayer"], "layer4")
            self.assertEqual(card["cam"]["layers"], ["layer1", "layer2", "layer3", "layer4"])
            self.assertTrue(set(card["architecture"]["opTypes"]) <= ALLOWED_OPS)
            self.assertTrue(card["notForClinicalUse"])
            for key in ("name", "version", "architecture", "onnx", "input", "outputs", "cam", "modalities",
                        "training", "metrics", "intendedUse", "license"):
                self.assertIn(key, card)

    def test_committed_cards_match_their_onnx(self):
        from training.export import ALLOWED_OPS, sha256_file
        cards = list((REPO / "resources" / "models").glob("*.card.json")) + \
            list((REPO / "test" / "fixtures" / "models").glob("*.card.json"))
        if not cards:
            self.skipTest("no committed model cards yet")
        for c in cards:
            card = json.loads(c.read_text())
            onnx_path = c.parent / card["onnx"]["file"]
            self.assertEqual(card["onnx"]["sha256"], sha256_file(onnx_path), c.name)
            self.assertTrue(set(card["architecture"]["opTypes"]) <= ALLOWED_OPS, c.name)

    def test_metrics(self):
        from training.metrics import roc_auc, youden_threshold
        y = np.array([0, 0, 1, 1])
        self.assertAlmostEqual(roc_auc(y, np.array([0.1, 0.4, 0.35, 0.8])), 0.75)
        self.assertAlmostEqual(roc_auc(y, np.array([0.5, 0.5, 0.5, 0.5])), 0.5)
        t, j = youden_threshold(y, np.array([0.1, 0.2, 0.7, 0.8]))
        self.assertTrue(0.2 < t <= 0.7)
        self.assertAlmostEqual(j, 1.0)


def _phantom_slices(n_volumes=3):
    """(hu [K, H, W], labels [K, 2]) from small phantom volumes (stand-in if the real one fails)."""
    hus, labels = [], []
    try:
        from training.phantom import VolumeSpec, make_volume
        vols = [make_volume(s, VolumeSpec(slices=16, matrix=256, thickness=5.0, region="chest_abdomen",
                                          n_nodules=3, n_liver_lesions=3)) for s in range(n_volumes)]
    except Exception as e:  # the phantom is developed alongside; fall back for this smoke test
        print(f"(training.phantom unavailable for the smoke test: {e}; using the stand-in)")
        from training.tests.standin_phantom import VolumeSpec, make_volume
        vols = [make_volume(s, VolumeSpec(slices=16, rows=128, cols=128)) for s in range(n_volumes)]
    for v in vols:
        hus.append(v.hu)
        labels.append(v.slice_labels())
    return np.concatenate(hus), np.concatenate(labels)


def _write_ct(path: Path, hu: np.ndarray, k: int):
    import pydicom
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "CT"
    ds.InstanceNumber = k + 1
    ds.Rows, ds.Columns = hu.shape
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 1
    ds.RescaleIntercept = -1024
    ds.RescaleSlope = 1
    ds.PixelPaddingValue = -3000
    stored = np.clip(np.round(hu + 1024), -2000, 30000).astype(np.int16)
    stored[:2, :] = -3000
    ds.PixelData = stored.tobytes()
    ds.is_little_endian, ds.is_implicit_VR = True, False
    ds.save_as(str(path), write_like_original=False)


@unittest.skipUnless(HAS_TORCH, NEED_TORCH)
@unittest.skipUnless(HAS_ONNX, NEED_ONNX)
@unittest.skipUnless(HAS_SCIPY, NEED_SCIPY)
class TestFinetune(unittest.TestCase):
    def test_finetune_smoke(self):
        from training import finetune
        from training.export import ALLOWED_OPS, sha256_file
        hu, lab = _phantom_slices()
        with tempfile.TemporaryDirectory() as d:
            d = Path(d)
            _tiny_checkpoint(d / "base.pt", size=64)
            rows = []
            use_dicom = HAS_PYDICOM
            for k in range(len(hu)):
                sub = d / "data" / f"case{k % 6}"
                sub.mkdir(parents=True, exist_ok=True)
                if use_dicom:
                    f = sub / f"im{k:03d}.dcm"
                    _write_ct(f, hu[k], k)
                else:
                    f = sub / f"im{k:03d}.npy"
                    np.save(f, hu[k])
                # user classes: one the base knows (copied head row) and a new one
                rows.append({"path": str(f.relative_to(d / "data")), "frame": "", "liver_lesion": int(lab[k, 1]),
                             "abnormal": int(lab[k].any() or k % 5 == 0)})
            csv_path = d / "data" / "labels.csv"
            with open(csv_path, "w", newline="") as fh:
                w = csv.DictWriter(fh, fieldnames=["path", "frame", "liver_lesion", "abnormal"])
                w.writeheader()
                w.writerows(rows)
            if use_dicom:
                got, pad = finetune.read_slice_hu(d / "data" / rows[0]["path"])
                self.assertTrue(pad[:2].all() and not pad[2:].any())
                np.testing.assert_allclose(got[2:], np.round(hu[0][2:] + 1024) - 1024, atol=0.5)
            finetune.main(["--csv", str(csv_path), "--out-dir", str(d / "out"), "--name", "ft",
                           "--base", str(d / "base.pt"), "--base-card", "", "--head-epochs", "2",
                           "--full-epochs", "1", "--max-steps", "3", "--batch", "8"])
            card = json.loads((d / "out" / "ft.card.json").read_text())
            self.assertEqual(card["outputs"]["classes"], ["liver_lesion", "abnormal"])
            self.assertEqual(card["training"]["headRowsCopied"], ["liver_lesion"])
            self.assertEqual(card["onnx"]["sha256"], sha256_file(d / "out" / "ft.onnx"))
            self.assertEqual(card["input"]["shape"], ["N", 3, 64, 64])
            self.assertTrue(set(card["architecture"]["opTypes"]) <= ALLOWED_OPS)
            self.assertTrue((d / "out" / "ft.pt").exists())
            self.assertEqual(set(card["outputs"]["thresholds"]), {"liver_lesion", "abnormal"})


if __name__ == "__main__":
    unittest.main()
