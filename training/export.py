"""Export a trained checkpoint to ONNX + model card.

    /usr/bin/python3 -m training.export \
        --checkpoint training/checkpoints/resight-ct-lesion.pt --out-dir resources/models

Writes ``<name>.onnx`` and ``<name>.card.json``. The ONNX graph:

* opset 17, input ``input`` float32 [N,3,S,S] (dynamic N), outputs ``logits`` [N,C] and
  ``probabilities`` [N,C] = sigmoid(logits);
* BatchNorm is **folded** into the preceding Conv (PyTorch's eval-mode export does this);
  Dropout disappears in eval mode;
* the output of each ResNet stage (the final ReLU of layer1..layer4) is the tensor literally
  named ``layer1``..``layer4`` (renamed everywhere it is consumed);
* Identity nodes that merely alias weight initializers are materialised away;
* only ops in ``ALLOWED_OPS`` may appear (checked), and ``onnx.checker`` passes.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import io
import json
import os
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from training import preprocess as P  # noqa: E402

ALLOWED_OPS = {"Conv", "Relu", "Add", "BatchNormalization", "MaxPool", "GlobalAveragePool", "ReduceMean",
               "Flatten", "Reshape", "Gemm", "MatMul", "Identity", "Sigmoid"}
STAGES = ("layer1", "layer2", "layer3", "layer4")
OPSET = 17
DEFAULT_NAME = "resight-ct-lesion"
NOT_FOR_CLINICAL_USE = ("Not for clinical use. Research and demonstration software; the model is trained "
                        "only on synthetic CT phantoms and has not been validated on patient data. It must "
                        "not be used for diagnosis, screening or treatment decisions.")
LICENSE = "Apache-2.0"


def sha256_file(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ----------------------------------------------------------------------------- graph surgery

def rename_tensor(graph, old: str, new: str) -> None:
    """Rename tensor ``old`` to ``new`` everywhere (producers, consumers, graph outputs, value_info)."""
    for node in graph.node:
        for i, n in enumerate(node.input):
            if n == old:
                node.input[i] = new
        for i, n in enumerate(node.output):
            if n == old:
                node.output[i] = new
    for coll in (graph.output, graph.value_info, graph.input):
        for vi in coll:
            if vi.name == old:
                vi.name = new


def _stage_of(node_name: str) -> Optional[str]:
    m = re.search(r"(?:^|/)(layer[1-4])(?:/|$)", node_name)
    return m.group(1) if m else None


def find_stage_outputs(model) -> Dict[str, str]:
    """Tensor name of the final ReLU of each stage layer1..layer4.

    Primary rule: the last Relu (in graph order) whose node scope contains ``/layerN/``
    (PyTorch >= 1.13 exports module scopes as node names). Cross-checked structurally: that
    tensor must be consumed outside its stage (by the next stage, or by the pooling/head).
    """
    g = model.graph
    last: Dict[str, str] = {}
    for node in g.node:
        st = _stage_of(node.name)
        if st and node.op_type == "Relu":
            last[st] = node.output[0]
    if set(last) != set(STAGES):
        # already renamed (idempotent) or unscoped graph
        produced = {o for n in g.node for o in n.output}
        if all(s in produced for s in STAGES):
            return {s: s for s in STAGES}
        raise RuntimeError(f"could not locate stage outputs; found {sorted(last)}")
    for st, tensor in last.items():
        consumers = [n for n in g.node if tensor in n.input]
        outside = [n for n in consumers if _stage_of(n.name) != st]
        if not outside:
            raise RuntimeError(f"{st}: tensor {tensor} is not consumed outside its stage")
    return last


def rename_stage_outputs(model) -> Dict[str, str]:
    found = find_stage_outputs(model)
    for st, tensor in found.items():
        if tensor != st:
            rename_tensor(model.graph, tensor, st)
    return found


def materialise_identity_initializers(model) -> int:
    """Replace ``Identity(initializer)`` nodes by a copy of the initializer under the output name."""
    from onnx import numpy_helper
    g = model.graph
    inits = {i.name: i for i in g.initializer}
    keep, n_removed = [], 0
    for node in g.node:
        if node.op_type == "Identity" and node.input[0] in inits:
            t = numpy_helper.to_array(inits[node.input[0]])
            g.initializer.append(numpy_helper.from_array(t.copy(), name=node.output[0]))
            n_removed += 1
        else:
            keep.append(node)
    if n_removed:
        del g.node[:]
        g.node.extend(keep)
        used = {i for n in g.node for i in n.input} | {o.name for o in g.output}
        alive = [i for i in g.initializer if i.name in used]
        del g.initializer[:]
        g.initializer.extend(alive)
    return n_removed


def op_types(model) -> List[str]:
    return sorted(Counter(n.op_type for n in model.graph.node))


def op_counts(model) -> Dict[str, int]:
    return dict(sorted(Counter(n.op_type for n in model.graph.node).items()))


def to_onnx(net, size: int, classes: Sequence[str], fold_bn: bool = True):
    """Export a NarrowResNet (eval mode) to a post-processed, checked ModelProto.

    ``fold_bn=True`` (the default model): BatchNorm folded into Conv. ``fold_bn=False`` keeps
    inference-mode BatchNormalization nodes (used by one test fixture so the TypeScript side
    exercises both forms)."""
    import onnx
    import torch
    from training.model import WithProbabilities
    net = net.eval()
    wrapper = WithProbabilities(net).eval()
    buf = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(
            wrapper, torch.zeros(1, 3, size, size), buf, opset_version=OPSET,
            input_names=["input"], output_names=["logits", "probabilities"],
            dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}, "probabilities": {0: "N"}},
            do_constant_folding=True,
            training=torch.onnx.TrainingMode.EVAL if fold_bn else torch.onnx.TrainingMode.PRESERVE)
    model = onnx.load_from_string(buf.getvalue())
    materialise_identity_initializers(model)
    rename_stage_outputs(model)
    # shape-infer so value_info carries the stage shapes (handy for viewers)
    del model.graph.value_info[:]
    model = onnx.shape_inference.infer_shapes(model)
    model.doc_string = f"ReSight ResNet classifier; classes: {', '.join(classes)}"
    onnx.checker.check_model(model, full_check=True)
    bad = set(op_types(model)) - ALLOWED_OPS
    if bad:
        raise RuntimeError(f"exported graph has unsupported op types: {sorted(bad)}")
    return model


def stage_shapes(model) -> Dict[str, List]:
    out = {}
    for vi in model.graph.value_info:
        if vi.name in STAGES:
            dims = [d.dim_param if d.dim_param else d.dim_value for d in vi.type.tensor_type.shape.dim]
            out[vi.name] = dims
    return out


# ----------------------------------------------------------------------------- card

def build_card(*, name: str, version: str, onnx_path: Path, model, arch: dict, classes: Sequence[str],
               size: int, thresholds: Dict[str, float], threshold_method: str, training: dict,
               metrics: Optional[dict], n_params: int, modalities=("CT",), intended_use: Optional[str] = None,
               description: Optional[str] = None, default_layer: str = "layer4",
               operating_points: Sequence[dict] = ()) -> dict:
    from training.model import arch_description
    if default_layer not in STAGES:
        raise ValueError(f"default CAM layer {default_layer!r} is not one of {list(STAGES)}")
    shapes = stage_shapes(model)
    return {
        "schema": "resight.model-card/1",
        "name": name,
        "version": version,
        "description": description or ("Multi-label slice classifier for CT: lung nodules and liver lesions. "
                                        "Scores one axial slice at a time; study-level findings are runs of "
                                        "slices above the operating threshold."),
        "architecture": {
            "family": "resnet",
            "block": "BasicBlock" if arch.get("block", "basic") == "basic" else "Bottleneck",
            "layers": list(arch["layers"]),
            "widths": list(arch["widths"]),
            "dropoutBeforeFc": arch.get("dropout", 0.0),
            **({"dilatedStages": list(arch["dilated"])} if arch.get("dilated") else {}),
            "parameters": int(n_params),
            "description": arch_description(arch),
            "batchNorm": ("kept as inference-mode BatchNormalization nodes" if "BatchNormalization" in op_types(model)
                          else "folded into the preceding Conv at export (no BatchNormalization nodes)"),
            "opTypes": op_types(model),
            "opCounts": op_counts(model),
        },
        "onnx": {
            "file": onnx_path.name,
            "sha256": sha256_file(onnx_path),
            "bytes": onnx_path.stat().st_size,
            "opset": OPSET,
            "producer": f"{model.producer_name} {model.producer_version}",
            "dynamicBatch": True,
        },
        "input": P.card_input_section("input", size),
        "outputs": {
            "tensor": "logits",
            "shape": ["N", len(classes)],
            "activation": "sigmoid",
            "probabilities": "probabilities",
            "classes": list(classes),
            "multiLabel": True,
            "thresholds": {c: float(thresholds[c]) for c in classes},
            "thresholdMethod": threshold_method,
            **({"operatingPoints": list(operating_points)} if operating_points else {}),
        },
        "cam": {
            "defaultLayer": default_layer,
            "layers": list(STAGES),
            "layerShapes": shapes,
            "score": "logit of the chosen class (pre-sigmoid)",
            "methods": ["gradcam", "gradcampp", "hirescam", "layercam", "scorecam"],
        },
        "modalities": list(modalities),
        "training": training,
        "metrics": metrics or {"status": "not measured yet: run `/usr/bin/python3 -m training.evaluate`"},
        "intendedUse": intended_use or (
            "Research and demonstration of an AI second reader in the ReSight viewer: flags axial CT slices "
            "that may contain a lung nodule or a liver lesion and shows Grad-CAM evidence. Trained and "
            "evaluated on synthetic phantoms only."),
        "notForClinicalUse": True,
        "disclaimer": NOT_FOR_CLINICAL_USE,
        "license": LICENSE,
    }


def write_json(path, obj) -> None:
    path = Path(path)
    tmp = path.with_suffix(path.suffix + ".tmp")
    # allow_nan=False: NaN/Infinity are not JSON, and the app refuses a card holding them, so raise
    # (ValueError) before anything is written rather than leave a card that cannot be loaded
    text = json.dumps(obj, indent=2, allow_nan=False) + "\n"
    tmp.write_text(text)
    os.replace(tmp, path)


def export_checkpoint(checkpoint, out_dir, name: str = DEFAULT_NAME, version: Optional[str] = None,
                      keep_metrics: bool = True, default_layer: Optional[str] = None) -> dict:
    import onnx
    import torch
    from training.model import load_checkpoint
    net, ck = load_checkpoint(checkpoint, check_input_size=False)
    classes = ck["classes"]
    size = ck.get("input_size", P.INPUT_SIZE)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    onnx_path = out_dir / f"{name}.onnx"
    card_path = out_dir / f"{name}.card.json"
    model = to_onnx(net, size, classes)
    onnx.save(model, str(onnx_path))
    old = json.loads(card_path.read_text()) if card_path.exists() else None
    sha = sha256_file(onnx_path)
    metrics = None
    if keep_metrics and old and old.get("onnx", {}).get("sha256") == sha and "status" not in old.get("metrics", {}):
        metrics = old["metrics"]
    thr = ck.get("thresholds") or {c: 0.5 for c in classes}
    # named alternatives to the default thresholds (training.operating_points / train.py), offered
    # by the viewer's Preferences; the default point must be the card's own thresholds
    points = ck.get("training", {}).get("validation", {}).get("operatingPoints") or []
    if points and any(abs(points[0]["thresholds"][c] - thr[c]) > 1e-12 for c in classes):
        raise SystemExit("the checkpoint's first operating point is not its thresholds: run training.operating_points again")
    card = build_card(name=name, version=version or ck.get("version", "1.0.0"), onnx_path=onnx_path, model=model,
                      arch=ck["arch"], classes=classes, size=size, thresholds=thr,
                      threshold_method=ck.get("threshold_method", "fixed 0.5 (no validation set)"),
                      operating_points=points,
                      training=ck.get("training", {}), metrics=metrics,
                      n_params=sum(p.numel() for p in net.parameters()),
                      modalities=ck.get("modalities", ["CT"]), intended_use=ck.get("intended_use"),
                      description=ck.get("description"),
                      default_layer=default_layer or (old or {}).get("cam", {}).get("defaultLayer") or "layer4")
    write_json(card_path, card)
    # sanity: the ONNX graph reproduces PyTorch on a random input
    from training import onnx_ref
    x = np.random.default_rng(0).uniform(-1, 1, (2, 3, size, size)).astype(np.float32)
    with torch.no_grad():
        ref = net(torch.from_numpy(x)).numpy()
    got = onnx_ref.run(model, {"input": x}, ["logits"])["logits"]
    err = float(np.abs(got - ref).max())
    if err > 1e-3:
        raise RuntimeError(f"ONNX graph disagrees with PyTorch (max |dlogit| = {err})")
    print(f"wrote {onnx_path} ({onnx_path.stat().st_size} bytes, sha256 {sha[:12]}...) and {card_path}; "
          f"ops {op_types(model)}; onnx-vs-torch max|dlogit| {err:.2e}")
    return card


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", default=str(REPO / "training/checkpoints/resight-ct-lesion.pt"))
    ap.add_argument("--out-dir", default=str(REPO / "resources/models"))
    ap.add_argument("--name", default=DEFAULT_NAME)
    ap.add_argument("--version", default=None)
    ap.add_argument("--default-layer", default=None, choices=list(STAGES),
                    help="the card's cam.defaultLayer, the heatmap the viewer and reports show first (default: "
                         "the existing card's, else layer4); choose it by `resight bench --suite localization`")
    args = ap.parse_args(argv)
    export_checkpoint(args.checkpoint, args.out_dir, args.name, args.version, default_layer=args.default_layer)


if __name__ == "__main__":
    main()
