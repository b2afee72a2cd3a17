#!/usr/bin/python3
"""Peer for `resight bench --suite explain`: forward vs autograd Grad-CAM, the way a researcher would in PyTorch.

Per rep, over the N slices of --input one slice at a time (batch 1: a viewer explains one slice):
  forwardSeconds       plain forward under no_grad (logits, no sigmoid), summed over slices;
  gradcamSeconds[L]    for each stage L in --layers: forward with a hook on net.<L>, autograd
                       gradient of logit[--class-index] (pre-sigmoid) w.r.t. that stage output,
                       w_k = mean_ij grad, map = ReLU(sum_k w_k A_k), summed over slices.
The Grad-CAM definition is training/golden.py's grad_cam() (CAM_DEFINITION): raw map at the layer's
resolution, no normalisation or upsampling. The last rep's maps of every slice ([N, h, w]) are returned
so the caller can check agreement. Eager float32, eval mode: no jit/compile.
Prints one JSON object on stdout (see main()); on failure {"error": ...} and exit 1.
Run with Debian's interpreter from the repo root:
  /usr/bin/python3 bench/peers/torch_gradcam.py [--checkpoint CK | --torchvision resnet18 --state-dict F] \
      --input X.f32 --shape N,C,H,W --threads T --reps R [--layers layer3,layer4] [--class-index 0] [--warmup 2]
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


def grad_cam(net, stage, x, class_index, torch):
    """Raw Grad-CAM [h, w] of one slice x [1,C,H,W] at ``stage`` (a module of ``net``).

    A forward hook captures the stage output, so the plain net.forward runs (works for the
    checkpoint's NarrowResNet and for stock torchvision ResNets alike). autograd.grad w.r.t. A only:
    the engine then skips parameter gradients, which Grad-CAM does not need."""
    captured = []
    handle = stage.register_forward_hook(lambda m, inp, out: captured.append(out))
    try:
        logits = net(x)
    finally:
        handle.remove()
    A = captured[0]
    (g,) = torch.autograd.grad(logits[0, class_index], A)
    w = g.mean(dim=(2, 3), keepdim=True)                 # identical to training/golden.py
    return torch.relu((w * A).sum(1))[0].detach()


def main() -> None:
    ap = _JsonArgParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", default=str(REPO / "training/checkpoints/resight-ct-lesion.pt"))
    ap.add_argument("--torchvision", help="instead of --checkpoint: a torchvision architecture (e.g. resnet18, 2 classes)")
    ap.add_argument("--state-dict", help="with --torchvision: its weights (make_resnet18.py writes them)")
    ap.add_argument("--input", required=True, help="float32 little-endian NCHW file of preprocessed model input")
    ap.add_argument("--shape", required=True, help="N,C,H,W of --input")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--layers", default="layer3,layer4", help="comma-separated stage modules (net.<name>)")
    ap.add_argument("--class-index", type=int, default=0)
    ap.add_argument("--warmup", type=int, default=2, help="untimed forward + Grad-CAM passes per layer before timing")
    args = ap.parse_args()
    if args.threads < 1 or args.reps < 1 or args.warmup < 0 or args.class_index < 0:
        fail("--threads and --reps must be >= 1, --warmup and --class-index >= 0")
    try:
        shape = [int(s) for s in args.shape.split(",")]
    except ValueError:
        fail(f"--shape must be N,C,H,W integers, got {args.shape!r}")
    if len(shape) != 4 or min(shape) < 1:
        fail(f"--shape must be 4 positive integers N,C,H,W, got {args.shape!r}")
    layers = [s for s in args.layers.split(",") if s]
    if not layers:
        fail("--layers is empty")
    if not os.path.isfile(args.input):
        fail(f"not a file: {args.input}")
    if args.torchvision and not args.state_dict:
        fail("--torchvision needs --state-dict")

    import numpy as np
    import torch
    from training.model import load_checkpoint

    n_expected = shape[0] * shape[1] * shape[2] * shape[3]
    if os.path.getsize(args.input) != 4 * n_expected:
        fail(f"{args.input}: {os.path.getsize(args.input)} bytes, shape {shape} needs {4 * n_expected}")
    x_all = torch.from_numpy(np.fromfile(args.input, dtype="<f4").astype(np.float32).reshape(shape))

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
    else:
        net, _ = load_checkpoint(args.checkpoint)
    net = net.float().eval()
    stages = {}
    for name in layers:
        m = getattr(net, name, None)
        if not isinstance(m, torch.nn.Module):
            fail(f"model has no stage module {name!r}")
        stages[name] = m

    n = shape[0]
    slices = [x_all[i:i + 1] for i in range(n)]  # batch-1 views, made once outside the timing
    with torch.no_grad():
        n_classes = net(slices[0]).shape[1]
    if args.class_index >= n_classes:
        fail(f"--class-index {args.class_index} out of range: the model has {n_classes} outputs")

    # Warm-up: first calls allocate and pick kernels (and autograd's first backward builds its
    # thread state), which is not steady state.
    for _ in range(args.warmup):
        with torch.no_grad():
            net(slices[0])
        for name in layers:
            grad_cam(net, stages[name], slices[0], args.class_index, torch)

    forward, gradcam, maps = [], {name: [] for name in layers}, {}
    for _ in range(args.reps):
        t0 = time.perf_counter()
        with torch.no_grad():
            for s in slices:
                net(s)
        forward.append(time.perf_counter() - t0)
        for name in layers:
            t0 = time.perf_counter()
            cams = []
            for s in slices:
                cams.append(grad_cam(net, stages[name], s, args.class_index, torch))  # references only
            gradcam[name].append(time.perf_counter() - t0)
            maps[name] = torch.stack(cams)  # converted outside the timing

    out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "slices": n, "reps": args.reps,
           "classIndex": args.class_index, "layers": layers,
           "forwardSeconds": forward, "gradcamSeconds": gradcam,
           "maps": {name: {"shape": list(m.shape), "values": [float(v) for v in m.reshape(-1).tolist()]}
                    for name, m in maps.items()}}
    print(json.dumps(out))


if __name__ == "__main__":
    try:
        main()
    except SystemExit:
        raise
    except Exception as e:  # any failure still yields parseable stdout
        fail(f"{type(e).__name__}: {e}")
