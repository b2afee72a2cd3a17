"""training/finetune.py on bad input: every problem of the CSV or its files is refused before
anything is loaded, in one line naming the CSV row, the file and the value (a SystemExit, no
traceback); no card holding NaN can be written; the validation split keeps folders whole;
the base model recorded in the card is the one fine-tuned from; the CAM layer follows the base.

    /usr/bin/python3 -m unittest training.tests.test_finetune -v

Tiny DICOM slices (32x32) and a tiny base checkpoint: seconds.
"""
from __future__ import annotations

import contextlib
import io
import json
import math
import shutil
import sys
import tempfile
import unittest
from pathlib import Path
from unittest import mock

import numpy as np

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from training.tests.needs import (HAS_ONNX, HAS_PYDICOM, HAS_SCIPY, HAS_TORCH, NEED_ONNX,  # noqa: E402
                                  NEED_SCIPY, NEED_TORCH)

NEED_PYDICOM = "pydicom not installed (apt-get install python3-pydicom)"
needs_pipeline = [unittest.skipUnless(HAS_TORCH, NEED_TORCH), unittest.skipUnless(HAS_ONNX, NEED_ONNX),
                  unittest.skipUnless(HAS_SCIPY, NEED_SCIPY), unittest.skipUnless(HAS_PYDICOM, NEED_PYDICOM)]


def needs_all(cls):
    for dec in needs_pipeline:
        cls = dec(cls)
    return cls


def write_dicom(path: Path, hu: np.ndarray, modality="CT", rescale=True, samples=1, patient=None):
    import pydicom  # noqa: F401
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2" if modality == "CT" else "1.2.840.10008.5.1.4.1.1.4"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
    ds.Modality = modality
    if patient is not None:
        ds.PatientID = patient
    ds.Rows, ds.Columns = hu.shape
    ds.SamplesPerPixel = samples
    ds.PhotometricInterpretation = "MONOCHROME2" if samples == 1 else "RGB"
    if samples > 1:
        ds.PlanarConfiguration = 0
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    if rescale:
        ds.RescaleIntercept, ds.RescaleSlope = -1024, 1
    stored = np.round(hu + 1024).astype(np.int16)
    if samples > 1:
        stored = np.repeat(stored[..., None], samples, -1)
    ds.PixelData = stored.tobytes()
    ds.is_little_endian, ds.is_implicit_VR = True, False
    ds.save_as(str(path), write_like_original=False)


def make_data(root: Path, folders=4, per_folder=3, label=None, patient=None):
    """``folders`` patient folders of ``per_folder`` CT slices; returns the CSV rows (path, y1, y2):
    by default lung_nodule = slice 0 of each folder, liver_lesion = slice 1. ``patient(f, k)``:
    the PatientID written into slice k of folder f (default: none)."""
    rng = np.random.default_rng(0)
    rows = []
    for f in range(folders):
        (root / f"pat{f}").mkdir(parents=True, exist_ok=True)
        for k in range(per_folder):
            rel = f"pat{f}/IM{k}.dcm"
            hu = rng.normal(0, 50, (32, 32)).astype(np.float32)
            y = label(f, k) if label else (int(k == 0), int(k == 1))
            if y[0]:
                hu[10:16, 10:16] = 400
            write_dicom(root / rel, hu, patient=patient(f, k) if patient else None)
            rows.append((rel, *y))
    return rows


def write_csv(path: Path, rows, header="path,lung_nodule,liver_lesion", sep=",", bom=False):
    text = header + "\n" + "".join(sep.join(str(v) for v in r) + "\n" for r in rows)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode())
    return path


