"""Turn a trained checkpoint into its dilated form: the same weights, finer CAM layers.

    /usr/bin/python3 -m training.dilate --checkpoint training/checkpoints/resight-ct-lesion.pt \
        --dilated layer3,layer4 --version 2.3.0

Why: Grad-CAM's heatmap has the resolution of the CAM layer, and at a 256 input layer3 (16x16)
and layer4 (8x8) are too coarse to put the maximum inside a small lesion (training/README.md,
"Why the default CAM layer is layer3"). Replacing a stage's stride 2 by dilation
(``model.dilate_stage``) computes the same network at every position instead of every other
one, so the trained weights need no retraining: layer3 and layer4 become 32x32. Global average
pooling then averages 16x as many layer4 positions, so the scores move a little; the operating
thresholds are therefore chosen again on the validation slices (Youden's J, as train.py does) and
the validation figures recomputed. Nothing else of the run changes; the checkpoint records where
it came from.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from training import dataset as D  # noqa: E402
from training.model import (CLASSES, build_model, checkpoint_extra, load_checkpoint_dict,  # noqa: E402
                            require_input_size, save_checkpoint)
from training.train import predict, thresholds_and_validation  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", default=str(REPO / "training/checkpoints/resight-ct-lesion.pt"))
    ap.add_argument("--dilated", default="layer3,layer4", help="stages to dilate (a tail of layer2,layer3,layer4)")
    ap.add_argument("--version", required=True, help="model version of the result")
    ap.add_argument("--source-version", default=None, help="version of --checkpoint's weights as shipped, for the "
                    "record (default: the checkpoint's own field; export --version may have renamed it)")
    ap.add_argument("--val-volumes", type=int, default=24)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=None, help="default: overwrite --checkpoint")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    src = load_checkpoint_dict(args.checkpoint)
    require_input_size(src, args.checkpoint)  # it re-chooses the thresholds on validation slices
    arch = {**src["arch"], "dilated": [s.strip() for s in args.dilated.split(",") if s.strip()]}
    model = build_model(arch)
    model.load_state_dict(src["state_dict"])  # strict: dilation adds no parameters
    model.eval()

    val = D.SliceSet(D.ensure_split("val", args.val_volumes, counterfactual=True))
    thresholds, validation = thresholds_and_validation(val, predict(model, val.hu))
    training = {**src["training"], "validation": validation}
    training["dilatedFrom"] = {
        "version": args.source_version or src.get("version"), "stages": model.arch["dilated"],
        "what": ("the weights of the version named here, unchanged; the stride 2 of these stages replaced by "
                 "dilation (training.model.dilate_stage), thresholds chosen again on the validation slices"),
        "command": "/usr/bin/python3 -m training.dilate " + " ".join(argv if argv is not None else sys.argv[1:]),
        "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    extra = checkpoint_extra(src)
    extra.update(version=args.version, thresholds=thresholds, training=training)
    out = Path(args.out or args.checkpoint)
    save_checkpoint(out, model, CLASSES, extra)
    print(f"{args.checkpoint} ({args.source_version or src.get('version')}) -> {out} ({args.version}), dilated {model.arch['dilated']}: "
          f"val AUC " + " ".join(f"{c}={v['rocAuc']:.4f}" for c, v in validation["perClass"].items()) +
          f"; thresholds " + " ".join(f"{c}={t:.4f}" for c, t in thresholds.items()))


if __name__ == "__main__":
    main()
