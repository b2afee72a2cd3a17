"""Where a checkpoint's held-out ROC AUC goes: which lesion slices it ranks low and which
lesion-free slices it ranks high.

Scores every slice of the held-out test volumes (the population ``evaluate.py`` measures), then
renders each volume once more for what the slice cache does not keep (each lesion's kind, shape,
juxtaposition and margin; the tissue map) and reports, per class:

* the AUC when lesion-free slices near a lesion (within 1, 2, 5 slices) are left out: how much
  of the loss is the blurred trace a lesion leaves on its neighbours;
* per group of lesion slices (kind, shape, juxta, margin, diameter, slice thickness, distance
  from the lesion's first or last positive slice): the group's AUC against every lesion-free
  slice. Each positive slice is one row, for the lesion that covers most of it;
* per bin of the host organ's share of the slice (lung for nodules, liver for liver lesions),
  and per bin of the slice's position along the organ's extent (0 its lowest slice, 1 its
  highest): the lesion-free slices' mean and 90th-percentile score and their share of the
  mis-ordered (lesion-free above lesion) pairs.

    /usr/bin/python3 -m training.error_analysis [--checkpoint training/checkpoints/resight-ct-lesion.pt]

3-4 minutes on a 2-core CPU with the test cache in place (evaluate.py makes it).
"""
from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path
from typing import Dict, Iterable, List, Sequence, Tuple

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from training import dataset as D  # noqa: E402
from training import metrics as M  # noqa: E402
from training.evaluate import rows_by_z  # noqa: E402

NEAR_SLICES = (1, 2, 5)
HOST_BINS = (0.0, 0.005, 0.03, 0.06, 0.1, 0.15, 1.01)
POSITION_BINS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.01)


def auc_against(neg: np.ndarray, pos: np.ndarray) -> float:
    """ROC AUC of the positives ``pos`` against the negatives ``neg`` (ties count half; NaN if
    either is empty)."""
    return M.roc_auc(np.r_[np.zeros(len(neg)), np.ones(len(pos))], np.r_[neg, pos])


