"""Localization evaluation set for the explain engine: held-out phantom slices + lesion masks.

    /usr/bin/python3 -m training.localization_set --out DIR [--volumes 10] [--first-seed 3000000] \
        [--max-slices 44] [--per-class-per-volume 4]

The TypeScript explain engine (src/core/explain) is scored on these slices for localization
(pointing game, share of the saliency energy inside the lesion mask, deletion AUC). This script
writes the slices and their masks; the TS side reads them.

Seeds. Volumes are ``make_volume(seed)`` with default (random) specs, seeds ``--first-seed`` ..
``--first-seed + --volumes - 1``. The default 3 000 000 lies outside every seed range the
model has seen or is measured on (training/dataset.py ``SEED_BASE`` and ``split_seeds``, which
caps a split at 1 000 000 volumes)::

    train  0 .. 999 999          (training)
    val    1 000 000 .. 1 999 999 (checkpoint selection, operating thresholds)
    test   2 000 000 .. 2 999 999 (evaluate.py / golden.py held-out metrics)
    here   3 000 000 ..           (localization only)

so the set is held out from training and model selection, and also disjoint from the test
volumes behind the card's metrics (however many of them evaluate.py is asked for), so the
explain evaluation does not reuse slices whose scores were already reported.

Labels and selection. A slice is positive for a class by the training rule
(``Volume.slice_labels()``: that class's mask covers >= ``MIN_LABEL_AREA_MM2`` = 10 mm^2 of the
slice). Per volume and class, the lesions of the class are taken largest first (largest
cross-section); for each lesion the candidate slices are the positive slices on which the
lesion's *own* mask meets the area rule; they are ordered by: the lesion's key slice (largest
cross-section) first, then farthest-point in z (each next slice is the one farthest from the
slices already taken, ties -> larger cross-section -> lower index), first among the slices
where the cross-section is >= half the maximum, then among the rest. The lesions' orders are
interleaved round-robin (every lesion's key slice before any lesion's second slice), duplicate
slices dropped, and the first ``--per-class-per-volume`` kept. ``--max-slices`` caps the total:
picks are taken rank by rank (every volume/class's first pick before any second pick), within a
rank the class with fewer picks so far goes first, then by seed -- so volumes and classes stay
balanced when the cap bites.

Files (in DIR; older ``slice_*`` files and ``meta.json`` there are removed first):

* ``slice_<k>_hu.f32``: the HU slice exactly as the phantom made it (float32 little-endian,
  C order, rows x columns, typically 512 x 512), before any padding fill, resizing or
  windowing. The phantom has no padding value and every value is finite, so the card's
  padding rule (``input.padding``) changes nothing; the TS side runs its own preprocessing.
* ``slice_<k>_mask.u8``: the union of that class's lesion masks on that slice (uint8 0/1,
  same rows x columns).
* ``meta.json``: every entry and the provenance (see ``build``). No timings, so the same
  arguments give byte-identical files.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

DEFAULT_CARD = REPO / "resources" / "models" / "resight-ct-lesion.card.json"
DEFAULT_FIRST_SEED = 3_000_000
DEFAULT_VOLUMES = 10
DEFAULT_MAX_SLICES = 44            # 44 x (1 MiB HU + 256 KiB mask) = 55 MiB (57.7 MB)
DEFAULT_PER_CLASS_PER_VOLUME = 4
SCHEMA = "resight.localization-set/1"
CORE_FRACTION = 0.5                # "larger cross-sections": >= half the lesion's maximum area


# ----------------------------------------------------------------------------- selection

def lesion_slice_areas(vol, i: int) -> Dict[int, int]:
    """{slice index: pixels} of lesion i's own mask (slices where it is non-empty)."""
    (k0, _, _), m = vol.lesion_mask(i)
    areas = m.reshape(m.shape[0], -1).sum(1)
    return {int(k0 + j): int(a) for j, a in enumerate(areas) if a > 0}


