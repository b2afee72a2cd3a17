"""Fine-tune the shipped ResNet on a user's labelled DICOM slices; export ONNX + card.

    /usr/bin/python3 -m training.finetune --csv labels.csv [--data-dir DIR] --out-dir OUT \
        [--name my-model] [--full-epochs 5]

CSV (header row required; UTF-8, with or without Excel's BOM; ',' or ';' delimited): ``path``
(relative to --data-dir, which it may not leave, or absolute), optional ``frame`` (0-based frame
of a multi-frame object; default 0), optional ``group`` (slices of one group -- e.g. one patient
or series -- stay on the same side of the validation split; default: the DICOM PatientID, else
the file's folder; only if that leaves a single group, each folder, then each file, with a
warning), and one column per class holding
exactly 0 or 1 (``0.0``/``1.0`` too), e.g.::

    path,frame,lung_nodule,liver_lesion,cyst
    case01/IM0001.dcm,,1,0,0

Every column but path/frame/group is a class unless --classes names them (then the others are
ignored). Before anything is loaded, every row and file is checked (labels, cells, frame,
exists, DICOM, Modality CT with a HU rescale, single channel, the frame exists) and every class
must have positives and negatives in both training and validation; a problem ends the run with
one line naming the CSV row (the file's line number, header = row 1), file and value.

Files are read with pydicom (modality LUT applied -> HU; PixelPaddingValue pixels -> -1024);
``.npy`` files holding a 2-D HU array are accepted too. Preprocessing is exactly the shipped
model's (training/preprocess.py), so the result is a CT model like the default one.

Steps: (1) build the network from --base (the default model's checkpoint); the head is
replaced by one with the CSV's classes, rows for class names the base model already knows
are copied (so "extending" keeps them); (2) train the head with the backbone frozen
(BatchNorm statistics frozen too), augmentation as in training, dropout before the head;
(3) optionally (--full-epochs N) train the whole network at a small learning rate; early
stopping on the validation split (mean ROC AUC) in both phases; (4) operating thresholds per class by Youden's J on the
validation split; (5) export ONNX + card exactly like the default model, plus <name>.pt.
"""
from __future__ import annotations

import argparse
import copy
import csv
import io
import json
import math
import os
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

RESERVED = ("path", "frame", "group")
MAX_LISTED = 10  # problem rows named in the one-line error


def _die(problems: List[str]) -> None:
    """SystemExit (one line, no traceback) naming the first problem and how many more there are."""
    if not problems:
        return
    msg = problems[0]
    if len(problems) > 1:
        rest = problems[1:]
        msg += f" (and {len(rest)} more problem{'s' if len(rest) > 1 else ''}: " + "; ".join(rest[:3]) + \
            ("; ..." if len(rest) > 3 else "") + ")"
    raise SystemExit(msg)


def _rescale(ds, frame: int):
    """(slope, intercept) turning the stored values of ``frame`` into HU, 'lut' for a Modality LUT
    Sequence, or None when the file says nothing (its values are then not known to be HU). Looks
    at the top level, then (enhanced multi-frame CT) the frame's and the shared functional groups."""
    if "ModalityLUTSequence" in ds:
        return "lut"
    if "RescaleIntercept" in ds:
        return float(ds.get("RescaleSlope", 1) or 1), float(ds.RescaleIntercept)
    for seq_name, idx in (("PerFrameFunctionalGroupsSequence", frame), ("SharedFunctionalGroupsSequence", 0)):
        seq = ds.get(seq_name)
        if seq is None or idx >= len(seq):
            continue
        pvt = seq[idx].get("PixelValueTransformationSequence")
        if pvt and "RescaleIntercept" in pvt[0]:
            return float(pvt[0].get("RescaleSlope", 1) or 1), float(pvt[0].RescaleIntercept)
    return None


