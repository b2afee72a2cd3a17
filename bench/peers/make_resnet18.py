#!/usr/bin/python3
"""A torchvision ResNet-18 (2 classes, 256x256x3, seeded random weights) as ONNX + model card +
PyTorch state dict, for `resight bench --suite inference --model <dir>/resnet18.card.json`.

The default model is small (0.35 GFLOP/slice), so on a 2-core machine decoding and preprocessing
cost about as much CPU as the network. The issue's targets were set for a ResNet-18 (about
4.7 GFLOP/slice): this makes one, so the pipeline's overhead can be measured at that size, with
PyTorch running the very same weights (the card's "torchPeer" entry tells the bench how).
Not a trained model: the weights are random and the outputs mean nothing.

  /usr/bin/python3 bench/peers/make_resnet18.py --out /tmp/resnet18
"""
import argparse
import hashlib
import json
from pathlib import Path

import torch
import torchvision

REPO = Path(__file__).resolve().parents[2]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(args.seed)
    net = torchvision.models.resnet18(num_classes=2).eval()
    torch.save(net.state_dict(), out / "resnet18.pt")
    torch.onnx.export(net, torch.zeros(1, 3, 256, 256), str(out / "resnet18.onnx"), input_names=["input"],
                      output_names=["logits"], dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}}, opset_version=17)
    # The default model's card gives the input definition (windows, resize, normalization).
    card = json.loads((REPO / "resources/models/resight-ct-lesion.card.json").read_text())
    card.update({
        "name": "resnet18-random", "version": f"seed-{args.seed}",
        "description": "torchvision ResNet-18 with random weights: a benchmark load, not a model",
        "onnx": {"file": "resnet18.onnx", "sha256": hashlib.sha256((out / "resnet18.onnx").read_bytes()).hexdigest()},
        "torchPeer": {"torchvision": "resnet18", "stateDict": "resnet18.pt"},
    })
    card["architecture"] = {"family": "resnet", "block": "BasicBlock", "layers": [2, 2, 2, 2], "widths": [64, 128, 256, 512]}
    card["outputs"].pop("probabilities", None)
    card["cam"] = {"defaultLayer": "layer4", "layers": ["layer4"]}
    for k in ("training", "metrics"):
        card.pop(k, None)
    (out / "resnet18.card.json").write_text(json.dumps(card, indent=2))
    print(out / "resnet18.card.json")


if __name__ == "__main__":
    main()
