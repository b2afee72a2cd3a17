"""Command line: time the generator, print a volume's summary, or write preview PNGs.

    /usr/bin/python3 -m training.phantom bench [--seeds 0-4] [--slices 100] [--thickness 2.5]
    /usr/bin/python3 -m training.phantom show SEED [--slices N] [--png out.png]
    /usr/bin/python3 -m training.phantom stats [--seeds 0-19]     # positive fractions, lesion counts
"""
from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from . import VolumeSpec, balanced_slices, make_volume


def _seeds(s: str):
    if "-" in s:
        a, b = s.split("-")
        return list(range(int(a), int(b) + 1))
    return [int(x) for x in s.split(",")]


def _spec(a) -> VolumeSpec:
    return VolumeSpec(slices=a.slices, thickness=a.thickness)


def cmd_bench(a):
    walls, cpus = [], []
    for seed in _seeds(a.seeds):
        t, c = time.perf_counter(), time.process_time()
        v = make_volume(seed, _spec(a))
        walls.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
        print(f"seed {seed}: {tuple(v.hu.shape)} wall {walls[-1]:.2f} s, cpu {cpus[-1]:.2f} s  {v.meta['timing']}")
    print(f"median wall {np.median(walls):.2f} s, median cpu {np.median(cpus):.2f} s per volume")


def cmd_show(a):
    v = make_volume(a.seed, _spec(a))
    meta = {k: v for k, v in v.meta.items() if k != "spec"}
    print(json.dumps(meta, indent=1, default=str))
    for les in v.lesions:
        print(les)
    lab = v.slice_labels()
    print("positive slices:", int(lab.any(1).sum()), "of", lab.shape[0], "per class:", lab.sum(0).tolist())
    if a.png:
        from PIL import Image
        ks = sorted({les["key_slice"] for les in v.lesions}) or [v.hu.shape[0] // 2]
        tiles = []
        for k in ks[:6]:
            h = v.hu[k]
            lung = (np.clip((h + 1350) / 1500, 0, 1) * 255).astype(np.uint8)
            soft = (np.clip((h + 160) / 400, 0, 1) * 255).astype(np.uint8)
            for _, y0, x0, y1, x1 in v.boxes(k):
                for im in (lung, soft):
                    im[y0, x0:x1 + 1] = im[y1, x0:x1 + 1] = 255
                    im[y0:y1 + 1, x0] = im[y0:y1 + 1, x1] = 255
            tiles.append(np.concatenate([lung, soft], 1))
        Image.fromarray(np.concatenate(tiles, 0)).save(a.png)
        print("wrote", a.png, "slices", ks[:6])


def cmd_stats(a):
    fr, n_les = [], []
    for seed in _seeds(a.seeds):
        v = make_volume(seed, _spec(a))
        lab = v.slice_labels()
        idx = balanced_slices(lab, np.random.default_rng(seed))
        fr.append(float(lab.any(1).mean()))
        n_les.append(len(v.lesions))
        print(f"seed {seed}: {lab.shape[0]} slices, positive {fr[-1]:.2f} (per class {lab.mean(0).round(2).tolist()}), "
              f"lesions {v.meta['n_nodules']}+{v.meta['n_liver_lesions']}, balanced sample {len(idx)}")
    print(f"positive fraction: mean {np.mean(fr):.3f}, median {np.median(fr):.3f}, "
          f"volumes without positives {np.mean(np.array(fr) == 0):.2f}; lesions/volume {np.mean(n_les):.2f}")


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python3 -m training.phantom")
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("bench", "show", "stats"):
        p = sub.add_parser(name)
        if name == "show":
            p.add_argument("seed", type=int)
            p.add_argument("--png")
        else:
            p.add_argument("--seeds", default="0-4" if name == "bench" else "0-19")
        p.add_argument("--slices", type=int, default=100 if name == "bench" else None)
        p.add_argument("--thickness", type=float, default=2.5 if name == "bench" else None)
    a = ap.parse_args(argv)
    {"bench": cmd_bench, "show": cmd_show, "stats": cmd_stats}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
