"""Add the named operating points to a trained checkpoint (for checkpoints saved before train.py
chose them itself): the default model's card then offers them to the viewer.

    /usr/bin/python3 -m training.operating_points --checkpoint training/checkpoints/resight-ct-lesion.pt

The points are chosen on the validation slices, as train.py chooses its default thresholds
(metrics.operating_points): "balanced" is the checkpoint's own Youden thresholds, unchanged;
"specificity-90" the lowest thresholds with validation specificity >= 0.90; "sensitivity-95"
the highest with validation sensitivity >= 0.95 (neither crosses "balanced"). The sampled
validation population (lesion slices, their lesion-free twins, a few ordinary slices) is not a
scan's, so the held-out figures at a point differ from the validation ones (2.4.0's nodule
specificity at specificity-90: 0.83 held out); evaluate.py reports them.

``--val-all-slices`` chooses on *every* slice of the validation volumes instead (natural
prevalence, the population a scan has and evaluate.py measures; train.py ``--val-all-slices``),
and then also re-chooses the default ("balanced", Youden's J) thresholds there, since the
sampled population under-represents the lung slices full of vessels that cost specificity:

    /usr/bin/python3 -m training.operating_points --val-all-slices --out /tmp/op/ck.pt
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from training import dataset as D  # noqa: E402
from training import metrics as M  # noqa: E402
from training.model import CLASSES, checkpoint_extra, load_checkpoint, save_checkpoint  # noqa: E402
from training.train import predict  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", default=str(REPO / "training/checkpoints/resight-ct-lesion.pt"))
    ap.add_argument("--val-volumes", type=int, default=24)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--val-all-slices", action="store_true",
                    help="choose every point, the default thresholds included, on all slices of the validation volumes")
    ap.add_argument("--out", default=None, help="default: overwrite --checkpoint")
    ap.add_argument("--version", default=None, help="record this model version in the checkpoint (new default "
                    "thresholds change what the model flags, so they make a new version)")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    net, src = load_checkpoint(args.checkpoint)
    if not src.get("thresholds"):
        raise SystemExit(f"{args.checkpoint} has no operating thresholds (a last.pt?): choose them first")
    val = D.SliceSet(D.ensure_split("val", args.val_volumes, counterfactual=True, all_slices=args.val_all_slices))
    probs = predict(net, val.hu)
    extra = checkpoint_extra(src)
    training = dict(src.get("training", {}))
    if args.val_all_slices:
        # the default point too, and the whole validation record, now from the natural population
        from training.train import thresholds_and_validation
        thresholds, record = thresholds_and_validation(val, probs)
        record["population"] = "every slice of the validation volumes (natural prevalence, no twins)"
        extra["thresholds"] = thresholds
        extra["threshold_method"] = ("Youden's J (max sensitivity + specificity - 1) per class on every slice of "
                                     "the validation volumes")
        training["validation"] = record
        points = record["operatingPoints"]
    else:
        points = M.operating_points(val.labels, probs, CLASSES, src["thresholds"])
        training["validation"] = {**training.get("validation", {}), "operatingPoints": points}
    extra["training"] = training
    if args.version:
        extra["version"] = args.version
    out = Path(args.out or args.checkpoint)
    save_checkpoint(out, net, CLASSES, extra)
    for p in points:
        print(f"{p['id']:15s} " + "  ".join(f"{c} >= {p['thresholds'][c]:.4f} (val sens {v['sensitivity']:.3f} "
                                           f"spec {v['specificity']:.3f})" for c, v in p["validation"].items()))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