def check_file(path: Path, frame: int) -> Optional[str]:
    """Why ``frame`` of ``path`` cannot be a CT training slice (None when it can), from the file's
    header only: exists, is DICOM (or .npy), CT with a HU rescale, single channel, has that frame."""
    if not path.exists():
        return f"no such file (looked for {path})"
    if not path.is_file():
        return "is a folder, not a file"
    if path.suffix.lower() == ".npy":
        try:
            a = np.load(path, mmap_mode="r", allow_pickle=False)
        except Exception as e:
            return f"not a readable .npy array ({e})"
        if a.ndim not in (2, 3) or not np.issubdtype(a.dtype, np.number):
            return f"a .npy must hold a 2-D (or [frames, rows, cols]) numeric HU array, not {a.dtype} {a.shape}"
        n = 1 if a.ndim == 2 else a.shape[0]
    else:
        try:
            import pydicom
            from pydicom.errors import InvalidDicomError
        except ImportError:  # pragma: no cover
            raise SystemExit("pydicom is needed to read DICOM (Debian: apt-get install python3-pydicom)")
        try:
            ds = pydicom.dcmread(str(path), stop_before_pixels=True)
        except InvalidDicomError:
            return "not a DICOM file"
        except Exception as e:
            return f"cannot read the DICOM header ({type(e).__name__}: {e})"
        modality = str(ds.get("Modality", "") or "").strip()
        if modality != "CT":
            return (f"Modality is {modality!r}, not CT" if modality else "has no Modality, so is not known to be CT") + \
                " (fine-tuning trains a CT model on Hounsfield units; only CT slices can be used)"
        spp = int(ds.get("SamplesPerPixel", 1) or 1)
        if spp != 1:
            return f"a colour image (SamplesPerPixel {spp}); CT slices are single-channel"
        n = int(ds.get("NumberOfFrames", 1) or 1)
        if 0 <= frame < n and _rescale(ds, frame) is None:
            return "has no Rescale Slope/Intercept, so its pixel values are not known to be Hounsfield units"
    if not 0 <= frame < n:
        return f"frame {frame} does not exist (the file has {n} frame{'s' if n > 1 else ''}: 0..{n - 1})"
    return None


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
    if not 0 <= frame < n_frames:
        raise SystemExit(f"{path}: frame {frame} out of range (0..{n_frames - 1})")
    if n_frames > 1:
        arr = arr[frame]
    if arr.ndim != 2:
        raise SystemExit(f"{path}: expected a single-channel image, got shape {arr.shape}")
    pad = None
    ppv = getattr(ds, "PixelPaddingValue", None)
    if ppv is not None:
        lim = getattr(ds, "PixelPaddingRangeLimit", None)
        lo, hi = (min(ppv, lim), max(ppv, lim)) if lim is not None else (ppv, ppv)
        pad = (arr >= lo) & (arr <= hi)
    rs = _rescale(ds, frame)
    if rs is None:
        raise SystemExit(f"{path}: no Rescale Slope/Intercept, so its pixel values are not known to be HU")
    if rs == "lut" or "RescaleIntercept" in ds:
        hu = np.asarray(apply_modality_lut(arr, ds), dtype=np.float32)
    else:  # enhanced CT: the rescale sits in the functional groups
        hu = arr.astype(np.float32) * np.float32(rs[0]) + np.float32(rs[1])
    return hu, pad


def _sniff_delimiter(header_line: str) -> str:
    """',' unless the header holds no ',' but does hold ';' (Excel in many locales) or a tab."""
    for d in (",", ";", "\t"):
        if d in header_line:
            return d
    return ","


def _label(value: str) -> Optional[int]:
    """0 or 1 for '0', '1', '0.0', '1.0' (spreadsheets write either); None for anything else."""
    try:
        f = float(value)
    except ValueError:
        return None
    return int(f) if f in (0.0, 1.0) else None


