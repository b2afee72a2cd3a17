"""Metric helpers shared by train.py, evaluate.py and finetune.py (numpy only)."""
from __future__ import annotations

import math
from typing import Dict, List, Tuple

import numpy as np
from scipy.stats import rankdata


def roc_auc(y: np.ndarray, s: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney U, ties count half). NaN if one class is absent."""
    y = np.asarray(y).astype(bool)
    s = np.asarray(s, dtype=np.float64)
    n1, n0 = int(y.sum()), int((~y).sum())
    if n1 == 0 or n0 == 0:
        return float("nan")
    r = rankdata(s)
    return float((r[y].sum() - n1 * (n1 + 1) / 2.0) / (n1 * n0))


def per_class_auc(labels: np.ndarray, probs: np.ndarray) -> List[float]:
    """ROC AUC of each column of multi-label ``labels`` [N, C] against ``probs`` [N, C]."""
    return [roc_auc(labels[:, i], probs[:, i]) for i in range(labels.shape[1])]


def sens_spec(y: np.ndarray, s: np.ndarray, t: float) -> Tuple[float, float]:
    y = np.asarray(y).astype(bool)
    pred = np.asarray(s, dtype=np.float64) >= t  # in float64, as the viewer compares (NumPy 1.x would cast t to float32)
    sens = float((pred & y).sum() / max(y.sum(), 1)) if y.any() else float("nan")
    spec = float((~pred & ~y).sum() / max((~y).sum(), 1)) if (~y).any() else float("nan")
    return sens, spec


def youden_threshold(y: np.ndarray, s: np.ndarray) -> Tuple[float, float]:
    """Threshold t maximising Youden's J = sensitivity + specificity - 1 (positive iff s >= t).

    Returns (t, J). t is placed half-way (in score space) between the chosen score and the next
    lower distinct score, so it is not sitting exactly on a validation sample."""
    y = np.asarray(y).astype(bool)
    s = np.asarray(s, dtype=np.float64)
    if not y.any() or y.all():
        return 0.5, float("nan")
    order = np.argsort(-s, kind="mergesort")
    ss, yy = s[order], y[order]
    tp = np.cumsum(yy)
    fp = np.cumsum(~yy)
    last = np.r_[ss[1:] != ss[:-1], True]  # last index of each distinct score
    tpr = tp[last] / y.sum()
    fpr = fp[last] / (~y).sum()
    j = tpr - fpr
    k = int(np.argmax(j))
    uniq = ss[last]
    t = uniq[k] if k + 1 >= len(uniq) else 0.5 * (uniq[k] + uniq[k + 1])
    return float(t), float(j[k])


def threshold_for_specificity(y: np.ndarray, s: np.ndarray, target: float) -> float:
    """The lowest threshold t (positive iff s >= t) whose specificity is >= ``target``: just above
    the ceil(target * negatives)-th lowest negative score (half-way to the next distinct score)."""
    y = np.asarray(y).astype(bool)
    neg = np.sort(np.asarray(s, dtype=np.float64)[~y])
    if not len(neg):
        return 0.5
    k = int(math.ceil(target * len(neg) - 1e-9))
    if k <= 0:
        return float(neg[0])
    lo = neg[k - 1]
    above = np.asarray(s, dtype=np.float64)[np.asarray(s, dtype=np.float64) > lo]
    return float(0.5 * (lo + above.min())) if len(above) else float(np.nextafter(lo, np.inf))


def threshold_for_sensitivity(y: np.ndarray, s: np.ndarray, target: float) -> float:
    """The highest threshold t (positive iff s >= t) whose sensitivity is >= ``target``: half-way
    between the ceil(target * positives)-th highest positive score and the next lower score."""
    y = np.asarray(y).astype(bool)
    sc = np.asarray(s, dtype=np.float64)
    pos = np.sort(sc[y])[::-1]
    if not len(pos):
        return 0.5
    k = max(int(math.ceil(target * len(pos) - 1e-9)), 1)
    hi = pos[k - 1]
    below = sc[sc < hi]
    return float(0.5 * (hi + below.max())) if len(below) else float(hi)


# The operating points a card offers besides its default (Youden's J), chosen on validation:
# (id, label, kind, target). A site that wants fewer flags per study picks the specificity point;
# one that screens, the sensitivity point.
OPERATING_POINTS = (
    ("specificity-90", "High specificity (>= 0.90 on validation)", "specificity", 0.90),
    ("sensitivity-95", "High sensitivity (>= 0.95 on validation)", "sensitivity", 0.95),
)


def operating_points(labels: np.ndarray, probs: np.ndarray, classes, youden: Dict[str, float]) -> list:
    """The card's ``outputs.operatingPoints``: "balanced" (the Youden thresholds, the default)
    plus OPERATING_POINTS, each with its thresholds and the validation sensitivity/specificity.
    A point is never on the wrong side of "balanced" for a class: where the balanced threshold
    already meets the high-specificity (high-sensitivity) target, that point keeps it instead of
    going below (above) it, so "High sensitivity" is never less sensitive than the default."""
    out = []
    for pid, label, kind, target in (("balanced", "Balanced (Youden's J on validation)", None, None),) + OPERATING_POINTS:
        thr = {}
        for i, c in enumerate(classes):
            y, sc = labels[:, i], probs[:, i]
            b = float(youden[c])
            thr[c] = (b if kind is None else
                      max(threshold_for_specificity(y, sc, target), b) if kind == "specificity" else
                      min(threshold_for_sensitivity(y, sc, target), b))
        val = {c: dict(zip(("sensitivity", "specificity"), sens_spec(labels[:, i], probs[:, i], thr[c])))
               for i, c in enumerate(classes)}
        out.append({"id": pid, "label": label, "thresholds": thr, "validation": val})
    return out


def per_class_summary(labels: np.ndarray, probs: np.ndarray, classes, thresholds: Dict[str, float]) -> dict:
    out = {}
    for i, c in enumerate(classes):
        sens, spec = sens_spec(labels[:, i], probs[:, i], thresholds[c])
        out[c] = {"rocAuc": roc_auc(labels[:, i], probs[:, i]), "threshold": thresholds[c],
                  "sensitivity": sens, "specificity": spec,
                  "positives": int(labels[:, i].sum()), "negatives": int((1 - labels[:, i]).sum())}
    return out


def within_group_auc(y: np.ndarray, s: np.ndarray, groups: np.ndarray) -> Tuple[float, int]:
    """Mean ROC AUC inside each group (e.g. each scan) that holds both labels, and how many such
    groups there are. Unlike the pooled AUC it ignores a score offset shared by a whole group, so
    the gap between the two says how much of the pooled error is scan-to-scan calibration."""
    y, s, groups = np.asarray(y).astype(bool), np.asarray(s), np.asarray(groups)
    aucs = []
    for g in np.unique(groups):
        m = groups == g
        if y[m].any() and not y[m].all():
            aucs.append(roc_auc(y[m], s[m]))
    return (float(np.mean(aucs)) if aucs else float("nan")), len(aucs)


def sphere_chord_mm(diameter_mm: float, dz_mm: float) -> float:
    """Diameter of a sphere's cross-section at distance dz_mm from its centre plane (0 beyond it):
    the size a lesion shows on a slice, for lesions modelled as (roughly) spherical."""
    r = diameter_mm / 2.0
    return float(2.0 * np.sqrt(max(r * r - dz_mm * dz_mm, 0.0)))
