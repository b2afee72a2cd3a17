"""Held-out evaluation of the exported model; writes the metrics into the model card and a
Markdown report.

    /usr/bin/python3 -m training.evaluate --test-volumes 40

Test volumes are phantoms with seeds 2 000 000 + i (never used in training or selection); every
slice of each volume is scored (natural prevalence, as the viewer scores a series). Reported:

* per class: slice-level ROC AUC (with a 95% bootstrap CI over volumes), sensitivity and
  specificity at the card's operating threshold;
* per class, to show where the errors are: the mean ROC AUC inside each scan (a gap to the pooled
  AUC is scan-to-scan calibration: one scan's slices all scoring high or low), and the AUC with
  positives restricted to slices where the lesion's cross-section (sphere chord from its
  diameter, centre slice and slice spacing) is at least 5, 8 and 12 mm;
* per class and lesion size bin (lung nodules < 8 mm separately): lesion-level sensitivity
  (a lesion counts as found when any slice it covers scores >= threshold) and key-slice
  sensitivity (the lesion's key slice -- its largest cross-section, phantom ``key_slice`` --
  scores >= threshold).

The checkpoint's PyTorch forward pass does the scoring (fast); before that the shipped ONNX
graph is checked against it on a few test slices with the independent numpy evaluator
(training/onnx_ref.py), and the card's sha256 is checked against the ONNX file.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import shlex
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from training import dataset as D  # noqa: E402
from training import metrics as M  # noqa: E402


def _fmt(v, nd=3):
    return "n/a" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.{nd}f}"


def size_bin_rows(cls, lesions, bins):
    rows = []
    edges = list(bins) + [float("inf")]
    for lo, hi in zip(edges[:-1], edges[1:]):
        sel = [l for l in lesions if l["class"] == cls and lo <= l["diameter_mm"] < hi]
        label = f"< {hi:g} mm" if lo == 0 else (f">= {lo:g} mm" if hi == float("inf") else f"{lo:g}-{hi:g} mm")
        rows.append({"label": label, "rangeMm": [lo, None if hi == float("inf") else hi], "lesions": len(sel),
                     "lesionSensitivity": (float(np.mean([l["found"] for l in sel])) if sel else None),
                     "keySliceSensitivity": (float(np.mean([l["found_key"] for l in sel])) if sel else None)})
    return rows


XSEC_MM = (5.0, 8.0, 12.0)


def rows_by_z(test, info) -> dict:
    """Slice index z -> row of ``test`` for one volume (``info``, an entry of ``test.volumes``)."""
    sel = np.flatnonzero(test.seed == info["seed"])
    return {int(z): int(k) for z, k in zip(test.z[sel], sel)}


def cross_sections(test, classes) -> np.ndarray:
    """[M, C]: per slice and class, the largest cross-section (mm) of a lesion of that class on the
    slice, from each lesion's diameter and centre slice (``zc``) and the volume's slice spacing;
    approximate for lobulated or spiculated lesions, 0 where none."""
    out = np.zeros((len(test), len(classes)))
    for info in test.volumes:
        zmap = rows_by_z(test, info)
        dz = float(info["spacing"][0])
        for les in info["lesions"]:
            if les["class"] not in classes:
                continue
            ci = classes.index(les["class"])
            zc = les.get("zc", (les["z0"] + les["z1"]) / 2)
            for z in range(les["z0"], les["z1"] + 1):
                if z in zmap:
                    k = zmap[z]
                    out[k, ci] = max(out[k, ci], M.sphere_chord_mm(les["diameter_mm"], (z - zc) * dz))
    return out


def bootstrap_auc_ci(y, s, vol_index, n_boot=200, seed=0):
    rng = np.random.default_rng(seed)
    vols = np.unique(vol_index)
    groups = [np.flatnonzero(vol_index == v) for v in vols]
    aucs = []
    for _ in range(n_boot):
        pick = rng.integers(0, len(vols), len(vols))
        idx = np.concatenate([groups[k] for k in pick])
        a = M.roc_auc(y[idx], s[idx])
        if not np.isnan(a):
            aucs.append(a)
    if len(aucs) < 20:
        return None
    return [float(np.percentile(aucs, 2.5)), float(np.percentile(aucs, 97.5))]


def evaluate(card_path: Path, checkpoint: Path, test_volumes: int, workers: int, threads: int,
             write: bool, report: Path, command: str) -> dict:
    import onnx
    import torch
    from training import onnx_ref
    from training.export import sha256_file, write_json
    from training.model import load_checkpoint
    from training.train import predict
    torch.set_num_threads(threads)
    card = json.loads(card_path.read_text())
    onnx_path = card_path.parent / card["onnx"]["file"]
    sha = sha256_file(onnx_path)
    if sha != card["onnx"]["sha256"]:
        raise SystemExit(f"card sha256 {card['onnx']['sha256']} does not match {onnx_path} ({sha})")
    net, ck = load_checkpoint(checkpoint)
    classes = card["outputs"]["classes"]
    if list(ck["classes"]) != list(classes):
        raise SystemExit("checkpoint and card classes differ")
    thresholds = card["outputs"]["thresholds"]

    t0 = time.time()
    paths = D.ensure_split("test", test_volumes, workers=workers)
    test = D.SliceSet(paths)
    print(f"test set {test.describe()} ({time.time() - t0:.0f}s)")

    # the shipped graph == the checkpoint (numpy ONNX evaluator on a few slices)
    model = onnx.load(str(onnx_path))
    pick = np.linspace(0, len(test) - 1, 4).astype(int)
    x = D.windowed(test.hu[pick]).numpy()
    got = onnx_ref.run(model, {"input": x}, ["probabilities"])["probabilities"]
    with torch.no_grad():
        ref = torch.sigmoid(net(torch.from_numpy(x))).numpy()
    err = float(np.abs(got - ref).max())
    if err > 1e-4:
        raise SystemExit(f"ONNX and checkpoint disagree (max |dp| {err:.2e}): re-export the checkpoint")

    t1 = time.time()
    probs = predict(net, test.hu)
    print(f"scored {len(test)} slices in {time.time() - t1:.0f}s")
    vol_index = test.seed
    per_class = M.per_class_summary(test.labels, probs, classes, thresholds)
    for i, c in enumerate(classes):
        per_class[c]["rocAuc95ci"] = bootstrap_auc_ci(test.labels[:, i], probs[:, i], vol_index)

    xsec = cross_sections(test, classes)
    for i, c in enumerate(classes):
        wv, nv = M.within_group_auc(test.labels[:, i], probs[:, i], vol_index)
        per_class[c]["withinScanRocAuc"] = {"mean": wv, "scans": nv}
        rows = []
        for lo in XSEC_MM:
            keep = (test.labels[:, i] == 0) | (xsec[:, i] >= lo)
            rows.append({"minCrossSectionMm": lo, "positives": int(test.labels[keep, i].sum()),
                         "rocAuc": M.roc_auc(test.labels[keep, i], probs[keep, i])})
        per_class[c]["rocAucByCrossSection"] = rows
        neg = []
        for v in np.unique(vol_index):
            m = (vol_index == v) & (test.labels[:, i] == 0)
            if m.any():
                neg.append(float(probs[m, i].mean()))
        per_class[c]["meanNegativeScorePerScan"] = {"min": float(np.min(neg)), "median": float(np.median(neg)),
                                                    "max": float(np.max(neg))}

    # held-out sensitivity / specificity at each named operating point of the card
    points = []
    for op in card["outputs"].get("operatingPoints", []):
        points.append({"id": op["id"], "label": op["label"], "perClass": {
            c: dict(zip(("threshold", "sensitivity", "specificity"),
                        (op["thresholds"][c], *M.sens_spec(test.labels[:, i], probs[:, i], op["thresholds"][c]))))
            for i, c in enumerate(classes)}})

    # lesion-level sensitivity by size
    lesions = []
    for info in test.volumes:
        zmap = rows_by_z(test, info)
        for les in info["lesions"]:
            ci = classes.index(les["class"]) if les["class"] in classes else None
            if ci is None:
                continue
            ks = [zmap[z] for z in range(les["z0"], les["z1"] + 1) if z in zmap]
            if not ks:
                continue
            zc = les.get("zc", (les["z0"] + les["z1"]) // 2)
            t = thresholds[les["class"]]
            lesions.append({**les, "found": bool(probs[ks, ci].max() >= t),
                            "found_key": bool(probs[zmap.get(zc, ks[len(ks) // 2]), ci] >= t)})
    for c in classes:
        per_class[c]["sizeBins"] = size_bin_rows(c, lesions, D.SIZE_BINS.get(c, [0.0]))
        sel = [l for l in lesions if l["class"] == c]
        per_class[c]["lesionSensitivity"] = float(np.mean([l["found"] for l in sel])) if sel else None
        per_class[c]["lesions"] = len(sel)

    desc = test.describe()
    metrics = {
        "dataset": (f"held-out test set: {desc['volumes']} phantom volumes (seeds {D.SEED_BASE['test']}.."
                    f"{D.SEED_BASE['test'] + desc['volumes'] - 1}), all {desc['slices']} slices "
                    "(positive slices: " + ", ".join(f"{c} {n}" for c, n in desc["positiveSlices"].items())
                    + f"; {desc['negativeSlices']} negative)"),
        "level": "slice (ROC AUC, sensitivity, specificity); lesion (size bins)",
        "thresholdSource": card["outputs"].get("thresholdMethod"),
        "perClass": per_class,
        **({"operatingPoints": points} if points else {}),
        "command": command,
        "onnxSha256": sha,
        "onnxVsCheckpointMaxAbsDiff": err,
        "evaluatedAt": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
    }
    if write:
        card["metrics"] = metrics
        write_json(card_path, card)
        report.write_text(markdown_report(card, metrics))
        print(f"wrote metrics into {card_path} and {report}")
    print(markdown_report(card, metrics))
    return metrics


def markdown_report(card: dict, m: dict) -> str:
    L = [f"# {card['name']} {card['version']}: held-out metrics", "",
         "**Not for clinical use.** Synthetic phantoms only.", "",
         f"- Data: {m['dataset']}", f"- Thresholds: {m['thresholdSource']}",
         f"- ONNX sha256: `{m['onnxSha256']}`", f"- Reproduce: `{m['command']}`", f"- Evaluated: {m['evaluatedAt']}", "",
         "| class | ROC AUC (95% CI) | threshold | sensitivity | specificity | positive / negative slices |",
         "| --- | --- | --- | --- | --- | --- |"]
    for c, v in m["perClass"].items():
        ci = v.get("rocAuc95ci")
        cis = f" ({ci[0]:.3f}-{ci[1]:.3f})" if ci else ""
        L.append(f"| {c} | {_fmt(v['rocAuc'], 4)}{cis} | {_fmt(v['threshold'])} | {_fmt(v['sensitivity'])} | "
                 f"{_fmt(v['specificity'])} | {v['positives']} / {v['negatives']} |")
    if m.get("operatingPoints"):
        L += ["", "At each operating point the card offers (chosen on validation; the viewer's Preferences pick one):", "",
              "| operating point | " + " | ".join(f"{c}: threshold, sensitivity / specificity" for c in m["perClass"]) + " |",
              "| --- | " + " | ".join("---" for _ in m["perClass"]) + " |"]
        for op in m["operatingPoints"]:
            L.append(f"| {op['label']} (`{op['id']}`) | " + " | ".join(
                f"{_fmt(v['threshold'])}, {_fmt(v['sensitivity'])} / {_fmt(v['specificity'])}"
                for v in op["perClass"].values()) + " |")
    L += ["", "Where the errors are: the mean ROC AUC inside each scan (the pooled AUC also counts "
          "scan-to-scan calibration), the spread over scans of the mean score of negative slices, and "
          "the AUC with positives restricted to slices where the lesion's cross-section is at least "
          + ", ".join(f"{x:g}" for x in XSEC_MM) + " mm:", "",
          "| class | within-scan ROC AUC (scans) | mean negative score per scan (min / median / max) | "
          + " | ".join(f"AUC, cross-section >= {x:g} mm (positives)" for x in XSEC_MM) + " |",
          "| --- | --- | --- | " + " | ".join("---" for _ in XSEC_MM) + " |"]
    for c, v in m["perClass"].items():
        w, ns = v.get("withinScanRocAuc"), v.get("meanNegativeScorePerScan")
        if not w or not ns:
            continue
        L.append(f"| {c} | {_fmt(w['mean'])} ({w['scans']}) | {_fmt(ns['min'])} / {_fmt(ns['median'])} / "
                 f"{_fmt(ns['max'])} | " + " | ".join(f"{_fmt(r['rocAuc'])} ({r['positives']})"
                                                    for r in v["rocAucByCrossSection"]) + " |")
    L += ["", "Lesion-level sensitivity at the operating threshold (a lesion is found when any slice it covers "
          "scores at or above it; key slice: its largest cross-section):", "",
          "| class | size | lesions | lesion sensitivity | key-slice sensitivity |", "| --- | --- | --- | --- | --- |"]
    for c, v in m["perClass"].items():
        for r in v["sizeBins"]:
            L.append(f"| {c} | {r['label']} | {r['lesions']} | {_fmt(r['lesionSensitivity'])} | "
                     f"{_fmt(r['keySliceSensitivity'])} |")
    return "\n".join(L) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--card", default=str(REPO / "resources/models/resight-ct-lesion.card.json"))
    ap.add_argument("--checkpoint", default=str(REPO / "training/checkpoints/resight-ct-lesion.pt"))
    ap.add_argument("--test-volumes", type=int, default=40)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--report", default=None, help="Markdown report (default: <card dir>/<name>.report.md)")
    ap.add_argument("--no-write", action="store_true", help="print only; leave the card alone")
    args = ap.parse_args(argv)
    card = Path(args.card)
    report = Path(args.report) if args.report else card.with_name(card.name.replace(".card.json", ".report.md"))
    command = "/usr/bin/python3 -m training.evaluate " + " ".join(
        shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
    evaluate(card, Path(args.checkpoint), args.test_volumes, args.workers, args.threads, not args.no_write, report,
             command.strip())


if __name__ == "__main__":
    main()