def read_csv(csv_path: Path, data_dir: Optional[Path], classes: Optional[List[str]] = None):
    """(classes, items) from the label CSV; SystemExit naming the CSV row (the file's line number,
    header = row 1, as a spreadsheet numbers it), column and value of every problem found.
    ``classes``: the class columns (others are ignored); default every column but path/frame/group."""
    csv_path = Path(csv_path)
    name = csv_path.name
    if not csv_path.is_file():
        raise SystemExit(f"{csv_path}: no such file")
    base = Path(data_dir) if data_dir else csv_path.parent
    if not base.is_dir():
        raise SystemExit(f"--data-dir {base}: no such folder")
    try:
        text = csv_path.read_text(encoding="utf-8-sig")  # Excel's "CSV UTF-8" starts with a BOM
    except UnicodeDecodeError as e:
        raise SystemExit(f"{csv_path}: not UTF-8 text (byte {e.start}); save it as 'CSV UTF-8'")
    first = next((ln for ln in text.splitlines() if ln.strip()), None)
    if first is None:
        raise SystemExit(f"{name}: empty; the first row must be a header: path, then one 0/1 column per class")
    delim = _sniff_delimiter(first)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    header, rows = None, []
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue  # blank line, or a spreadsheet's row of empty cells
        if header is None:
            header = [c.strip() for c in cells]
        else:
            rows.append((reader.line_num, [c.strip() for c in cells]))
    shown = f"(header read with delimiter {delim!r}: {', '.join(header)})"
    unnamed = [str(i + 1) for i, c in enumerate(header) if not c]
    if unnamed:
        raise SystemExit(f"{name} row 1: column{'s' if len(unnamed) > 1 else ''} {', '.join(unnamed)} "
                         f"{'have' if len(unnamed) > 1 else 'has'} no name {shown}")
    dups = sorted({c for c in header if header.count(c) > 1})
    if dups:
        raise SystemExit(f"{name} row 1: column {dups[0]!r} appears {header.count(dups[0])} times in the header {shown}")
    if "path" not in header:
        raise SystemExit(f"{name}: needs a 'path' column {shown}")
    others = [c for c in header if c not in RESERVED]
    classes_named = bool(classes)
    if classes:
        missing = [c for c in classes if c not in header]
        if missing:
            raise SystemExit(f"{name}: --classes names {', '.join(missing)}, not in the header {shown}")
        bad = [c for c in classes if c in RESERVED]
        if bad:
            raise SystemExit(f"--classes: {', '.join(bad)} is not a class column")
        ignored = [c for c in others if c not in classes]
        if ignored:
            print(f"ignoring CSV column{'s' if len(ignored) > 1 else ''} {', '.join(ignored)} (not in --classes)")
        classes = list(classes)
    else:
        classes = others
    if not classes:
        raise SystemExit(f"{name}: needs at least one class column (0/1) besides path, frame, group {shown}")
    if not rows:
        raise SystemExit(f"{name}: no rows below the header")

    problems, items = [], []
    bad_labels = {c: [] for c in classes}  # column -> [(row, value)] of cells that are not 0/1
    for line, cells in rows:
        where = f"{name} row {line}"
        if len(cells) < len(header) or any(cells[len(header):]):
            problems.append(f"{where}: {len(cells)} cells, the header has {len(header)} ({', '.join(header)})")
            continue
        r = dict(zip(header, cells))
        raw = r["path"]
        if not raw:
            problems.append(f"{where}: empty path")
            continue
        p = Path(raw)
        if not p.is_absolute():
            norm = os.path.normpath(raw)
            if norm == os.pardir or norm.startswith(os.pardir + os.sep):
                problems.append(f"{where}: {raw}: outside --data-dir {base} (relative paths may not leave it; "
                                f"write an absolute path to use a file elsewhere)")
                continue
            p = base / norm
        f = r.get("frame", "")
        if f == "":
            frame = 0
        elif f.isdigit():
            frame = int(f)
        else:
            problems.append(f"{where}: {raw}: frame {f!r} is not a whole number >= 0 (0 = first frame)")
            continue
        y = [_label(r[c]) for c in classes]
        for c, v in zip(classes, y):
            if v is None:
                bad_labels[c].append((line, r[c]))
        if None not in y:
            items.append({"path": p, "rel": raw, "frame": frame, "group": r.get("group") or None, "y": y,
                          "row": line})
    label_problems = []
    for c, bad in bad_labels.items():
        if bad and len(bad) * 2 > len(rows) and not classes_named:  # mostly not 0/1: not a label column
            label_problems.insert(0, f"{name}: column {c!r} is not a 0/1 label column (row {bad[0][0]}: "
                                     f"{bad[0][1]!r}, and {len(bad) - 1} more rows); every column but path, "
                                     f"frame and group is a class: name the class columns with --classes "
                                     f"(e.g. --classes {','.join(x for x in classes if not bad_labels[x]) or 'a,b'})"
                                     f" to ignore the others")
        else:
            label_problems += [f"{name} row {ln}: column {c!r}: {v!r} is not a label (labels are 0 or 1)"
                               for ln, v in bad]
    problems = label_problems + problems
    _die(problems)
    return classes, items


