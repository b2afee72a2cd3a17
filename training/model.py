"""ResNet lesion classifier (torchvision ResNet with configurable widths).

Layer names are torchvision's (conv1, bn1, relu, maxpool, layer1..layer4, avgpool, fc), so
the exported ONNX has node scopes /layer1/..., which ``export.rename_stage_outputs`` uses to
name the stage outputs ``layer1``..``layer4``.
"""
from __future__ import annotations

from typing import Dict, List, Sequence

import torch
import torch.nn as nn
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet

CLASSES = ["lung_nodule", "liver_lesion"]
DEFAULT_WIDTHS = (32, 64, 128, 256)
DEFAULT_LAYERS = (2, 2, 2, 2)
STAGES = ("layer1", "layer2", "layer3", "layer4")

_BLOCKS = {"basic": BasicBlock, "bottleneck": Bottleneck}


class NarrowResNet(ResNet):
    """torchvision ResNet with stage widths ``widths`` instead of (64, 128, 256, 512).

    Re-implements ``ResNet.__init__`` with the widths as parameters (the torchvision
    constructor hard-codes them) and reuses ``ResNet._make_layer``/``forward``; adds an
    optional dropout before ``fc``.
    """

    def __init__(self, block: str = "basic", layers: Sequence[int] = DEFAULT_LAYERS,
                 widths: Sequence[int] = DEFAULT_WIDTHS, num_classes: int = 2,
                 dropout: float = 0.0, zero_init_residual: bool = True):
        nn.Module.__init__(self)
        blk = _BLOCKS[block]
        self.arch = {"block": block, "layers": list(layers), "widths": list(widths),
                     "num_classes": num_classes, "dropout": dropout}
        self._norm_layer = nn.BatchNorm2d
        self.inplanes = widths[0]
        self.dilation = 1
        self.groups = 1
        self.base_width = 64
        self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(blk, widths[0], layers[0])
        self.layer2 = self._make_layer(blk, widths[1], layers[1], stride=2)
        self.layer3 = self._make_layer(blk, widths[2], layers[2], stride=2)
        self.layer4 = self._make_layer(blk, widths[3], layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(p=dropout) if dropout > 0 else nn.Identity()
        self.fc = nn.Linear(widths[3] * blk.expansion, num_classes)

        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, Bottleneck) and m.bn3.weight is not None:
                    nn.init.constant_(m.bn3.weight, 0)
                elif isinstance(m, BasicBlock) and m.bn2.weight is not None:
                    nn.init.constant_(m.bn2.weight, 0)

    def features(self, x: torch.Tensor) -> Dict[str, torch.Tensor]:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        out = {}
        for name in STAGES:
            x = getattr(self, name)(x)
            out[name] = x
        return out

    def forward_with_features(self, x: torch.Tensor):
        """(logits, {"layer1": A1, ..., "layer4": A4}) -- the stage outputs, for Grad-CAM."""
        feats = self.features(x)
        h = torch.flatten(self.avgpool(feats["layer4"]), 1)
        return self.fc(self.dropout(h)), feats

    def _forward_impl(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)
        x = self.bn1(x)
        x = self.relu(x)
        x = self.maxpool(x)
        x = self.layer1(x)
        x = self.layer2(x)
        x = self.layer3(x)
        x = self.layer4(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        x = self.dropout(x)
        return self.fc(x)


class WithProbabilities(nn.Module):
    """Export wrapper: returns (logits, sigmoid(logits))."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, x):
        logits = self.net(x)
        return logits, torch.sigmoid(logits)


def build_model(arch: dict | None = None) -> NarrowResNet:
    arch = dict(arch or {})
    return NarrowResNet(block=arch.get("block", "basic"), layers=arch.get("layers", DEFAULT_LAYERS),
                        widths=arch.get("widths", DEFAULT_WIDTHS),
                        num_classes=arch.get("num_classes", len(CLASSES)),
                        dropout=arch.get("dropout", 0.0))


def arch_description(arch: dict) -> str:
    blk = "BasicBlock" if arch.get("block", "basic") == "basic" else "Bottleneck"
    return (f"torchvision-style ResNet ({blk}, layers {list(arch['layers'])}, stage widths "
            f"{list(arch['widths'])}): conv7x7/2 + BN + ReLU + maxpool3x3/2, layer1..layer4, "
            f"global average pool, dropout {arch.get('dropout', 0.0)}, fc -> {arch['num_classes']} logits")


def save_checkpoint(path, model: NarrowResNet, classes: List[str], extra: dict | None = None):
    # CPU tensors whatever device trained it, so the checkpoint loads anywhere
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    torch.save({"arch": model.arch, "classes": list(classes), "state_dict": state, **(extra or {})}, path)


def load_checkpoint_dict(path, map_location="cpu") -> dict:
    """torch.load of our own checkpoints. ``weights_only=False`` because they carry the training
    description (plain dicts/lists/numbers); torch >= 2.6 defaults to True, 1.13 to False."""
    return torch.load(path, map_location=map_location, weights_only=False)


def load_checkpoint(path, map_location="cpu"):
    ck = load_checkpoint_dict(path, map_location)
    model = build_model(ck["arch"])
    model.load_state_dict(ck["state_dict"])
    model.eval()
    return model, ck
