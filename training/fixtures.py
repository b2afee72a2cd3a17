"""Write two tiny, seeded, random-weight ResNet fixture models for the TypeScript tests.

    /usr/bin/python3 -m training.fixtures            # -> test/fixtures/models/

Same I/O conventions as the default model (input "input" [N,3,96,96] float32 with the same
preprocessing; outputs "logits" and "probabilities" = sigmoid(logits); stage outputs renamed
to layer1..layer4; opset 17, dynamic batch) plus a card each:

* ``resnet-basic-tiny``: BasicBlock, layers [2,2,2,2], widths [8,16,32,64], 2 classes
  (lung_nodule, liver_lesion); BatchNorm folded into Conv (like the default model).
* ``resnet-bottleneck-tiny``: Bottleneck, layers [3,4,6,3] (the ResNet-50 layout), widths
  [8,16,32,64] (x4 expansion), 3 classes (nodule, mass, cyst: a user-style model with other
  class names and count); BatchNorm kept as BatchNormalization nodes, to exercise that path.

Weights: kaiming init from a fixed seed, then BatchNorm affine parameters and running
statistics randomised (so folding is not a no-op), residual branches damped and the head
scaled so logits are of order 1 -- deterministic for a given torch version.
golden.py rebuilds the same PyTorch modules with ``build_fixture`` and checks them against the
ONNX files on disk.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

FIXTURES_DIR = REPO / "test" / "fixtures" / "models"
FIXTURE_SIZE = 96
FIXTURES = {
    "resnet-basic-tiny": {"seed": 101, "fold_bn": True, "classes": ["lung_nodule", "liver_lesion"],
                          "arch": {"block": "basic", "layers": [2, 2, 2, 2], "widths": [8, 16, 32, 64],
                                   "dropout": 0.0}},
    "resnet-bottleneck-tiny": {"seed": 202, "fold_bn": False, "classes": ["nodule", "mass", "cyst"],
                               "arch": {"block": "bottleneck", "layers": [3, 4, 6, 3], "widths": [8, 16, 32, 64],
                                        "dropout": 0.0}},
}


def build_fixture(name: str):
    import torch
    from training.model import NarrowResNet
    spec = FIXTURES[name]
    g = torch.manual_seed(spec["seed"])
    arch = dict(spec["arch"], num_classes=len(spec["classes"]))
    net = NarrowResNet(block=arch["block"], layers=arch["layers"], widths=arch["widths"],
                       num_classes=arch["num_classes"], dropout=0.0, zero_init_residual=False)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.6, 1.4, generator=g)
                m.bias.uniform_(-0.1, 0.1, generator=g)
                m.running_mean.uniform_(-0.1, 0.1, generator=g)
                m.running_var.uniform_(0.7, 1.5, generator=g)
        # keep residual branches modest so activations do not blow up through the stages
        for m in net.modules():
            last_bn = getattr(m, "bn3", None) or (getattr(m, "bn2", None) if hasattr(m, "conv2") and not hasattr(m, "conv3") else None)
            if last_bn is not None and m is not net:
                last_bn.weight.mul_(0.25)
        # calibrate the head so logits are of order 1 (probabilities not saturated)
        net.eval()
        x = torch.rand(8, 3, FIXTURE_SIZE, FIXTURE_SIZE, generator=g) * 2 - 1
        logits = net(x)
        net.fc.weight.mul_(1.5 / float(logits.std().clamp_min(1e-6)))
        net.fc.bias.copy_(-(net(x).mean(0)) + torch.linspace(-0.5, 0.5, logits.shape[1]))
    return net.eval(), arch, spec


def write_fixture(name: str, out_dir: Path = FIXTURES_DIR) -> dict:
    import onnx
    from training.export import build_card, to_onnx, write_json
    net, arch, spec = build_fixture(name)
    out_dir.mkdir(parents=True, exist_ok=True)
    model = to_onnx(net, FIXTURE_SIZE, spec["classes"], fold_bn=spec["fold_bn"])
    onnx_path = out_dir / f"{name}.onnx"
    onnx.save(model, str(onnx_path))
    card = build_card(
        name=name, version="0.0.1", onnx_path=onnx_path, model=model, arch=arch, classes=spec["classes"],
        size=FIXTURE_SIZE, thresholds={c: 0.5 for c in spec["classes"]},
        threshold_method="fixed 0.5 (test fixture, random weights)",
        training={"data": "none: random weights from a fixed seed (test fixture)", "seed": spec["seed"],
                  "command": "/usr/bin/python3 -m training.fixtures"},
        metrics={"status": "test fixture with random weights: no metrics"},
        n_params=sum(p.numel() for p in net.parameters()),
        description=f"Test fixture ({name}): random-weight ResNet with the ReSight I/O conventions.",
        intended_use="Automated tests of the ReSight inference and explain engines only. Outputs are meaningless.")
    write_json(out_dir / f"{name}.card.json", card)
    print(f"wrote {onnx_path} ({onnx_path.stat().st_size} bytes, ops {card['architecture']['opTypes']})")
    return card


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out-dir", default=str(FIXTURES_DIR))
    args = ap.parse_args(argv)
    for name in FIXTURES:
        write_fixture(name, Path(args.out_dir))


if __name__ == "__main__":
    main()
