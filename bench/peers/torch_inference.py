#!/usr/bin/python3
"""Peer for `resight bench --suite inference`: the same work done the way a researcher would in PyTorch.

Pipeline (per rep): pydicom-read every slice of --dicom-dir -> HU (float32) -> the training
preprocessing (training/preprocess.py, torch path, in batches) -> checkpoint forward in batches of
--batch -> sigmoid. Timed as a whole and per phase. Model-only: the same forward over slices
preprocessed once. Eager float32, eval mode, inference_mode: no jit/compile, so the figure is what
a plain PyTorch script gets, not a tuned deployment.
Prints one JSON object on stdout (see the keys in main()); on failure {"error": ...} and exit 1.
Run with Debian's interpreter from the repo root:
  /usr/bin/python3 bench/peers/torch_inference.py --checkpoint training/checkpoints/resight-ct-lesion.pt \
      --dicom-dir DIR --threads T --batch B --reps R [--warmup W]
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

# The caller runs us as a script, so the repo root (parent of bench/) is not on sys.path by itself.
REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


class _JsonArgParser(argparse.ArgumentParser):
    # The TypeScript caller parses stdout only; a usage error must look like any other failure.
    def error(self, message):
        fail(f"usage: {message}")


def fail(message: str) -> None:
    print(json.dumps({"error": message}))
    sys.exit(1)


def read_series(folder: str, pydicom, np):
    """Every DICOM image in ``folder`` -> float32 HU slices in volume order."""
    slices, skipped = [], 0
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if not os.path.isfile(path):
            continue
        try:
            ds = pydicom.dcmread(path)
        except pydicom.errors.InvalidDicomError:
            skipped += 1  # e.g. the demo folder's ground-truth.json
            continue
        if "PixelData" not in ds:
            skipped += 1
            continue
        raw = ds.pixel_array
        hu = raw.astype(np.float32) * np.float32(ds.get("RescaleSlope", 1) or 1) \
            + np.float32(ds.get("RescaleIntercept", 0) or 0)
        pad = ds.get("PixelPaddingValue")
        if pad is not None:
            # Model card step 1: padding pixels become air before resizing (the torch path only
            # handles non-finite values, so mark them here).
            lim = ds.get("PixelPaddingRangeLimit")
            mask = (raw == pad) if lim is None else ((raw >= min(pad, lim)) & (raw <= max(pad, lim)))
            hu[mask] = np.nan
        ipp = ds.get("ImagePositionPatient")
        key = (0, float(ipp[2])) if ipp is not None and len(ipp) == 3 else (1, int(ds.get("InstanceNumber", 0) or 0))
        slices.append((key, hu))
    slices.sort(key=lambda s: s[0])  # stable: ties keep file-name order
    return [hu for _, hu in slices], skipped


def preprocess(hu_slices, P, torch, np, size, batch):
    """HU slices -> [N,3,size,size] via the training module's torch path, in chunks of ``batch``.

    Chunked rather than whole-volume: the elementwise steps allocate full-size temporaries, and
    volume-sized ones (~50 MB each for 45 512x512 slices) are fresh mmaps whose page faults cost
    several times the arithmetic; batch-sized ones get reused by the allocator. Same numbers
    either way (it is all per-slice math)."""
    out = []
    for i in range(0, len(hu_slices), batch):
        chunk = hu_slices[i:i + batch]
        if len({s.shape for s in chunk}) == 1:
            out.append(P.preprocess_torch(torch.from_numpy(np.stack(chunk)).unsqueeze(1), size))
        else:  # mixed matrix sizes cannot be stacked before the resize
            out.extend(P.preprocess_torch(torch.from_numpy(s)[None, None], size) for s in chunk)
    return torch.cat(out)


def forward_all(net, x, batch, torch):
    # Sigmoid is part of the timed forward: the shipped ONNX graph ends in it too.
    return torch.cat([torch.sigmoid(net(x[i:i + batch])) for i in range(0, x.shape[0], batch)])


def count_macs(net, size, torch):
    """Multiply-adds of Conv2d and Linear for one 1x3xSxS forward (BN is folded at export, so not counted)."""
    macs = [0]

    def conv_hook(m, inp, out):
        kh, kw = m.kernel_size
        macs[0] += out.numel() * (m.in_channels // m.groups) * kh * kw

    def linear_hook(m, inp, out):
        macs[0] += out.numel() * m.in_features

    hooks = []
    for m in net.modules():
        if isinstance(m, torch.nn.Conv2d):
            hooks.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, torch.nn.Linear):
            hooks.append(m.register_forward_hook(linear_hook))
    try:
        net(torch.zeros(1, 3, size, size))
    finally:
        for h in hooks:
            h.remove()
    return macs[0]


def main() -> None:
    ap = _JsonArgParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", default=str(REPO / "training/checkpoints/resight-ct-lesion.pt"))
    ap.add_argument("--torchvision", help="instead of --checkpoint: a torchvision architecture (e.g. resnet18, 2 classes)")
    ap.add_argument("--state-dict", help="with --torchvision: its weights (make_resnet18.py writes them)")
    ap.add_argument("--dicom-dir", required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=2, help="warm-up forward passes (batches) before timing")
    args = ap.parse_args()
    if args.threads < 1 or args.batch < 1 or args.reps < 1 or args.warmup < 0:
        fail("--threads, --batch and --reps must be >= 1 and --warmup >= 0")
    if not os.path.isdir(args.dicom_dir):
        fail(f"not a directory: {args.dicom_dir}")

    import numpy as np
    import pydicom
    import pydicom.errors
    import torch
    from training import preprocess as P
    from training.model import load_checkpoint

    # Interop threads must be set before any parallel work and can only be set once per process.
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    torch.set_num_threads(args.threads)

    if args.torchvision:
        import torchvision
        net = getattr(torchvision.models, args.torchvision)(num_classes=2)
        net.load_state_dict(torch.load(args.state_dict, map_location="cpu"))
        ck = {}
    else:
        net, ck = load_checkpoint(args.checkpoint)
    net = net.float().eval()
    size = int(ck.get("input_size", P.INPUT_SIZE))
    out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "batch": args.batch}

    with torch.inference_mode():
        macs = count_macs(net, size, torch)
        # Warm-up on dummy input: first calls allocate and pick kernels, which is not steady state.
        dummy = torch.zeros(args.batch, 3, size, size)
        for _ in range(args.warmup):
            torch.sigmoid(net(dummy))

        pipeline, t_read, t_pre, t_model, probs, n, skipped = [], [], [], [], None, 0, 0
        for _ in range(args.reps):
            t0 = time.perf_counter()
            hu, skipped = read_series(args.dicom_dir, pydicom, np)
            if not hu:
                fail(f"no DICOM images in {args.dicom_dir}")
            t1 = time.perf_counter()
            x = preprocess(hu, P, torch, np, size, args.batch)
            t2 = time.perf_counter()
            p = forward_all(net, x, args.batch, torch)
            t3 = time.perf_counter()
            pipeline.append(t3 - t0)
            t_read.append(t1 - t0)
            t_pre.append(t2 - t1)
            t_model.append(t3 - t2)
            probs, n = p, len(hu)

        # Model-only reuses the last rep's preprocessed tensor: identical input, no I/O in the timing.
        model_only = []
        for _ in range(args.reps):
            t0 = time.perf_counter()
            forward_all(net, x, args.batch, torch)
            model_only.append(time.perf_counter() - t0)

    out.update({
        "slices": n, "reps": args.reps, "pipelineSeconds": pipeline,
        "phases": {"readSeconds": t_read, "preprocessSeconds": t_pre, "modelSeconds": t_model},
        "modelOnlySeconds": model_only, "flopsPerSlice": 2 * macs, "macsPerSlice": macs,
        "parameters": sum(p.numel() for p in net.parameters()), "skippedFiles": skipped,
        "probabilities": [[float(v) for v in row] for row in probs.tolist()],
    })
    print(json.dumps(out))


if __name__ == "__main__":
    try:
        main()
    except SystemExit:
        raise
    except Exception as e:  # any failure still yields parseable stdout
        fail(f"{type(e).__name__}: {e}")
