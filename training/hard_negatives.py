"""Hard negatives: the lesion-free training slices a model scores highest, for a continuation run.

    /usr/bin/python3 -m training.hard_negatives --checkpoint training/checkpoints/resight-ct-lesion.pt \
        [--volumes 200] [--per-volume 10] [--stride 2] [--margin 2] [--minutes 18] [--out DIR]

Why: the pair recipe's negatives are mostly the lesion-free twins of lesion slices plus 4 random
slices per volume, while a scan is mostly slices with no lesion at all. On 2.4.0 the held-out
nodule AUC is lost to lung slices far from any nodule (vessels and bronchi seen end-on in thick
slices, scored up to 0.999; training/README.md, "Where the nodule AUC goes"), a kind the training
batches rarely hold. This renders every slice of *training* volumes (seeds 0.., the training
split, so nothing held out is touched), scores the negatives with the checkpoint and keeps the
``--per-volume`` highest by their largest class probability. Slices within ``--margin`` slices
of a positive slice are left out: there the lesion's soft margin and slice mixing leave a faint
trace, and teaching the model that such traces are negatives would cost small-lesion sensitivity.

Output: one shard per volume, ``<seed>.npz`` with ``hu`` (float16 [k,256,256], resized HU as the
training cache stores it), ``z``, ``probs`` and ``info``; the default folder is keyed by the
checkpoint's sha256 and the phantom sources (``training/.cache/hardneg-<ck>-<phantom>/``).
``train.py --hard-negatives DIR --hard-rows R`` mixes R of them into every batch.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path
from typing import List, Optional

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from training import dataset as D  # noqa: E402

_MODEL = None


def near_positive(labels: np.ndarray, margin: int) -> np.ndarray:
    """[Z] bool: slices that are positive or within ``margin`` slices of a positive one."""
    pos = labels.any(1)
    near = pos.copy()
    for d in range(1, margin + 1):
        near[d:] |= pos[:-d]
        near[:-d] |= pos[d:]
    return near


def mine_volume(seed: int, checkpoint: str, per_volume: int, margin: int, path: Path, stride: int = 1) -> dict:
    import torch
    from training.model import load_checkpoint
    from training.train import predict
    global _MODEL
    torch.set_num_threads(1)
    if _MODEL is None:
        _MODEL = load_checkpoint(checkpoint)[0]
    t0 = time.time()
    vol = D.phantom_module().make_volume(seed)
    labels = np.asarray(vol.slice_labels(), dtype=np.uint8)
    # every ``stride``-th candidate: neighbouring slices look alike, and scoring is half the cost
    cand = np.flatnonzero(~near_positive(labels, margin))[int(seed) % stride::stride]
    hu = D._resized(vol, cand).astype(np.float16)
    probs = predict(_MODEL, hu) if len(cand) else np.zeros((0, len(D.CLASSES)), np.float32)
    order = np.argsort(-probs.max(1), kind="stable")[:per_volume] if len(cand) else np.zeros(0, int)
    info = {"seed": seed, "candidates": int(len(cand)), "slices": int(labels.shape[0]),
            "seconds": round(time.time() - t0, 2)}
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, hu=hu[order], z=cand[order].astype(np.int32), probs=probs[order].astype(np.float32),
             info=np.array(json.dumps(info)))
    os.replace(tmp, path)
    return info


def _job(args):
    return mine_volume(*args)


def default_dir(checkpoint: str) -> Path:
    sha = hashlib.sha256(Path(checkpoint).read_bytes()).hexdigest()[:12]
    return D.CACHE_ROOT / f"hardneg-{sha}-{D.phantom_fingerprint()}"


def load(folder: Path) -> tuple:
    """(hu float16 [M,256,256], probs [M,C], seeds [M]) of every shard in ``folder``."""
    hus, probs, seeds = [], [], []
    for p in sorted(Path(folder).glob("*.npz")):
        if p.name.endswith(".tmp.npz"):
            continue
        with np.load(p) as f:
            hus.append(f["hu"])
            probs.append(f["probs"])
            seeds.append(np.full(len(f["z"]), json.loads(str(f["info"]))["seed"], np.int64))
    if not hus:
        raise SystemExit(f"no hard-negative shards in {folder}")
    return np.concatenate(hus), np.concatenate(probs), np.concatenate(seeds)


def main(argv: Optional[List[str]] = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", default=str(REPO / "training/checkpoints/resight-ct-lesion.pt"))
    ap.add_argument("--volumes", type=int, default=200, help="training volumes (seeds 0..N-1) to mine")
    ap.add_argument("--per-volume", type=int, default=10)
    ap.add_argument("--margin", type=int, default=2, help="slices next to a positive one that are left out")
    ap.add_argument("--stride", type=int, default=2, help="score every n-th candidate slice of a volume")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--minutes", type=float, default=18.0, help="stop submitting volumes after this long")
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    out = Path(args.out) if args.out else default_dir(args.checkpoint)
    out.mkdir(parents=True, exist_ok=True)
    seeds = D.split_seeds("train", args.volumes)
    todo = [s for s in seeds if not (out / f"{s}.npz").exists()]
    t0 = time.time()
    deadline = t0 + args.minutes * 60
    print(f"[hardneg] {len(todo)} of {len(seeds)} volumes to mine -> {out}", flush=True)
    jobs = [(s, args.checkpoint, args.per_volume, args.margin, out / f"{s}.npz", args.stride) for s in todo]

    def progress(done: int) -> None:
        if done % 20 == 0:
            print(f"[hardneg] {done}/{len(todo)} volumes, {time.time() - t0:.0f}s", flush=True)
    done = D.run_volume_jobs(_job, jobs, args.workers, deadline, progress)
    hu, probs, _ = load(out)
    top = probs.max(1)
    print(f"[hardneg] mined {done} volumes in {time.time() - t0:.0f}s; {len(hu)} hard negatives, max-class "
          f"probability median {np.median(top):.3f}, >0.5: {(top > 0.5).mean():.2f}, per class >0.5: "
          f"{(probs > 0.5).mean(0).round(2).tolist()}", flush=True)


if __name__ == "__main__":
    main()
