"""Golden vectors for the TypeScript inference/explain tests.

    /usr/bin/python3 -m training.golden          # default model + both fixtures + preprocessing

Writes ``test/fixtures/golden/<model>/`` for the default model (resight-ct-lesion) and the two
fixture models, and ``test/fixtures/golden/preprocess/``. All arrays are float32
little-endian, C order (``.f32``); ``meta.json`` lists every file with its shape.

Per model, for each input (default model: 3 preprocessed slices of held-out phantom volumes --
one lung-nodule positive, one liver-lesion positive, one negative; fixtures: 2 seeded uniform
[-1, 1] tensors):

* ``input_<i>.f32`` [1,3,S,S];
* PyTorch ``logits_<i>.f32`` and ``probabilities_<i>.f32`` [1,C];
* the same from the exported ONNX file on disk, evaluated by the independent numpy evaluator
  (``onnx_logits_<i>.f32``, ``onnx_probabilities_<i>.f32``) -- onnxruntime-node must match both
  within 1e-4;
* Grad-CAM ``cam_<i>_<layer>_<class>.f32`` [h,w] at layer3 and layer4 for every class, by
  autograd in PyTorch (eval mode): ``A = stage output (the tensor named layerN in the ONNX)``,
  ``w_k = mean_ij d logit_c / d A_k[i,j]``, ``map = ReLU(sum_k w_k A_k)``, raw (no
  normalisation, no upsampling), at the layer's resolution.

``preprocess/``: HU slices and the expected model input from ``training/preprocess.py`` (numpy,
float64 internally): a 512x512 phantom slice, and a 300x200 synthetic slice with NaN, +inf and
padding-value pixels (downsampled rows, upsampled columns).
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from training import preprocess as P  # noqa: E402

GOLDEN_DIR = REPO / "test" / "fixtures" / "golden"
DEFAULT_NAME = "resight-ct-lesion"
CAM_LAYERS = ("layer3", "layer4")
CAM_DEFINITION = ("Grad-CAM: A = output of the stage (ONNX tensor layerN), score = logit of the class "
                  "(pre-sigmoid); w_k = mean over i,j of d score / d A[0,k,i,j]; "
                  "map[i,j] = ReLU(sum_k w_k * A[0,k,i,j]); raw values at the layer's resolution")


def _rel(p: Path) -> str:
    try:
        return str(Path(p).resolve().relative_to(REPO))
    except ValueError:
        return str(p)


def save_f32(path: Path, arr) -> list:
    a = np.ascontiguousarray(np.asarray(arr, dtype="<f4"))
    a.tofile(path)
    return list(a.shape)


def grad_cam(net, x_np: np.ndarray, layers=CAM_LAYERS):
    """(logits [1,C], {layer: {class_index: cam [h,w]}}) by autograd, eval mode."""
    import torch
    net.eval()
    x = torch.from_numpy(x_np)
    logits, feats = net.forward_with_features(x)
    cams = {}
    for layer in layers:
        A = feats[layer]
        cams[layer] = {}
        for c in range(logits.shape[1]):
            (g,) = torch.autograd.grad(logits[0, c], A, retain_graph=True)
            w = g.mean(dim=(2, 3), keepdim=True)
            cams[layer][c] = torch.relu((w * A).sum(1))[0].detach().numpy()
    return logits.detach().numpy(), cams


def write_model_golden(name: str, net, onnx_path: Path, card_path: Path, classes, inputs, out_dir: Path,
                       extra_meta: dict | None = None) -> dict:
    import onnx
    import torch
    from training import onnx_ref
    from training.export import sha256_file
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    model = onnx.load(str(onnx_path))
    card = json.loads(card_path.read_text())
    sha = sha256_file(onnx_path)
    if card["onnx"]["sha256"] != sha:
        raise SystemExit(f"{card_path}: sha256 does not match {onnx_path}")
    meta = {"model": name, "card": _rel(card_path), "onnx": _rel(onnx_path), "onnxSha256": sha,
            "classes": list(classes), "format": "float32 little-endian, C (row-major) order, no header",
            "camDefinition": CAM_DEFINITION, "camLayers": list(CAM_LAYERS),
            "tolerance": {"logits": 1e-4, "probabilities": 1e-4, "cam": "1e-4 * max(1, max|map|)"},
            "inputs": []}
    worst = 0.0
    for i, item in enumerate(inputs):
        x = np.asarray(item["x"], dtype=np.float32)
        logits, cams = grad_cam(net, x)
        probs = 1.0 / (1.0 + np.exp(-logits.astype(np.float64)))
        ref = onnx_ref.run(model, {"input": x}, ["logits", "probabilities"] + list(CAM_LAYERS))
        worst = max(worst, float(np.abs(ref["logits"] - logits).max()), float(np.abs(ref["probabilities"] - probs).max()))
        with torch.no_grad():
            _, feats = net.forward_with_features(torch.from_numpy(x))
        for layer in CAM_LAYERS:
            d = float(np.abs(ref[layer] - feats[layer].numpy()).max())
            if d > 1e-3:
                raise SystemExit(f"{name}: ONNX tensor {layer} differs from the PyTorch stage output by {d}")
        entry = {"id": item["id"], "description": item.get("description", ""), "source": item.get("source"),
                 "input": {"file": f"input_{i}.f32", "shape": save_f32(out_dir / f"input_{i}.f32", x)},
                 "logits": {"file": f"logits_{i}.f32", "shape": save_f32(out_dir / f"logits_{i}.f32", logits),
                            "values": logits[0].astype(float).tolist()},
                 "probabilities": {"file": f"probabilities_{i}.f32",
                                   "shape": save_f32(out_dir / f"probabilities_{i}.f32", probs),
                                   "values": probs[0].astype(float).tolist()},
                 "onnx": {"evaluator": "training/onnx_ref.py (numpy, float64) on the ONNX file",
                          "logits": {"file": f"onnx_logits_{i}.f32",
                                     "shape": save_f32(out_dir / f"onnx_logits_{i}.f32", ref["logits"])},
                          "probabilities": {"file": f"onnx_probabilities_{i}.f32",
                                            "shape": save_f32(out_dir / f"onnx_probabilities_{i}.f32",
                                                              ref["probabilities"])}},
                 "cams": []}
        for layer in CAM_LAYERS:
            for c, cname in enumerate(classes):
                fn = f"cam_{i}_{layer}_{cname}.f32"
                cam = cams[layer][c]
                entry["cams"].append({"layer": layer, "class": cname, "classIndex": c, "file": fn,
                                      "shape": save_f32(out_dir / fn, cam), "score": float(logits[0, c]),
                                      "max": float(cam.max()), "sum": float(cam.sum())})
        meta["inputs"].append(entry)
    if worst > 1e-4:
        raise SystemExit(f"{name}: PyTorch and ONNX outputs differ by {worst:.2e}")
    meta["maxAbsDiffTorchVsOnnx"] = worst
    meta.update(extra_meta or {})
    (out_dir / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    size = sum(f.stat().st_size for f in out_dir.iterdir())
    print(f"wrote {out_dir} ({len(inputs)} inputs, {size / 1e6:.2f} MB, torch-vs-onnx max diff {worst:.2e})")
    return meta


# ----------------------------------------------------------------------------- default model

def default_inputs(net, classes, test_volumes: int, workers: int):
    """Pick one lung-nodule slice, one liver-lesion slice and one negative from held-out test
    volumes (the most confident correct ones), then recompute them exactly from the raw HU."""
    import torch
    from training import dataset as D
    from training.train import predict
    for n in (test_volumes, test_volumes * 2, test_volumes * 4):
        test = D.SliceSet(D.ensure_split("test", n, workers=workers))
        probs = predict(net, test.hu)
        lab = test.labels.astype(bool)
        picks = []
        for want, score in (((1, 0), probs[:, 0]), ((0, 1), probs[:, 1]), ((0, 0), -probs.max(1))):
            sel = np.flatnonzero((lab[:, 0] == want[0]) & (lab[:, 1] == want[1]))
            if len(sel) == 0:
                break
            picks.append(int(sel[np.argmax(score[sel])]))
        if len(picks) == 3:
            break
    else:
        raise SystemExit("could not find a positive slice for every class in the test volumes")
    mod = D.phantom_module()
    ids = ["lung_nodule_positive", "liver_lesion_positive", "negative"]
    items, raw = [], None
    for k, (pid, idx) in enumerate(zip(ids, picks)):
        seed, z = int(test.seed[idx]), int(test.z[idx])
        vol = mod.make_volume(seed)
        hu = np.asarray(vol.hu[z], dtype=np.float32)
        x = P.preprocess_slice(hu)[None]
        if k == 0:
            raw = (hu, x[0], seed, z)
        items.append({"id": pid, "x": x,
                      "description": f"phantom test volume seed {seed}, slice {z}, labels "
                                     f"{dict(zip(classes, test.labels[idx].tolist()))}",
                      "source": {"generator": "training.phantom make_volume(seed)", "seed": seed, "slice": z,
                                 "spacing": [float(s) for s in vol.spacing],
                                 "labels": dict(zip(classes, [int(v) for v in test.labels[idx]]))}})
    return items, raw


def write_preprocess_golden(out_dir: Path, raw) -> None:
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    cases = []
    if raw is not None:
        hu, x, seed, z = raw
        cases.append({"id": "phantom_512", "description": f"phantom test volume seed {seed} slice {z} (HU)",
                      "hu": {"file": "phantom_512_hu.f32", "shape": save_f32(out_dir / "phantom_512_hu.f32", hu)},
                      "paddingValue": None,
                      "expected": {"file": "phantom_512_input.f32",
                                   "shape": save_f32(out_dir / "phantom_512_input.f32", P.preprocess_slice(hu))}})
    rng = np.random.default_rng(7)
    hu = rng.normal(0, 400, (300, 200)).astype(np.float32)
    hu[:, :10] = -2000.0            # padding value
    hu[40:60, 100:130] = np.nan
    hu[250, 5:195:7] = np.inf
    hu[120:180, 60:140] = rng.uniform(-1100, 300, (60, 80)).astype(np.float32)
    pad = hu == -2000.0
    cases.append({"id": "synthetic_300x200", "description": "rows 300 -> 256 (down), cols 200 -> 256 (up); "
                  "NaN block, +inf pixels, padding value -2000 in the first 10 columns",
                  "hu": {"file": "synthetic_300x200_hu.f32", "shape": save_f32(out_dir / "synthetic_300x200_hu.f32", hu)},
                  "paddingValue": -2000.0,
                  "expected": {"file": "synthetic_300x200_input.f32",
                               "shape": save_f32(out_dir / "synthetic_300x200_input.f32",
                                                 P.preprocess_slice(hu, padding_mask=pad))}})
    meta = {"format": "float32 little-endian, C (row-major) order, no header",
            "definition": P.card_input_section(), "tolerance": 1e-5,
            "note": "pixels equal to paddingValue and non-finite pixels become -1024 HU before resizing",
            "cases": cases}
    (out_dir / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"wrote {out_dir} ({len(cases)} cases)")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out-dir", default=str(GOLDEN_DIR))
    ap.add_argument("--models", default=f"{DEFAULT_NAME},resnet-basic-tiny,resnet-bottleneck-tiny")
    ap.add_argument("--checkpoint", default=str(REPO / "training/checkpoints/resight-ct-lesion.pt"))
    ap.add_argument("--models-dir", default=str(REPO / "resources/models"))
    ap.add_argument("--fixtures-dir", default=None)
    ap.add_argument("--test-volumes", type=int, default=6)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)
    import torch
    torch.set_num_threads(2)
    from training import fixtures as FX
    from training.model import load_checkpoint
    out = Path(args.out_dir)
    fx_dir = Path(args.fixtures_dir) if args.fixtures_dir else FX.FIXTURES_DIR
    for name in [m for m in args.models.split(",") if m]:
        if name in FX.FIXTURES:
            net, arch, spec = FX.build_fixture(name)
            rng = np.random.default_rng(FX.FIXTURES[name]["seed"])
            inputs = [{"id": f"uniform_{k}", "description": "seeded uniform [-1, 1]",
                       "x": rng.uniform(-1, 1, (1, 3, FX.FIXTURE_SIZE, FX.FIXTURE_SIZE)).astype(np.float32)}
                      for k in range(2)]
            write_model_golden(name, net, fx_dir / f"{name}.onnx", fx_dir / f"{name}.card.json",
                               spec["classes"], inputs, out / name)
        else:
            net, ck = load_checkpoint(args.checkpoint)
            mdir = Path(args.models_dir)
            inputs, raw = default_inputs(net, ck["classes"], args.test_volumes, args.workers)
            write_model_golden(name, net, mdir / f"{name}.onnx", mdir / f"{name}.card.json", ck["classes"],
                               inputs, out / name)
            write_preprocess_golden(out / "preprocess", raw)


if __name__ == "__main__":
    main()