def check_files(items, csv_name: str) -> None:
    """Header check of every file (see ``check_file``) before any pixel data is loaded; notes each
    DICOM file's PatientID (``item["patient"]``) for the validation split."""
    problems = []
    for it in items:
        why = check_file(Path(it["path"]), it["frame"])
        if why:
            problems.append(f"{csv_name} row {it['row']}: {it['rel']}: {why}")
        else:
            it["patient"] = patient_id(Path(it["path"]))
    _die(problems)


def patient_id(path: Path) -> Optional[str]:
    """The file's PatientID (0010,0020), None for .npy files and DICOM without one."""
    if path.suffix.lower() == ".npy":
        return None
    import pydicom
    try:
        ds = pydicom.dcmread(str(path), stop_before_pixels=True, specific_tags=["PatientID"])
    except Exception:  # check_file has read this header already; a reader hiccup only loses the key
        return None
    return str(ds.get("PatientID", "") or "").strip() or None


def load_items(items, size: int, csv_name: str = "CSV") -> Tuple[np.ndarray, np.ndarray]:
    hus, ys = [], []
    for it in items:
        try:
            hu, pad = read_slice_hu(it["path"], it["frame"])
        except SystemExit as e:
            raise SystemExit(f"{csv_name} row {it.get('row', '?')}: {it.get('rel', it['path'])}: "
                             f"{str(e.code).replace(str(it['path']) + ': ', '')}") from None
        except Exception as e:
            raise SystemExit(f"{csv_name} row {it.get('row', '?')}: {it.get('rel', it['path'])}: cannot read "
                             f"({type(e).__name__}: {e})") from None
        if hu.ndim != 2:
            raise SystemExit(f"{csv_name} row {it.get('row', '?')}: {it.get('rel', it['path'])}: "
                             f"not a 2-D slice (shape {hu.shape})")
        hus.append(P.resize_hu_slice(hu, pad, size))
        ys.append(it["y"])
    return np.stack(hus).astype(np.float32), np.asarray(ys, np.float32)


