"""Fine-tune the shipped ResNet on a user's labelled DICOM slices; export ONNX + card.

    /usr/bin/python3 -m training.finetune --csv labels.csv [--data-dir DIR] --out-dir OUT \
        [--name my-model] [--full-epochs 5]

CSV (header row required): ``path`` (relative to --data-dir, or absolute), optional ``frame``
(0-based frame of a multi-frame object; default 0), optional ``group`` (slices of one group --
e.g. one patient or series -- stay on the same side of the validation split; default: the
file's folder, or the file itself when there are fewer than 5 folders), and one column of 0/1
per class, e.g.::

    path,frame,lung_nodule,liver_lesion,cyst
    case01/IM0001.dcm,,1,0,0

Files are read with pydicom (modality LUT applied -> HU; PixelPaddingValue pixels -> -1024);
``.npy`` files holding a 2-D HU array are accepted too. Preprocessing is exactly the shipped
model's (training/preprocess.py), so the result is a CT model like the default one.

Steps: (1) build the network from --base (the default model's checkpoint); the head is
replaced by one with the CSV's classes, rows for class names the base model already knows
are copied (so "extending" keeps them); (2) train the head with the backbone frozen
(BatchNorm statistics frozen too), augmentation as in training, dropout before the head;
(3) optionally (--full-epochs N) train the whole network at a small learning rate; early
stopping on the validation split (mean ROC AUC, or loss when a class lacks positives or
negatives there) in both phases; (4) operating thresholds per class by Youden's J on the
validation split; (5) export ONNX + card exactly like the default model, plus <name>.pt.
"""
from __future__ import annotations

import argparse
import copy
import csv
import json
import math
import shlex
import sys
import time
from pathlib import Path
from typing import List, Optional, Tuple

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from training import preprocess as P  # noqa: E402


# ----------------------------------------------------------------------------- reading slices

def read_slice_hu(path: Path, frame: int = 0) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """(HU float32 [rows, cols], padding mask or None) for one frame of a DICOM file or .npy."""
    path = Path(path)
    if path.suffix.lower() == ".npy":
        a = np.load(path).astype(np.float32)
        if a.ndim == 3:
            a = a[frame]
        return a, None
    try:
        import pydicom
        from pydicom.pixel_data_handlers.util import apply_modality_lut
    except ImportError as e:  # pragma: no cover
        raise SystemExit("pydicom is needed to read DICOM (Debian: apt-get install python3-pydicom)") from e
    ds = pydicom.dcmread(str(path))
    try:
        arr = ds.pixel_array
    except Exception as e:
        raise SystemExit(f"{path}: cannot decode pixel data ({ds.file_meta.get('TransferSyntaxUID', '?')}): {e}")
    n_frames = int(getattr(ds, "NumberOfFrames", 1) or 1)
    if n_frames > 1:
        if not 0 <= frame < n_frames:
            raise SystemExit(f"{path}: frame {frame} out of range (0..{n_frames - 1})")
        arr = arr[frame]
    if arr.ndim != 2:
        raise SystemExit(f"{path}: expected a single-channel image, got shape {arr.shape}")
    pad = None
    ppv = getattr(ds, "PixelPaddingValue", None)
    if ppv is not None:
        lim = getattr(ds, "PixelPaddingRangeLimit", None)
        lo, hi = (min(ppv, lim), max(ppv, lim)) if lim is not None else (ppv, ppv)
        pad = (arr >= lo) & (arr <= hi)
    hu = np.asarray(apply_modality_lut(arr, ds), dtype=np.float32)
    return hu, pad