def order_lesion_slices(areas: Dict[int, int], candidates: Sequence[int]) -> List[int]:
    """Order one lesion's candidate slices: key slice (largest area) first, then farthest-point
    in z (ties: larger area, then lower index), slices with area >= CORE_FRACTION * max first."""
    cand = sorted(int(k) for k in candidates)
    if not cand:
        return []
    amax = max(areas[k] for k in cand)
    core = [k for k in cand if areas[k] >= CORE_FRACTION * amax]
    rest = [k for k in cand if areas[k] < CORE_FRACTION * amax]
    picked: List[int] = [max(core, key=lambda k: (areas[k], -k))]
    for pool in (core, rest):
        left = [k for k in pool if k not in picked]
        while left:
            best = max(left, key=lambda k: (min(abs(k - p) for p in picked), areas[k], -k))
            picked.append(best)
            left.remove(best)
    return picked


def volume_class_queue(vol, cls: str, labels: np.ndarray, ci: int, min_area_mm2: float) -> List[int]:
    """All positive slices of ``cls`` that some lesion of the class meets the area rule on, in
    preference order (round-robin over the class's lesions, largest first)."""
    px = float(vol.spacing[1]) * float(vol.spacing[2])
    per_lesion = []
    for i, les in enumerate(vol.lesions):
        if les["class"] != cls:
            continue
        areas = lesion_slice_areas(vol, i)
        cand = [k for k, a in areas.items() if labels[k, ci] and a * px >= min_area_mm2]
        if cand:
            per_lesion.append((max(areas[k] for k in cand), i, order_lesion_slices(areas, cand)))
    per_lesion.sort(key=lambda t: (-t[0], t[1]))
    out: List[int] = []
    depth = max((len(t[2]) for t in per_lesion), default=0)
    for r in range(depth):
        for _, _, lst in per_lesion:
            if r < len(lst) and lst[r] not in out:
                out.append(lst[r])
    return out


def allocate(queues: List[Tuple[int, int, List[int]]], max_slices: int, n_classes: int) -> List[Tuple[int, int, int, int]]:
    """queues: [(volume position, class index, ordered slices)]. Returns the picks
    [(volume position, class index, slice, rank)] in the order taken (see module doc)."""
    taken: List[Tuple[int, int, int, int]] = []
    per_class = [0] * n_classes
    depth = max((len(q) for _, _, q in queues), default=0)
    for r in range(depth):
        layer = [(v, c, q[r]) for v, c, q in queues if r < len(q)]
        while layer and len(taken) < max_slices:
            j = min(range(len(layer)), key=lambda t: (per_class[layer[t][1]], layer[t][1], layer[t][0]))
            v, c, k = layer.pop(j)
            taken.append((v, c, k, r))
            per_class[c] += 1
        if len(taken) >= max_slices:
            break
    return taken


# ----------------------------------------------------------------------------- entries

def lesion_records(vol, cls: str, k: int) -> List[dict]:
    """The lesions of ``cls`` whose own mask is non-empty on slice k (all of them make up the
    union mask), with their centroid / box / area on that slice."""
    px = float(vol.spacing[1]) * float(vol.spacing[2])
    out = []
    for i, les in enumerate(vol.lesions):
        if les["class"] != cls:
            continue
        (k0, r0, c0), m = vol.lesion_mask(i)
        j = k - k0
        if j < 0 or j >= m.shape[0] or not m[j].any():
            continue
        rows, cols = np.nonzero(m[j])
        n = int(rows.size)
        out.append({
            "lesionIndex": i,
            "diameter_mm": float(les["diameter_mm"]),
            "kind": les["kind"],
            "shape": les["shape"],
            "margin": les["margin"],
            "juxta": les["juxta"],
            "centroid": [round(float(c0 + cols.mean()), 2), round(float(r0 + rows.mean()), 2)],
            "box": [int(c0 + cols.min()), int(r0 + rows.min()), int(c0 + cols.max()), int(r0 + rows.max())],
            "area": n,
            "areaMm2": round(n * px, 2),
            "meetsLabelRule": bool(n * px >= _min_area()),
            "keySlice": int(les["key_slice"]),
            "isKeySlice": bool(int(les["key_slice"]) == k),
            "slices": [int(les["slices"][0]), int(les["slices"][1])],
        })
    return out


