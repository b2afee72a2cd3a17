"""Probe a checkpoint's layer4 features with new linear heads: is the classifier limited by its
head (or its pooling), or by its features?

Freezes the network, pools layer4 three ways (global average, the torchvision head's input;
global max; the max of a 3x3 local average) on the cached training slices (pair recipe: lesion
slices, their lesion-free twins, a few ordinary slices), every slice of the validation volumes
and every slice of the held-out test volumes, then fits a logistic-regression head per pooling
(L2 chosen on validation) and reports validation and test ROC AUC per class:

    /usr/bin/python3 -m training.head_probe [--checkpoint training/checkpoints/resight-ct-lesion.pt]

If a new head on the same features scores like the shipped one, more training of the head,
re-weighting the populations or another pooling will not move the AUC: the features must change.
About 5 minutes on a 2-core CPU when the caches exist (train.py / evaluate.py make them).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Callable, Dict, Sequence, Tuple

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from training import dataset as D  # noqa: E402
from training.metrics import per_class_auc as aucs  # noqa: E402


def pooled_features(net, hu_f16: np.ndarray, batch: int = 32, layer: str = "layer4") -> np.ndarray:
    """[M, 3*C] float32: for each slice, ``layer`` pooled by global average, global max and the max
    of a 3x3 local average (in that order)."""
    import torch
    import torch.nn.functional as F
    out = []
    with torch.no_grad():
        for i in range(0, len(hu_f16), batch):
            a4 = net.features(D.windowed(hu_f16[i:i + batch]))[layer]
            out.append(torch.cat([a4.mean(dim=(2, 3)), torch.amax(a4, dim=(2, 3)),
                                  torch.amax(F.avg_pool2d(a4, 3, 1, 1), dim=(2, 3))], 1).numpy())
    return np.concatenate(out) if out else np.zeros((0, 3 * _channels(net, layer)), np.float32)


def _channels(net, layer: str) -> int:
    """Output channels of a stage (its last block's last batch norm: bn3 in a Bottleneck, bn2 in a BasicBlock)."""
    block = getattr(net, layer)[-1]
    return (getattr(block, "bn3", None) or block.bn2).num_features


def features_of(net, shards: Sequence[Path], log=print, layer: str = "layer4") -> Tuple[np.ndarray, np.ndarray]:
    """Features and labels of every slice of the shards (one shard in memory at a time)."""
    feats, labels = [], []
    t0 = time.time()
    for k, p in enumerate(shards):
        with np.load(p) as f:
            feats.append(pooled_features(net, f["hu"], layer=layer))
            labels.append(f["labels"])
        if k % 40 == 0:
            log(f"[probe] {p.parent.name}: {k}/{len(shards)} shards, {time.time() - t0:.0f}s")
    return np.concatenate(feats), np.concatenate(labels)


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float, iters: int = 400) -> Callable[[np.ndarray], np.ndarray]:
    """A logistic-regression head per class on standardised features (L-BFGS); returns the scorer."""
    import torch
    mu, sd = x.mean(0), x.std(0) + 1e-6
    xn = torch.tensor((x - mu) / sd, dtype=torch.float32)
    yt = torch.tensor(y, dtype=torch.float32)
    w = torch.zeros(y.shape[1], x.shape[1], requires_grad=True)
    b = torch.zeros(y.shape[1], requires_grad=True)
    opt = torch.optim.LBFGS([w, b], lr=0.5, max_iter=iters, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(xn @ w.T + b, yt) + l2 * (w ** 2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    wd, bd = w.detach().numpy(), b.detach().numpy()
    return lambda z: ((z - mu) / sd) @ wd.T + bd


def probe(train: Tuple[np.ndarray, np.ndarray], val: Tuple[np.ndarray, np.ndarray], test: Tuple[np.ndarray, np.ndarray],
          width: int, l2s: Sequence[float] = (1e-4, 1e-3, 1e-2)) -> Dict[str, dict]:
    """For each pooling (and average + max together): the L2 with the best mean validation AUC, and
    that head's validation and test AUC per class."""
    cols = {"gap": np.r_[0:width], "gmp": np.r_[width:2 * width], "local-max": np.r_[2 * width:3 * width],
            "gap+gmp": np.r_[0:2 * width]}
    out: Dict[str, dict] = {}
    for name, c in cols.items():
        best = None
        for l2 in l2s:
            head = fit_logistic(train[0][:, c], train[1], l2)
            a = aucs(val[1], head(val[0][:, c]))
            if best is None or np.mean(a) > np.mean(best[1]):
                best = (l2, a, head)
        l2, a, head = best
        out[name] = {"l2": l2, "val": a, "test": aucs(test[1], head(test[0][:, c]))}
    return out


def main(argv=None) -> None:
    import torch
    from training.model import load_checkpoint
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", default=str(REPO / "training/checkpoints/resight-ct-lesion.pt"))
    ap.add_argument("--train-volumes", type=int, default=320)
    ap.add_argument("--val-volumes", type=int, default=24)
    ap.add_argument("--test-volumes", type=int, default=40)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--layer", default="layer4", help="the stage whose output is pooled (layer1..layer4); "
                    "the shipped head's row compares only at layer4")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    net, ck = load_checkpoint(args.checkpoint)
    layer = args.layer
    train = features_of(net, D.ensure_split("train", args.train_volumes, counterfactual=True), layer=layer)
    val = features_of(net, D.ensure_split("val", args.val_volumes, all_slices=True), layer=layer)
    test = features_of(net, D.ensure_split("test", args.test_volumes), layer=layer)
    width = train[0].shape[1] // 3
    shipped = lambda f: f[:, :net.fc.in_features] @ net.fc.weight.detach().numpy().T + net.fc.bias.detach().numpy()  # noqa: E731
    print(f"checkpoint {args.checkpoint} ({ck.get('version', '?')}); classes {ck.get('classes')}; {layer} pooled")
    print(f"{'head':22s} {'val AUC':>16s} {'test AUC':>16s}")
    if layer == "layer4":
        print(f"{'shipped fc (gap)':22s} {' / '.join(f'{a:.3f}' for a in aucs(val[1], shipped(val[0]))):>16s} "
              f"{' / '.join(f'{a:.3f}' for a in aucs(test[1], shipped(test[0]))):>16s}")
    for name, r in probe(train, val, test, width).items():
        print(f"{'refit ' + name + ' (l2 ' + str(r['l2']) + ')':22s} {' / '.join(f'{a:.3f}' for a in r['val']):>16s} "
              f"{' / '.join(f'{a:.3f}' for a in r['test']):>16s}")


if __name__ == "__main__":
    main()