def read_csv(csv_path: Path, data_dir: Optional[Path]):
    with open(csv_path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise SystemExit(f"{csv_path}: no rows")
    cols = list(rows[0].keys())
    if "path" not in cols:
        raise SystemExit(f"{csv_path}: needs a 'path' column")
    classes = [c for c in cols if c not in ("path", "frame", "group")]
    if not classes:
        raise SystemExit(f"{csv_path}: needs at least one class column")
    base = data_dir or csv_path.parent
    items = []
    for r in rows:
        p = Path(r["path"])
        p = p if p.is_absolute() else base / p
        frame = int(r["frame"]) if r.get("frame") not in (None, "") else 0
        try:
            y = [int(float(r[c])) for c in classes]
        except ValueError:
            raise SystemExit(f"{csv_path}: labels must be 0/1 ({r})")
        items.append({"path": p, "frame": frame, "group": r.get("group") or None, "y": y})
    return classes, items


def load_items(items, size: int) -> Tuple[np.ndarray, np.ndarray]:
    hus, ys = [], []
    for it in items:
        hu, pad = read_slice_hu(it["path"], it["frame"])
        hus.append(P.resize_hu_slice(hu, pad, size))
        ys.append(it["y"])
    return np.stack(hus).astype(np.float32), np.asarray(ys, np.float32)


def split_groups(items, val_fraction: float, seed: int):
    groups = []
    for it in items:
        g = it["group"] or str(Path(it["path"]).parent)
        groups.append(g)
    if len(set(groups)) < 5:
        groups = [it["group"] or f"{it['path']}" for it in items]
    uniq = sorted(set(groups))
    rng = np.random.default_rng(seed)
    rng.shuffle(uniq)
    n_val = max(1, int(round(len(uniq) * val_fraction))) if len(uniq) > 1 else 0
    val_g = set(uniq[:n_val])
    tr = [i for i, g in enumerate(groups) if g not in val_g]
    va = [i for i, g in enumerate(groups) if g in val_g]
    return np.array(tr, int), np.array(va, int)


# ----------------------------------------------------------------------------- model surgery

def adapt_head(net, base_classes: List[str], classes: List[str], dropout: float):
    import torch
    import torch.nn as nn
    old = net.fc
    new = nn.Linear(old.in_features, len(classes))
    copied = []
    with torch.no_grad():
        for j, c in enumerate(classes):
            if c in base_classes:
                i = base_classes.index(c)
                new.weight[j] = old.weight[i]
                new.bias[j] = old.bias[i]
                copied.append(c)
    net.fc = new
    net.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
    net.arch = dict(net.arch, num_classes=len(classes), dropout=dropout)
    return copied


def _set_bn_eval(net):
    import torch.nn as nn
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.eval()


def finetune(args) -> dict:
    import torch
    import torch.nn.functional as F
    from training import dataset as D
    from training import metrics as M
    from training.export import build_card, sha256_file, to_onnx, write_json
    from training.model import load_checkpoint, save_checkpoint
    import onnx

    t0 = time.time()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    classes, items = read_csv(Path(args.csv), Path(args.data_dir) if args.data_dir else None)
    net, ck = load_checkpoint(args.base, check_input_size=False)
    base_classes = list(ck["classes"])
    size = int(ck.get("input_size", P.INPUT_SIZE))
    copied = adapt_head(net, base_classes, classes, args.dropout)
    print(f"classes {classes} (head rows copied from the base model: {copied or 'none'}); input {size}x{size}")

    hu, y = load_items(items, size)
    tr, va = split_groups(items, args.val_fraction, args.seed)
    if len(va) == 0:
        raise SystemExit("need at least two groups/files for a validation split")
    print(f"{len(items)} slices: train {len(tr)}, val {len(va)}; positives per class "
          f"{dict(zip(classes, y.sum(0).astype(int).tolist()))}")
    hu_t = torch.from_numpy(hu).unsqueeze(1)
    y_t = torch.from_numpy(y)
    val_x = P.window_torch(hu_t[va])

    def val_score():
        net.eval()
        with torch.no_grad():
            logits = torch.cat([net(val_x[i:i + 64]) for i in range(0, len(va), 64)])
        loss = float(F.binary_cross_entropy_with_logits(logits, y_t[va]))
        probs = torch.sigmoid(logits).numpy()
        aucs = M.per_class_auc(y[va], probs)
        score = float(np.mean(aucs)) if not any(math.isnan(a) for a in aucs) else -loss
        return score, loss, aucs, probs

    history = []

    def run_phase(name, params, lr, epochs, train_bn=False):
        if epochs <= 0:
            return
        opt = torch.optim.AdamW(params, lr=lr, weight_decay=args.weight_decay)
        steps_per_epoch = max(1, math.ceil(len(tr) / args.batch))
        total = epochs * steps_per_epoch
        best = (val_score()[0], copy.deepcopy(net.state_dict()), 0)
        bad, step = 0, 0
        for ep in range(1, epochs + 1):
            net.train()
            if not train_bn:
                _set_bn_eval(net)
            perm = tr[torch.randperm(len(tr), generator=gen).numpy()]
            for k in range(0, len(perm), args.batch):
                idx = perm[k:k + args.batch]
                for g_ in opt.param_groups:
                    g_["lr"] = lr * 0.5 * (1 + math.cos(math.pi * step / total))
                x = D.augment_batch(hu_t[idx], gen) if args.augment else P.window_torch(hu_t[idx])
                loss = F.binary_cross_entropy_with_logits(net(x), y_t[idx])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                step += 1
                if args.max_steps and step >= args.max_steps:
                    break
            score, vloss, aucs, _ = val_score()
            history.append({"phase": name, "epoch": ep, "val_loss": vloss, "val_auc": dict(zip(classes, aucs))})
            improved = score > best[0] + 1e-6
            print(f"[{name}] epoch {ep}: val loss {vloss:.4f} AUC "
                  + " ".join(f"{c}={a:.3f}" for c, a in zip(classes, aucs)) + (" *" if improved else ""))
            if improved:
                best, bad = (score, copy.deepcopy(net.state_dict()), ep), 0
            else:
                bad += 1
                if bad >= args.patience:
                    print(f"[{name}] early stop (no improvement for {args.patience} epochs)")
                    break
            if args.max_steps and step >= args.max_steps:
                break
        net.load_state_dict(best[1])

    # phase 1: head only
    for p_ in net.parameters():
        p_.requires_grad_(False)
    for p_ in net.fc.parameters():
        p_.requires_grad_(True)
    run_phase("head", list(net.fc.parameters()), args.lr_head, args.head_epochs)
    # phase 2: whole network at a small learning rate
    for p_ in net.parameters():
        p_.requires_grad_(True)
    run_phase("full", list(net.parameters()), args.lr_full, args.full_epochs, train_bn=args.train_bn)

    net.eval()
    _, vloss, aucs, probs = val_score()
    thresholds, method = {}, "Youden's J per class on the fine-tuning validation split"
    for i, c in enumerate(classes):
        t, _ = M.youden_threshold(y[va, i], probs[:, i])
        thresholds[c] = t
    val_summary = M.per_class_summary(y[va].astype(np.uint8), probs, classes, thresholds)

    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    onnx_path = out_dir / f"{args.name}.onnx"
    model = to_onnx(net, size, classes)
    onnx.save(model, str(onnx_path))
    base_card = None
    base_card_path = Path(args.base_card) if args.base_card else None
    if base_card_path and base_card_path.exists():
        base_card = json.loads(base_card_path.read_text())
    training = {
        "data": f"fine-tuned on {len(items)} user-labelled slices from {args.csv}",
        "base": {"name": (base_card or {}).get("name", Path(args.base).stem),
                 "version": (base_card or {}).get("version", ck.get("version")),
                 "onnxSha256": (base_card or {}).get("onnx", {}).get("sha256"),
                 "checkpoint": str(args.base), "classes": base_classes},
        "headRowsCopied": copied,
        "splits": {"train": {"slices": int(len(tr))}, "val": {"slices": int(len(va)),
                   "grouping": "CSV 'group' column, else file folder, else file"}},
        "phases": {"head": {"epochs": args.head_epochs, "lr": args.lr_head, "backbone": "frozen (incl. BatchNorm)"},
                   "full": {"epochs": args.full_epochs, "lr": args.lr_full,
                            "batchNorm": "trained" if args.train_bn else "statistics frozen"}},
        "augmentation": dict(D.AUGMENT) if args.augment else "none",
        "dropoutBeforeFc": args.dropout, "earlyStoppingPatience": args.patience, "seed": args.seed,
        "history": history, "wallMinutes": round((time.time() - t0) / 60, 2),
        "command": "/usr/bin/python3 -m training.finetune " + " ".join(shlex.quote(a) for a in args._argv),
    }
    metrics = {"dataset": "fine-tuning validation split (NOT held out: also used for early stopping and "
                          "thresholds; measure on independent data before relying on these)",
               "perClass": val_summary, "command": training["command"]}
    card = build_card(name=args.name, version=args.version, onnx_path=onnx_path, model=model, arch=net.arch,
                      classes=classes, size=size, thresholds=thresholds, threshold_method=method,
                      training=training, metrics=metrics, n_params=sum(p.numel() for p in net.parameters()),
                      modalities=["CT"],
                      description=f"{args.name}: fine-tuned from {training['base']['name']} on user data; "
                                  f"classes {', '.join(classes)}.")
    write_json(out_dir / f"{args.name}.card.json", card)
    save_checkpoint(out_dir / f"{args.name}.pt", net, classes, {
        "version": args.version, "input_size": size, "thresholds": thresholds, "threshold_method": method,
        "training": training})
    print(f"wrote {onnx_path} (sha256 {sha256_file(onnx_path)[:12]}...), {args.name}.card.json and {args.name}.pt "
          f"in {(time.time() - t0) / 60:.1f} min")
    return card


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--csv", required=True)
    ap.add_argument("--data-dir", default=None, help="base folder for relative paths (default: the CSV's folder)")
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--name", default="resight-ct-finetuned")
    ap.add_argument("--version", default="1.0.0")
    ap.add_argument("--base", default=str(REPO / "training/checkpoints/resight-ct-lesion.pt"))
    ap.add_argument("--base-card", default=str(REPO / "resources/models/resight-ct-lesion.card.json"))
    ap.add_argument("--val-fraction", type=float, default=0.2)
    ap.add_argument("--head-epochs", type=int, default=15)
    ap.add_argument("--full-epochs", type=int, default=0, help="then train the whole network (0 = head only)")
    ap.add_argument("--lr-head", type=float, default=1e-3)
    ap.add_argument("--lr-full", type=float, default=1e-4)
    ap.add_argument("--train-bn", action="store_true", help="update BatchNorm statistics in the full phase")
    ap.add_argument("--weight-decay", type=float, default=1e-2)
    ap.add_argument("--dropout", type=float, default=0.3)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--patience", type=int, default=4)
    ap.add_argument("--no-augment", dest="augment", action="store_false")
    ap.add_argument("--max-steps", type=int, default=0, help="cap optimiser steps per phase (smoke tests)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    args._argv = list(argv if argv is not None else sys.argv[1:])
    finetune(args)


if __name__ == "__main__":
    main()