def _min_area() -> float:
    from training.phantom import MIN_LABEL_AREA_MM2
    return float(MIN_LABEL_AREA_MM2)


def _clean(out: Path) -> None:
    for p in list(out.glob("slice_*_hu.f32")) + list(out.glob("slice_*_mask.u8")) + [out / "meta.json"]:
        if p.is_file():
            p.unlink()


def _write_json(path: Path, obj) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2) + "\n")
    os.replace(tmp, path)


# ----------------------------------------------------------------------------- build

def build(out: Path, *, volumes: int = DEFAULT_VOLUMES, first_seed: int = DEFAULT_FIRST_SEED,
          max_slices: int = DEFAULT_MAX_SLICES, per_class_per_volume: int = DEFAULT_PER_CLASS_PER_VOLUME,
          card_path: Path = DEFAULT_CARD, command: Optional[str] = None, log=print) -> dict:
    from training import dataset as D
    from training.phantom import CLASSES, GENERATOR_VERSION, MIN_LABEL_AREA_MM2, make_volume

    if volumes < 1 or max_slices < 1 or per_class_per_volume < 1:
        raise SystemExit("--volumes, --max-slices and --per-class-per-volume must be >= 1")
    seeds = [first_seed + i for i in range(volumes)]
    used = {split: (base, base + 999_999) for split, base in D.SEED_BASE.items()}
    clash = [f"{s} ({split})" for s in seeds for split, (lo, hi) in used.items() if lo <= s <= hi]
    if clash:
        log(f"warning: seeds inside the model's train/val/test ranges: {', '.join(clash[:5])}"
            f"{' ...' if len(clash) > 5 else ''} -- the set is not held out")

    card = json.loads(Path(card_path).read_text())
    classes = list(card["outputs"]["classes"])
    missing = [c for c in CLASSES if c not in classes]
    if missing:
        raise SystemExit(f"card {card_path} lacks the phantom classes {missing}")
    gen_card = card.get("training", {}).get("generator", {})
    fingerprint = D.phantom_fingerprint()

    # pass 1: generate, rank candidates, keep only the candidate slices (<= 2 * per-class caps)
    t_all = time.time()
    queues: List[Tuple[int, int, List[int]]] = []
    kept: Dict[Tuple[int, int, int], dict] = {}
    vol_info = []
    for vi, seed in enumerate(seeds):
        t0 = time.time()
        vol = make_volume(seed)
        labels = np.asarray(vol.slice_labels(), dtype=np.uint8)
        Z, rows, cols = vol.hu.shape
        row_mm, col_mm = float(vol.spacing[1]), float(vol.spacing[2])
        counts = {}
        for cls in CLASSES:
            ci_ph = list(CLASSES).index(cls)
            q = volume_class_queue(vol, cls, labels, ci_ph, MIN_LABEL_AREA_MM2)[:per_class_per_volume]
            counts[cls] = len(q)
            ci = classes.index(cls)
            queues.append((vi, ci, q))
            for k in q:
                hu = np.ascontiguousarray(vol.hu[k], dtype="<f4")
                if not np.isfinite(hu).all():
                    raise SystemExit(f"seed {seed} slice {k}: non-finite HU (the phantom should have none)")
                mask = np.ascontiguousarray(vol.masks[cls][k] != 0, dtype=np.uint8)
                kept[(vi, ci, k)] = {
                    "hu": hu.copy(), "mask": mask,
                    "entry": {
                        "volumeSeed": int(seed), "sliceIndex": int(k), "class": cls, "classIndex": ci,
                        "rows": int(rows), "columns": int(cols), "pixelSpacing": [row_mm, col_mm],
                        "sliceThickness": float(vol.spacing[0]),
                        "imagePositionPatient": [round(float(v), 4) for v in vol.position(int(k))],
                        "slicesInVolume": int(Z),
                        "labels": {c: int(labels[k, list(CLASSES).index(c)]) for c in CLASSES},
                        "maskArea": int(mask.sum()),
                        "maskAreaMm2": round(float(mask.sum()) * row_mm * col_mm, 2),
                        "huMin": round(float(hu.min()), 2), "huMax": round(float(hu.max()), 2),
                        "lesions": lesion_records(vol, cls, int(k)),
                    }}
        vol_info.append({"seed": int(seed), "slices": int(Z), "rows": int(rows), "columns": int(cols),
                         "spacing": [float(s) for s in vol.spacing], "contrast": vol.meta["contrast"],
                         "region": vol.meta["region"], "noiseSigma": vol.meta["noise_sigma"],
                         "positiveSlices": {c: int(labels[:, list(CLASSES).index(c)].sum()) for c in CLASSES},
                         "lesions": {c: sum(1 for l_ in vol.lesions if l_["class"] == c) for c in CLASSES}})
        log(f"seed {seed}: {Z} slices {rows}x{cols}, positive {vol_info[-1]['positiveSlices']}, "
            f"candidates {counts} ({time.time() - t0:.1f}s)")
        del vol

    # pass 2: cap the total, balanced over ranks / classes / volumes; ids in (seed, class, slice) order
    picks = allocate(queues, max_slices, len(classes))
    rank = {(v, c, k): r for v, c, k, r in picks}
    chosen = sorted(rank, key=lambda t: (t[0], t[1], t[2]))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    _clean(out)
    entries = []
    total = 0
    for k_id, key in enumerate(chosen):
        item = kept[key]
        fh, fm = f"slice_{k_id}_hu.f32", f"slice_{k_id}_mask.u8"
        item["hu"].tofile(out / fh)
        item["mask"].tofile(out / fm)
        total += item["hu"].nbytes + item["mask"].nbytes
        e = item["entry"]
        entries.append({"id": k_id, **{k: e[k] for k in ("volumeSeed", "sliceIndex", "class", "classIndex", "rows",
                                                          "columns", "pixelSpacing")},
                        "hu": fh, "mask": fm, "maskArea": e["maskArea"], "lesions": e["lesions"],
                        **{k: e[k] for k in ("maskAreaMm2", "labels", "sliceThickness", "imagePositionPatient",
                                             "slicesInVolume", "huMin", "huMax")},
                        "selectionRank": rank[key]})

    per_class = {c: sum(1 for e in entries if e["class"] == c) for c in classes}
    meta = {
        "schema": SCHEMA,
        "description": "Held-out phantom CT slices with lesion masks for localization metrics of the explain "
                       "engine (pointing game, saliency energy inside the mask, deletion AUC). Synthetic data; "
                       "not for clinical use.",
        "generator": {"module": "training.phantom", "function": "make_volume(seed) (default random VolumeSpec)",
                      "version": GENERATOR_VERSION, "sourceFingerprint": fingerprint,
                      "cardSourceFingerprint": gen_card.get("sourceFingerprint"),
                      "matchesCard": bool(gen_card.get("sourceFingerprint") == fingerprint
                                          and gen_card.get("version") == GENERATOR_VERSION)},
        "seeds": {"first": int(first_seed), "count": int(volumes), "list": seeds,
                  "heldOut": not clash,
                  "why": "seeds from 3000000 lie outside the train (0..999999), val (1000000..1999999) and test "
                         "(2000000..2999999, evaluate.py / golden.py) ranges of training/dataset.py, so no slice "
                         "was seen in training or model selection or reused from the card's test metrics"},
        "command": command,
        "card": {"file": _rel(Path(card_path)), "name": card.get("name"), "version": card.get("version")},
        "classes": classes,
        "labelRule": {"minAreaMm2": float(MIN_LABEL_AREA_MM2),
                      "rule": f"a slice is positive for a class when that class's mask covers >= "
                              f"{MIN_LABEL_AREA_MM2:g} mm^2 of it (training.phantom Volume.slice_labels(), the "
                              "training labels); every entry's slice is positive for its class"},
        "selection": {"perClassPerVolume": int(per_class_per_volume), "maxSlices": int(max_slices),
                      "coreFraction": CORE_FRACTION,
                      "rule": "per volume and class: lesions largest first, round-robin; per lesion: slices where "
                              "its own mask meets the label rule, key slice (largest cross-section) first, then "
                              "farthest-point in z among slices with >= 0.5 x the maximum area, then the rest; "
                              "total capped rank by rank (selectionRank), fewer-picked class first, then seed"},
        "format": {"hu": "float32 little-endian, C (row-major) order, rows x columns, no header: Hounsfield units "
                         "as generated, before padding fill, resizing and windowing (no padding value; all finite)",
                   "mask": "uint8 0/1, C order, rows x columns, no header: union of the entry class's lesion masks "
                           "on the slice (each lesion's hard body, occupancy >= 0.5, inside its host organ)",
                   "geometry": "row r = y (anterior -> posterior), column c = x (patient right -> left); "
                               "pixelSpacing = [row mm, column mm]; mask and HU share the geometry; the model input "
                               "is this slice resized to the card's input size (half-pixel-centre bilinear)",
                   "centroid": "lesions[].centroid = [x, y] = [column, row] (0-based pixels) of that lesion's own "
                               "mask's centre of mass on this slice; box = [x0, y0, x1, y1] inclusive",
                   "labels": "labels = both classes' slice labels (the other class may be present too)"},
        "volumes": vol_info,
        "counts": {"entries": len(entries), "perClass": per_class, "bytes": int(total)},
        "entries": entries,
    }
    _write_json(out / "meta.json", meta)
    size = total + (out / "meta.json").stat().st_size
    log(f"wrote {len(entries)} slices to {out} ({per_class}), {size / 2**20:.1f} MiB, "
        f"{time.time() - t_all:.0f}s")
    return meta


