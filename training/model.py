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
                 dropout: float = 0.0, zero_init_residual: bool = True,
                 dilated: Sequence[str] = ()):
        nn.Module.__init__(self)
        blk = _BLOCKS[block]
        asked = list(dilated)
        dilated = [s for s in STAGES if s in set(asked)]
        if any(s not in STAGES[1:] for s in asked) or (dilated and dilated != list(STAGES[-len(dilated):])):
            raise ValueError(f"dilated stages must be a tail of layer2..layer4, got {asked}")
        self.arch = {"block": block, "layers": list(layers), "widths": list(widths),
                     "num_classes": num_classes, "dropout": dropout}
        if dilated:
            self.arch["dilated"] = dilated
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
        d = 1
        for name in dilated:
            dilate_stage(getattr(self, name), d, 2 * d)
            d *= 2
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
        a4 = feats["layer4"]
        # pooling and fc in float32 even under mixed precision (train.py --amp): bfloat16 keeps about
        # 3 significant digits, too few for the rank loss's small lesion-vs-twin logit differences
        with torch.autocast(device_type=a4.device.type, enabled=False):
            h = torch.flatten(self.avgpool(a4.float()), 1)
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


def _set_conv(conv: nn.Conv2d, stride: int, dilation: int) -> None:
    conv.stride = (stride, stride)
    conv.dilation = (dilation, dilation)
    k = conv.kernel_size[0]
    conv.padding = (dilation * (k - 1) // 2,) * 2


def dilate_stage(stage: nn.Sequential, before: int, after: int) -> None:
    """Replace a stage's stride 2 by dilation (the "a trous" trick, torchvision's
    ``replace_stride_with_dilation``, which torchvision's BasicBlock refuses).

    Done by editing the convolutions' stride/dilation/padding in place, so the parameters and
    the state-dict keys are those of the strided network: the dilated stage computes the strided
    stage's output at every position instead of every other one (exactly, at the even
    positions), so trained weights carry over unchanged and the stage's map is 2x finer per axis.
    Why: Grad-CAM's resolution is the CAM layer's grid (see training/README.md)."""
    for i, block in enumerate(stage):
        first = i == 0
        if isinstance(block, BasicBlock):
            # the stride-2 conv keeps the dilation of the grid it reads; the convs after it
            # read the (now dense) downsampled grid, so they are dilated by the new factor
            _set_conv(block.conv1, 1, before if first else after)
            _set_conv(block.conv2, 1, after)
        else:
            _set_conv(block.conv2, 1, before if first else after)
        if block.downsample is not None:
            block.downsample[0].stride = (1, 1)


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
                        dropout=arch.get("dropout", 0.0), dilated=arch.get("dilated", ()))


def arch_description(arch: dict) -> str:
    blk = "BasicBlock" if arch.get("block", "basic") == "basic" else "Bottleneck"
    return (f"torchvision-style ResNet ({blk}, layers {list(arch['layers'])}, stage widths "
            f"{list(arch['widths'])}): conv7x7/2 + BN + ReLU + maxpool3x3/2, layer1..layer4, "
            + (f"stride 2 of {', '.join(arch['dilated'])} replaced by dilation (output stride "
               f"{32 // 2 ** len(arch['dilated'])}), " if arch.get("dilated") else "")
            + f"global average pool, dropout {arch.get('dropout', 0.0)}, fc -> {arch['num_classes']} logits")


def save_checkpoint(path, model: NarrowResNet, classes: List[str], extra: dict | None = None):
    # CPU tensors whatever device trained it, so the checkpoint loads anywhere
    # and contiguous (a channels-last run, train.py --amp, holds its weights in NHWC strides)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    torch.save({"arch": model.arch, "classes": list(classes), "state_dict": state, **(extra or {})}, path)


def checkpoint_extra(ck: dict) -> dict:
    """Everything a checkpoint carries besides its weights and shape (version, thresholds, training
    record, ...): what a tool that rewrites a checkpoint passes on to ``save_checkpoint``."""
    return {k: v for k, v in ck.items() if k not in ("arch", "classes", "state_dict")}


def load_checkpoint_dict(path, map_location="cpu") -> dict:
    """torch.load of our own checkpoints. ``weights_only=False`` because they carry the training
    description (plain dicts/lists/numbers); torch >= 2.6 defaults to True, 1.13 to False."""
    return torch.load(path, map_location=map_location, weights_only=False)


def require_input_size(ck: dict, path) -> None:
    """SystemExit unless checkpoint ``ck`` was trained at this process's input size."""
    from training import preprocess as P
    size = int(ck.get("input_size", 256))
    if size != P.INPUT_SIZE:
        raise SystemExit(f"{path}: trained at a {size}x{size} input, but this process preprocesses at "
                         f"{P.INPUT_SIZE}x{P.INPUT_SIZE}; run it with RESIGHT_INPUT_SIZE={size}")


def load_checkpoint(path, map_location="cpu", check_input_size: bool = True):
    """(model in eval mode, checkpoint dict). ``check_input_size``: refuse a checkpoint trained at
    another input size than this process preprocesses at (``preprocess.INPUT_SIZE``, set by
    RESIGHT_INPUT_SIZE): a ResNet with global pooling takes any size, so the mismatch would not
    fail, it would measure the wrong thing. Tools that read the size from the checkpoint
    themselves (export, finetune) pass False."""
    ck = load_checkpoint_dict(path, map_location)
    if check_input_size:
        require_input_size(ck, path)
    model = build_model(ck["arch"])
    model.load_state_dict(ck["state_dict"])
    model.eval()
    return model, ck