def misordered(neg: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """Per negative: how many positives score below it (ties count half). Their sum over all
    negatives is (1 - AUC) * |pos| * |neg|."""
    p = np.sort(np.asarray(pos, np.float64))
    n = np.asarray(neg, np.float64)
    below = np.searchsorted(p, n, side="left")
    ties = np.searchsorted(p, n, side="right") - below
    return below + 0.5 * ties


def distance_to_positive(y: np.ndarray, z: np.ndarray, vol: np.ndarray) -> np.ndarray:
    """Per slice: slices to the nearest positive slice of the same volume (a large number where
    the volume has none)."""
    out = np.full(len(y), 10 ** 6)
    for v in np.unique(vol):
        m = np.flatnonzero(vol == v)
        pos = z[m][y[m] == 1]
        if len(pos):
            out[m] = np.abs(z[m][:, None] - pos[None, :]).min(1)
    return out


def grouped(rows: Iterable[dict], key, neg: np.ndarray) -> List[Tuple[str, int, float]]:
    """(group, n, AUC of the group's positive slices against ``neg``) for each value of ``key``."""
    g: Dict[str, list] = defaultdict(list)
    for r in rows:
        g[str(key(r))].append(r["score"])
    return [(k, len(v), auc_against(neg, np.array(v))) for k, v in sorted(g.items())]


def binned(values: np.ndarray, edges: Sequence[float], neg: np.ndarray, mis: np.ndarray) -> List[dict]:
    """The negatives ``neg`` (with their mis-ordered pair counts ``mis``) in bins of ``values``
    (left-closed; NaN in no bin): per bin the count, mean and 90th-percentile score and the bin's
    share of all mis-ordered pairs."""
    out = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        b = (values >= lo) & (values < hi)
        if b.any():
            out.append({"bin": [lo, min(hi, 1.0)], "slices": int(b.sum()), "meanScore": float(neg[b].mean()),
                        "p90Score": float(np.percentile(neg[b], 90)), "misorderedShare": float(mis[b].sum() / mis.sum())})
    return out


def _diameter_bin(d: float, edges: Sequence[float]) -> str:
    lo = max([e for e in edges if e <= d], default=0.0)
    hi = min([e for e in edges if e > d], default=None)
    return f"{lo:g}-{hi:g} mm" if hi is not None else f">= {lo:g} mm"


def analyse(checkpoint: Path, test_volumes: int, workers: int, log=print) -> dict:
    import torch
    from training.model import load_checkpoint
    from training.train import predict
    torch.set_num_threads(2)
    phantom = D.phantom_module()
    T = phantom.tissues.T
    min_area = phantom.MIN_LABEL_AREA_MM2
    test = D.SliceSet(D.ensure_split("test", test_volumes, workers=workers))
    net, ck = load_checkpoint(checkpoint)
    classes = list(ck["classes"])
    probs = predict(net, test.hu)
    log(f"scored {len(test)} slices of {test_volumes} test volumes")
    hosts = {"lung_nodule": (T.LUNG,), "liver_lesion": (T.LIVER, T.LIVER_VESSEL)}
    host_frac = {c: np.zeros(len(test)) for c in classes}
    host_pos = {c: np.full(len(test), np.nan) for c in classes}
    rows: Dict[str, list] = {c: [] for c in classes}
    for info in test.volumes:
        vol = phantom.make_volume(int(info["seed"]))
        zmap = rows_by_z(test, info)
        for c in classes:
            frac = np.isin(vol.tissue, hosts.get(c, ())).reshape(vol.tissue.shape[0], -1).mean(1)
            present = np.flatnonzero(frac > 0)
            for z, k in zmap.items():
                host_frac[c][k] = frac[z]
                # where the slice is along the organ's extent: 0 its lowest slice (feet-wards), 1 its highest
                if frac[z] > 0 and present[-1] > present[0]:
                    host_pos[c][k] = (z - present[0]) / (present[-1] - present[0])
        # each lesion's own footprint (mm^2) on every slice, and its own positive extent
        px = float(vol.spacing[1] * vol.spacing[2])
        areas = []
        for fp in vol._footprints:
            a = np.zeros(vol.hu.shape[0])
            a[fp["k0"]:fp["k0"] + fp["mask"].shape[0]] = fp["mask"].reshape(fp["mask"].shape[0], -1).sum(1) * px
            areas.append(a)
        for ci, c in enumerate(classes):
            mine = [i for i, les in enumerate(vol.lesions) if les["class"] == c]
            for z, k in zmap.items():
                if test.labels[k, ci] == 0:
                    continue
                # a slice two lesions cross is one row, for the lesion that covers most of it
                i = max(mine, key=lambda j: areas[j][z])
                les, own = vol.lesions[i], np.flatnonzero(areas[i] >= min_area)
                edge = max(0, min(z - own[0], own[-1] - z)) if len(own) else 0
                rows[c].append({**{f: les.get(f) for f in ("kind", "shape", "juxta", "margin")},
                                "diameter": les["diameter_mm"], "thickness": float(vol.spacing[0]),
                                "edge": int(edge), "score": float(probs[k, ci])})
    for ci, c in enumerate(classes):
        assert len(rows[c]) == int(test.labels[:, ci].sum()), "one row per positive slice"
    out = {}
    for ci, c in enumerate(classes):
        y, s = test.labels[:, ci], probs[:, ci]
        neg, pos = s[y == 0], s[y == 1]
        dist = distance_to_positive(y, test.z, test.seed)
        near = {d: M.roc_auc(y[(y == 1) | (dist > d)], s[(y == 1) | (dist > d)]) for d in NEAR_SLICES}
        edges = D.SIZE_BINS.get(c, [0.0])
        groups = {
            "kind": grouped(rows[c], lambda r: r["kind"], neg),
            "shape": grouped(rows[c], lambda r: r["shape"], neg),
            "juxta": grouped(rows[c], lambda r: r["juxta"] or "none", neg),
            "margin": grouped(rows[c], lambda r: r["margin"], neg),
            "diameter": grouped(rows[c], lambda r: _diameter_bin(r["diameter"], edges), neg),
            "slice thickness": grouped(rows[c], lambda r: "<= 2.5 mm" if r["thickness"] <= 2.5 else "> 2.5 mm", neg),
            "slices from the lesion's end": grouped(rows[c], lambda r: min(r["edge"], 3) if r["edge"] < 3 else ">= 3", neg),
        }
        mis = misordered(neg, pos)
        out[c] = {"rocAuc": M.roc_auc(y, s), "withoutNearNegatives": near, "groups": groups,
                  "negativesByHost": binned(host_frac[c][y == 0], HOST_BINS, neg, mis),
                  "negativesByPosition": binned(host_pos[c][y == 0], POSITION_BINS, neg, mis)}
    return out


def report(res: dict) -> str:
    lines = []
    for c, r in res.items():
        lines.append(f"## {c}: ROC AUC {r['rocAuc']:.3f}")
        lines.append("lesion-free slices within d slices of a lesion left out: "
                     + ", ".join(f"d={d}: {a:.3f}" for d, a in r["withoutNearNegatives"].items()))
        lines.append("lesion slices by group (n, AUC of the group against every lesion-free slice):")
        for name, rows in r["groups"].items():
            lines.append(f"  {name}: " + "; ".join(f"{k} {n} {a:.3f}" for k, n, a in rows))
        for key, what in (("negativesByHost", "the host organ's share of the slice"),
                          ("negativesByPosition", "position along the host organ's extent (0 lowest, 1 highest)")):
            lines.append(f"lesion-free slices by {what} (n, mean, p90, share of mis-ordered pairs):")
            for h in r[key]:
                lo, hi = h["bin"]
                lines.append(f"  {lo:g}-{hi:g}: {h['slices']}, {h['meanScore']:.3f}, {h['p90Score']:.3f}, {h['misorderedShare']:.3f}")
        lines.append("")
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", default=str(REPO / "training/checkpoints/resight-ct-lesion.pt"))
    ap.add_argument("--test-volumes", type=int, default=40)
    ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args(argv)
    print(report(analyse(Path(a.checkpoint), a.test_volumes, a.workers)))


if __name__ == "__main__":
    main()