def group_keys(items) -> Tuple[List[str], str]:
    """(validation-split group of each item, how they were made). The CSV's 'group', else the
    DICOM PatientID (one patient's scans in several folders -- two studies, two series -- stay on
    one side; several patients in one folder are told apart), else the file's folder. Only when
    that leaves a single group (an anonymiser that blanks or repeats the PatientID), the folders
    alone; then each file is its own group (then slices of one patient can be on both sides of the
    split: a loud warning says so)."""
    folder = lambda it: "folder " + str(Path(it["path"]).parent)
    keys = [("group " + it["group"]) if it["group"] else ("patient " + it["patient"]) if it.get("patient")
            else folder(it) for it in items]
    how = "CSV 'group' column, else the DICOM PatientID, else the file's folder"
    if len(set(keys)) < 2:
        keys = [("group " + it["group"]) if it["group"] else folder(it) for it in items]
        how = "CSV 'group' column, else the file's folder (the PatientIDs name a single patient)"
    if len(set(keys)) < 2:
        keys = [str(it["path"]) for it in items]
        how = "one group per file (all rows share one group/folder)"
        print("WARNING: every row is in one group (one folder and no 'group' column), so the validation "
              "split is by file and slices of one patient can land on both sides; its scores will be "
              "optimistic. Put each patient in its own folder or add a 'group' column.", file=sys.stderr)
    return keys, how


def split_groups(items, val_fraction: float, seed: int, keys: Optional[List[str]] = None):
    groups = keys if keys is not None else group_keys(items)[0]
    uniq = sorted(set(groups))
    rng = np.random.default_rng(seed)
    rng.shuffle(uniq)
    n_val = min(len(uniq) - 1, max(1, int(round(len(uniq) * val_fraction)))) if len(uniq) > 1 else 0
    val_g = set(uniq[:n_val])
    tr = [i for i, g in enumerate(groups) if g not in val_g]
    va = [i for i, g in enumerate(groups) if g in val_g]
    return np.array(tr, int), np.array(va, int)


SPLIT_TRIES = 200


def choose_split(items, classes: List[str], val_fraction: float, seed: int, csv_name: str = "CSV"):
    """(train idx, val idx, record): the split of ``split_groups`` with the first of a few hundred
    shuffles (seed, seed+1, ...) that leaves every class with positives and negatives on both
    sides, so validation AUC, sensitivity and the threshold are defined. SystemExit naming the
    class and the counts when none does (or a class has no positives / no negatives at all)."""
    y = np.asarray([it["y"] for it in items], int)
    for j, c in enumerate(classes):
        pos = int(y[:, j].sum())
        if pos == 0 or pos == len(y):
            raise SystemExit(f"{csv_name}: class {c!r} has {pos} positive and {len(y) - pos} negative rows; "
                             f"every class needs both (positives to learn it, negatives to set its threshold)")
    keys, how = group_keys(items)
    n_groups = len(set(keys))
    if n_groups < 2:
        raise SystemExit(f"{csv_name}: need at least two files/groups for a validation split")
    first = None
    for k in range(SPLIT_TRIES):
        tr, va = split_groups(items, val_fraction, seed + k, keys)
        bad = [j for j in range(len(classes))
               if not all(0 < y[idx, j].sum() < len(idx) for idx in (tr, va))]
        if not bad:
            if k:
                print(f"split: shuffle {k} of the groups (seed {seed + k}) is the first to leave every class "
                      f"positives and negatives in both training and validation")
            rec = {"grouping": how, "groups": n_groups, "valGroups": len(set(keys[i] for i in va)),
                   "shuffleSeed": seed + k}
            return tr, va, rec
        first = first or (tr, va, bad[0])
    tr, va, j = first
    cnt = lambda idx: f"{int(y[idx, j].sum())} positive / {int(len(idx) - y[idx, j].sum())} negative"
    raise SystemExit(f"{csv_name}: class {classes[j]!r}: no split of the {n_groups} groups ({how}) leaves it "
                     f"positives and negatives in both training and validation (e.g. validation {len(va)} slices: "
                     f"{cnt(va)}, training {len(tr)} slices: {cnt(tr)}); its positives must come from at least "
                     f"two groups/folders: label more, or raise --val-fraction")


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