class _Base(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.d = Path(self._tmp.name)
        self.data = self.d / "data"
        self.data.mkdir()

    def tearDown(self):
        self._tmp.cleanup()

    def base_checkpoint(self, name="base.pt", classes=("lung_nodule", "liver_lesion")):
        from training.tests.test_model import _tiny_checkpoint
        _tiny_checkpoint(self.d / name, size=64, classes=classes)
        return self.d / name

    def run_ft(self, csv_path, *extra, out="out", base=None):
        from training import finetune
        argv = ["--csv", str(csv_path), "--data-dir", str(self.data), "--out-dir", str(self.d / out), "--name", "m",
                "--base", str(base or self.base_checkpoint()), "--head-epochs", "1", "--max-steps", "1",
                "--batch", "4", "--threads", "1", *extra]
        if "--base-card" not in extra and base is None:
            argv += ["--base-card", ""]
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
            finetune.main(argv)
        self.log = buf.getvalue()
        return json.loads((self.d / out / "m.card.json").read_text())

    def refused(self, csv_path, *extra, must=()):
        """The run ends in a one-line SystemExit (no other exception, no card); returns its message."""
        with self.assertRaises(SystemExit) as e:
            self.run_ft(csv_path, *extra)
        msg = str(e.exception.code)
        self.assertNotIn("\n", msg)
        for m in must:
            self.assertIn(m, msg)
        self.assertFalse((self.d / "out" / "m.card.json").exists())
        return msg


@needs_all
class TestRefusedInputs(_Base):
    def test_labels_must_be_exactly_0_or_1(self):
        rows = make_data(self.data)
        for bad in ("2", "-1", "0.7", "yes", ""):
            r = list(rows)
            r[4] = (r[4][0], bad, r[4][2])  # CSV row 6 (header = row 1)
            msg = self.refused(write_csv(self.d / "labels.csv", r),
                               must=("labels.csv row 6", "'lung_nodule'", repr(bad)))
            self.assertIn("0 or 1", msg)

    def test_spreadsheet_spellings_of_0_and_1_are_labels(self):
        from training.finetune import read_csv
        rows = [(p, f"{a}.0", f" {b} ") for p, a, b in make_data(self.data)]
        classes, items = read_csv(write_csv(self.d / "labels.csv", rows), self.data)
        self.assertEqual([it["y"] for it in items], [[r[1] == "1.0", r[2].strip() == "1"] for r in rows])

    def test_extra_column_is_refused_unless_classes_are_named(self):
        rows = [(p, 67, a, b) for p, a, b in make_data(self.data)]
        csv_path = write_csv(self.d / "labels.csv", rows, header="path,age,lung_nodule,liver_lesion")
        self.refused(csv_path, must=("'age'", "--classes"))
        card = self.run_ft(csv_path, "--classes", "lung_nodule,liver_lesion")
        self.assertEqual(card["outputs"]["classes"], ["lung_nodule", "liver_lesion"])
        self.assertIn("ignoring CSV column age", self.log)

    def test_bad_rows_and_files_name_the_row_and_file(self):
        rows = make_data(self.data)
        (self.data / "pat0" / "readme.dcm").write_text("hello")
        cases = {
            "not DICOM": ([("pat0/readme.dcm", 0, 0)], "path,lung_nodule,liver_lesion",
                          ("labels.csv row 2", "pat0/readme.dcm", "not a DICOM file")),
            "unknown": ([("pat0/NOPE.dcm", 0, 0)], "path,lung_nodule,liver_lesion",
                        ("labels.csv row 2", "pat0/NOPE.dcm", "no such file")),
            "short row": ([("pat0/IM0.dcm", 1)], "path,lung_nodule,liver_lesion",
                          ("labels.csv row 2", "2 cells, the header has 3")),
            "frame text": ([("pat0/IM0.dcm", "x", 1, 0)], "path,frame,lung_nodule,liver_lesion",
                           ("labels.csv row 2", "frame 'x'")),
            "frame beyond a single-frame file": ([("pat0/IM0.dcm", 7, 1, 0)], "path,frame,lung_nodule,liver_lesion",
                                                 ("labels.csv row 2", "pat0/IM0.dcm", "frame 7")),
            "outside --data-dir": ([("../outside.dcm", 0, 0)], "path,lung_nodule,liver_lesion",
                                   ("labels.csv row 2", "../outside.dcm", "outside --data-dir")),
        }
        write_dicom(self.d / "outside.dcm", np.zeros((32, 32), np.float32))
        for case, (first, header, must) in cases.items():
            with self.subTest(case):
                good = [r if "frame" not in header else (r[0], "", *r[1:]) for r in rows]
                self.refused(write_csv(self.d / "labels.csv", first + good, header=header), must=must)

    def test_missing_data_dir(self):
        from training import finetune
        csv_path = write_csv(self.d / "labels.csv", make_data(self.data))
        with self.assertRaises(SystemExit) as e:
            finetune.main(["--csv", str(csv_path), "--data-dir", str(self.d / "nope"), "--out-dir", str(self.d / "o")])
        self.assertIn("nope", str(e.exception.code))

    def test_non_ct_slices_are_refused(self):
        rows = make_data(self.data)
        write_dicom(self.data / "pat1" / "MR.dcm", np.zeros((32, 32), np.float32), modality="MR")
        self.refused(write_csv(self.d / "labels.csv", [("pat1/MR.dcm", 0, 1)] + rows),
                     must=("labels.csv row 2", "pat1/MR.dcm", "'MR'", "not CT"))
        write_dicom(self.data / "pat1" / "raw.dcm", np.zeros((32, 32), np.float32), rescale=False)
        self.refused(write_csv(self.d / "labels.csv", rows + [("pat1/raw.dcm", 0, 1)]),
                     must=(f"labels.csv row {len(rows) + 2}", "pat1/raw.dcm", "Rescale"))

    def test_val_fraction_must_be_inside_0_1(self):
        csv_path = write_csv(self.d / "labels.csv", make_data(self.data))
        for v in ("1.0", "0", "-0.5", "1.5"):
            with contextlib.redirect_stderr(io.StringIO()), self.assertRaises(SystemExit) as e:
                self.run_ft(csv_path, "--val-fraction", v)
            self.assertEqual(e.exception.code, 2)  # argparse's usage error
        self.assertFalse((self.d / "out").exists())


@needs_all
class TestHeader(_Base):
    def test_bom_semicolon_spaces_and_crlf_are_read(self):
        from training.finetune import read_csv
        rows = make_data(self.data)
        for kw in ({"bom": True}, {"sep": ";", "header": "path;lung_nodule;liver_lesion"},
                   {"header": "path, lung_nodule , liver_lesion"}, {"bom": True, "sep": ";",
                                                                     "header": "path;lung_nodule;liver_lesion"}):
            with self.subTest(**kw):
                classes, items = read_csv(write_csv(self.d / "labels.csv", rows, **kw), self.data)
                self.assertEqual(classes, ["lung_nodule", "liver_lesion"])
                self.assertEqual(len(items), len(rows))
        p = self.d / "crlf.csv"
        p.write_bytes(write_csv(self.d / "labels.csv", rows).read_bytes().replace(b"\n", b"\r\n"))
        self.assertEqual(len(read_csv(p, self.data)[1]), len(rows))

    def test_duplicate_columns_are_refused(self):
        csv_path = write_csv(self.d / "labels.csv", make_data(self.data), header="path,lung_nodule,lung_nodule")
        self.refused(csv_path, must=("'lung_nodule'", "2 times"))
        csv_path = write_csv(self.d / "labels.csv", make_data(self.data), header="path,lung_nodule, lung_nodule")
        self.refused(csv_path, must=("'lung_nodule'", "2 times"))

    def test_no_path_column_names_the_columns_found(self):
        csv_path = write_csv(self.d / "labels.csv", make_data(self.data), header="file;lung_nodule;liver_lesion",
                             sep=";")
        self.refused(csv_path, must=("'path'", "file, lung_nodule, liver_lesion"))


@needs_all
class TestSplitAndCard(_Base):
    def test_no_positives_in_validation_is_refused_and_no_nan_card(self):
        # lung_nodule positives only in pat0: no split has them on both sides
        rows = make_data(self.data, label=lambda f, k: (int(f == 0), int(k == 1)))
        msg = self.refused(write_csv(self.d / "labels.csv", rows), must=("'lung_nodule'", "positive", "negative"))
        self.assertIn("validation", msg)
        self.refused(write_csv(self.d / "labels.csv", [(p, 0, b) for p, a, b in rows]),
                     must=("'lung_nodule'", "0 positive"))

    def test_write_json_refuses_nan(self):
        from training.export import write_json
        for bad in (math.nan, math.inf):
            with self.assertRaises(ValueError):
                write_json(self.d / "c.json", {"metrics": {"rocAuc": bad}})
            self.assertFalse((self.d / "c.json").exists())

    def test_a_nan_that_gets_through_writes_no_card(self):
        from training import metrics as M
        csv_path = write_csv(self.d / "labels.csv", make_data(self.data))
        real = M.per_class_summary

        def with_nan(*a, **k):
            out = real(*a, **k)
            out["liver_lesion"]["sensitivity"] = math.nan
            return out
        with mock.patch.object(M, "per_class_summary", with_nan):
            msg = self.refused(csv_path, must=("liver_lesion", "sensitivity", "not a finite number"))
        self.assertFalse((self.d / "out" / "m.onnx").exists(), msg)

    def test_split_keeps_folders_whole_with_few_folders(self):
        from training.finetune import read_csv, split_groups
        rows = make_data(self.data, folders=3, per_folder=4)
        _, items = read_csv(write_csv(self.d / "labels.csv", rows), self.data)
        for seed in range(5):
            tr, va = split_groups(items, 0.2, seed)
            folder = lambda idx: {items[i]["path"].parent.name for i in idx}
            self.assertEqual(folder(tr) & folder(va), set())
            self.assertTrue(len(tr) and len(va))

    def test_split_keeps_patients_whole_across_folders_and_apart_within_one(self):
        from training.finetune import check_files, group_keys, read_csv, split_groups
        # folders 0 and 1 are two studies of patient A; folders 2..4 are patients B, C, D
        rows = make_data(self.data, folders=5, per_folder=4, patient=lambda f, k: "A" if f < 2 else "BCD"[f - 2])
        _, items = read_csv(write_csv(self.d / "labels.csv", rows), self.data)
        check_files(items, "labels.csv")
        keys, how = group_keys(items)
        self.assertIn("PatientID", how)
        self.assertEqual(len(set(keys)), 4)
        for seed in range(8):
            tr, va = split_groups(items, 0.25, seed)
            folder = lambda idx: {items[i]["path"].parent.name for i in idx}
            self.assertEqual(folder(tr) & folder(va), set())
            self.assertEqual("pat0" in folder(tr), "pat1" in folder(tr), (folder(tr), folder(va)))
        # two patients in one folder: told apart by their PatientID, not one group per file
        shutil.rmtree(self.data)
        self.data.mkdir()
        rows = make_data(self.data, folders=1, per_folder=6, patient=lambda f, k: f"P{k % 2}")
        _, items = read_csv(write_csv(self.d / "labels.csv", rows), self.data)
        check_files(items, "labels.csv")
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            keys, how = group_keys(items)
        self.assertEqual(len(set(keys)), 2)
        self.assertNotIn("WARNING", err.getvalue())

    def test_one_patient_id_for_everything_falls_back_to_folders(self):
        from training.finetune import check_files, group_keys, read_csv
        rows = make_data(self.data, folders=3, per_folder=2, patient=lambda f, k: "ANONYMOUS")
        _, items = read_csv(write_csv(self.d / "labels.csv", rows), self.data)
        check_files(items, "labels.csv")
        keys, how = group_keys(items)
        self.assertEqual(len(set(keys)), 3)
        self.assertIn("folder", how)
        self.assertIn("single patient", how)

    def test_card_fields(self):
        rows = make_data(self.data)
        card = self.run_ft(write_csv(self.d / "labels.csv", rows))
        text = (self.d / "out" / "m.card.json").read_text()
        json.loads(text, parse_constant=lambda c: self.fail(f"{c} in the card"))
        val = card["training"]["splits"]["val"]
        self.assertEqual(val["grouping"], "CSV 'group' column, else the DICOM PatientID, else the file's folder")
        self.assertEqual(card["modalities"], ["CT"])
        self.assertEqual(card["cam"]["defaultLayer"], "layer4")  # no base card: export's default

    def test_base_card_follows_base_and_cam_layer(self):
        from training.export import sha256_file
        csv_path = write_csv(self.d / "labels.csv", make_data(self.data))
        base = self.base_checkpoint("other.pt")
        # no card next to other.pt: the base is that file, by name and sha256, not the shipped model
        card = self.run_ft(csv_path, base=base, out="o1")
        self.assertEqual(card["training"]["base"]["name"], "other")
        self.assertIsNone(card["training"]["base"]["onnxSha256"])
        self.assertEqual(card["training"]["base"]["checkpointSha256"], sha256_file(base))
        # a card next to it (as finetune writes <name>.pt + <name>.card.json) is the base's card
        (self.d / "other.card.json").write_text(json.dumps({
            "name": "my-first-ft", "version": "1.2.3", "onnx": {"sha256": "ab" * 32},
            "outputs": {"classes": ["lung_nodule", "liver_lesion"]}, "cam": {"defaultLayer": "layer2"}}))
        card = self.run_ft(csv_path, base=base, out="o2")
        self.assertEqual((card["training"]["base"]["name"], card["training"]["base"]["version"]),
                         ("my-first-ft", "1.2.3"))
        self.assertEqual(card["cam"]["defaultLayer"], "layer2")
        card = self.run_ft(csv_path, "--cam-layer", "layer1", base=base, out="o3")
        self.assertEqual(card["cam"]["defaultLayer"], "layer1")
        # the fine-tuned .pt carries its CAM layer on to the next fine-tuning, card or not
        card = self.run_ft(csv_path, "--base-card", "", base=self.d / "o3" / "m.pt", out="o4")
        self.assertEqual(card["cam"]["defaultLayer"], "layer1")

    def test_no_improvement_is_said(self):
        import torch
        from training.model import load_checkpoint
        csv_path = write_csv(self.d / "labels.csv", make_data(self.data))
        aucs = iter([[0.9, 0.9]] + [[0.5, 0.5]] * 20)  # the starting weights score best
        with mock.patch("training.metrics.per_class_auc", lambda *a: next(aucs)):
            card = self.run_ft(csv_path)
        self.assertFalse(card["training"]["improvedOnBase"])
        self.assertIn("no epoch improved", self.log)
        base, _ = load_checkpoint(self.d / "base.pt", check_input_size=False)
        net, _ = load_checkpoint(self.d / "out" / "m.pt", check_input_size=False)
        for k, v in base.state_dict().items():
            torch.testing.assert_close(net.state_dict()[k], v)


if __name__ == "__main__":
    unittest.main()