def _rel(p: Path) -> str:
    try:
        return str(Path(p).resolve().relative_to(REPO))
    except ValueError:
        return str(p)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python3 -m training.localization_set", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="output directory (slice_* files and meta.json)")
    ap.add_argument("--volumes", type=int, default=DEFAULT_VOLUMES)
    ap.add_argument("--first-seed", type=int, default=DEFAULT_FIRST_SEED)
    ap.add_argument("--max-slices", type=int, default=DEFAULT_MAX_SLICES)
    ap.add_argument("--per-class-per-volume", type=int, default=DEFAULT_PER_CLASS_PER_VOLUME)
    ap.add_argument("--card", default=str(DEFAULT_CARD))
    a = ap.parse_args(argv)
    # canonical command: every setting explicit, so meta.json records how to reproduce the set
    parts = ["/usr/bin/python3", "-m", "training.localization_set", "--out", _rel(Path(a.out)),
             "--volumes", str(a.volumes), "--first-seed", str(a.first_seed), "--max-slices", str(a.max_slices),
             "--per-class-per-volume", str(a.per_class_per_volume)]
    if Path(a.card).resolve() != DEFAULT_CARD.resolve():
        parts += ["--card", _rel(Path(a.card))]
    build(Path(a.out), volumes=a.volumes, first_seed=a.first_seed, max_slices=a.max_slices,
          per_class_per_volume=a.per_class_per_volume, card_path=Path(a.card),
          command=" ".join(shlex.quote(p) for p in parts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