def nonfinite_at(obj, where="card") -> Optional[str]:
    """JSON path of the first NaN/Infinity in ``obj`` (None when there is none)."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return where
    items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, (list, tuple)) else ()
    for k, v in items:
        hit = nonfinite_at(v, f"{where}.{k}" if isinstance(obj, dict) else f"{where}[{k}]")
        if hit:
            return hit
    return None


SHIPPED_BASE = REPO / "training/checkpoints/resight-ct-lesion.pt"
SHIPPED_CARD = REPO / "resources/models/resight-ct-lesion.card.json"


def resolve_base_card(args, base_classes: List[str]):
    """(card dict or None, its path or None) describing --base: --base-card when given ('' = none);
    else the card next to the checkpoint (<stem>.card.json, as finetune writes them); else the
    shipped card when --base is the shipped checkpoint; else none (the card then records the
    checkpoint's file name and sha256 as the base)."""
    base = Path(args.base)
    if args.base_card is not None:
        if not args.base_card:
            return None, None
        path, explicit = Path(args.base_card), True
        if not path.is_file():
            raise SystemExit(f"--base-card {path}: no such file")
    else:
        explicit = False
        path = base.with_name(base.stem + ".card.json")
        if not path.is_file():
            path = SHIPPED_CARD if base.resolve() == SHIPPED_BASE.resolve() and SHIPPED_CARD.is_file() else None
        if path is None:
            print(f"base: no card next to {base} ({base.stem}.card.json); the card records the checkpoint's "
                  f"name and sha256 as the base")
            return None, None
    try:
        card = json.loads(path.read_text())
        card_classes = list(card["outputs"]["classes"])
    except (ValueError, KeyError, TypeError) as e:
        raise SystemExit(f"base card {path}: not a model card ({type(e).__name__}: {e})")
    if card_classes != base_classes:
        msg = f"base card {path} is for classes {card_classes}, but {base} has {base_classes}"
        if explicit:
            raise SystemExit(msg + ": not the card of that checkpoint")
        print(f"WARNING: {msg}; not recording it as the base", file=sys.stderr)
        return None, None
    print(f"base: {card.get('name')} {card.get('version')} (card {path})")
    return card, path


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
    csv_name = Path(args.csv).name
    # every check that can fail comes before any pixel data is read or any training step is taken
    classes, items = read_csv(Path(args.csv), Path(args.data_dir) if args.data_dir else None,
                              [c.strip() for c in args.classes.split(",") if c.strip()] if args.classes else None)
    check_files(items, csv_name)
    tr, va, split_rec = choose_split(items, classes, args.val_fraction, args.seed, csv_name)
    if not Path(args.base).is_file():
        raise SystemExit(f"--base {args.base}: no such checkpoint")
    net, ck = load_checkpoint(args.base, check_input_size=False)
    base_classes = list(ck["classes"])
    base_card, base_card_path = resolve_base_card(args, base_classes)
    cam_layer = args.cam_layer or (base_card or {}).get("cam", {}).get("defaultLayer") or ck.get("cam_layer") \
        or "layer4"
    size = int(ck.get("input_size", P.INPUT_SIZE))
    copied = adapt_head(net, base_classes, classes, args.dropout)
    new = [c for c in classes if c not in copied]
    print(f"classes {classes} (head rows copied from the base model: {copied or 'none'}; "
          f"new, learnt from scratch: {new or 'none'}); input {size}x{size}")

    hu, y = load_items(items, size, csv_name)
    print(f"{len(items)} slices: train {len(tr)}, val {len(va)} ({split_rec['valGroups']} of "
          f"{split_rec['groups']} groups; {split_rec['grouping']}); positives per class train/val "
          + ", ".join(f"{c} {int(y[tr, j].sum())}/{int(y[va, j].sum())}" for j, c in enumerate(classes)))
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

    best_epochs = {}

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
        best_epochs[name] = best[2]

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
    improved = any(best_epochs.values())
    if not improved:
        same = classes == base_classes
        what = ("the exported network equals the base model's (same classes and weights; only the thresholds "
                "are re-chosen)" if classes == base_classes else
                "the base network with the new head (" + ("rows copied for " + ", ".join(copied) if copied
                                                          else "no rows copied")
                + ("; rows untrained for " + ", ".join(new) if new else "") + ")")
        print(f"NOTE: no epoch improved the validation score on the starting weights, so they are exported: "
              f"{what}; label more data, or try --full-epochs / another --lr-head", file=sys.stderr)

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
    training = {
        "data": f"fine-tuned on {len(items)} user-labelled slices from {args.csv}",
        "base": {"name": (base_card or {}).get("name", Path(args.base).stem),
                 "version": (base_card or {}).get("version", ck.get("version")),
                 "onnxSha256": (base_card or {}).get("onnx", {}).get("sha256"),
                 "card": str(base_card_path) if base_card_path else None,
                 "checkpoint": str(args.base), "checkpointSha256": sha256_file(args.base),
                 "classes": base_classes},
        "headRowsCopied": copied,
        "splits": {"train": {"slices": int(len(tr)), "positives": dict(zip(classes, y[tr].sum(0).astype(int).tolist()))},
                   "val": {"slices": int(len(va)), "positives": dict(zip(classes, y[va].sum(0).astype(int).tolist())),
                           **split_rec}},
        "phases": {"head": {"epochs": args.head_epochs, "lr": args.lr_head, "backbone": "frozen (incl. BatchNorm)",
                            "bestEpoch": best_epochs.get("head")},
                   "full": {"epochs": args.full_epochs, "lr": args.lr_full,
                            "batchNorm": "trained" if args.train_bn else "statistics frozen",
                            "bestEpoch": best_epochs.get("full")}},
        "improvedOnBase": improved,
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
                      modalities=["CT"], default_layer=cam_layer,
                      description=f"{args.name}: fine-tuned from {training['base']['name']} on user data; "
                                  f"classes {', '.join(classes)}.")
    try:
        write_json(out_dir / f"{args.name}.card.json", card)
    except ValueError as e:  # NaN/Infinity: the app refuses such a card, so none is written
        onnx_path.unlink()
        raise SystemExit(f"not writing {args.name}.card.json: {nonfinite_at(card) or e} is not a finite number "
                         f"(the app cannot load such a card); {onnx_path.name} removed") from None
    save_checkpoint(out_dir / f"{args.name}.pt", net, classes, {
        "version": args.version, "input_size": size, "thresholds": thresholds, "threshold_method": method,
        "cam_layer": cam_layer, "training": training})
    print(f"wrote {onnx_path} (sha256 {sha256_file(onnx_path)[:12]}...), {args.name}.card.json and {args.name}.pt "
          f"in {(time.time() - t0) / 60:.1f} min")
    return card


def _fraction(s: str) -> float:
    try:
        v = float(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{s!r} is not a number")
    if not 0 < v < 1:
        raise argparse.ArgumentTypeError(f"{s} is not between 0 and 1 (exclusive): validation and training "
                                         f"both need slices")
    return v


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--csv", required=True)
    ap.add_argument("--data-dir", default=None, help="base folder for relative paths (default: the CSV's folder)")
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--name", default="resight-ct-finetuned")
    ap.add_argument("--version", default="1.0.0")
    ap.add_argument("--classes", default=None,
                    help="comma-separated class columns; other columns are ignored (default: every column "
                         "but path, frame, group is a class and must hold only 0/1)")
    ap.add_argument("--base", default=str(SHIPPED_BASE))
    ap.add_argument("--base-card", default=None,
                    help="card of --base, recorded as the base (default: <base stem>.card.json next to it, the "
                         "shipped card for the shipped checkpoint, else none: '' = none)")
    ap.add_argument("--cam-layer", default=None, choices=["layer1", "layer2", "layer3", "layer4"],
                    help="the card's cam.defaultLayer (default: the base card's, else layer4)")
    ap.add_argument("--val-fraction", type=_fraction, default=0.2,
                    help="share of the groups held out for validation, 0 < f < 1 (default 0.2)")
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
