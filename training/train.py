"""Train the default ReSight CT lesion classifier on synthetic phantoms (CPU, wall-clock budget).

    /usr/bin/python3 -m training.train --minutes 50

Everything (data generation + training + final validation) stays inside ``--minutes``; the
data phase is capped by ``--data-minutes`` (volumes already in training/.cache are reused, so a
second run spends its time training). The best checkpoint by mean validation ROC AUC is written
to ``--out`` (default training/checkpoints/resight-ct-lesion.pt) together with the operating
thresholds chosen on the validation set (Youden's J per class) and a description of the run,
which export.py copies into the model card. Run logs go to training/.cache/runs/<time>/.
"""
from __future__ import annotations

import argparse
import contextlib
import copy
import json
import math
import os
import random
import shlex
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from training import dataset as D  # noqa: E402
from training import metrics as M  # noqa: E402
from training import preprocess as P  # noqa: E402
from training.model import CLASSES, build_model, load_checkpoint_dict, save_checkpoint  # noqa: E402

VERSION = "1.0.0"             # model 1: ordinary negatives only
VERSION_COUNTERFACTUAL = "2.0.0"  # model 2: counterfactual (lesion-free twin) negatives


def _finite(x):
    """JSON-safe number: NaN (a class absent) -> None."""
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else x


def thresholds_and_validation(val, probs: np.ndarray):
    """(operating thresholds, validation record) of the weights being saved, from their scores on
    the validation slices: Youden's J per class, the per-class summary at those thresholds, and with
    lesion-free twins the AUC without them and lesion vs its own twin. Shared by train.py (its best
    checkpoint) and dilate.py (a dilated checkpoint), so both cards say the same things."""
    thresholds = {c: M.youden_threshold(val.labels[:, i], probs[:, i])[0] for i, c in enumerate(CLASSES)}
    record = {"operatingPoints": M.operating_points(val.labels, probs, CLASSES, thresholds),
              "meanRocAuc": float(np.nanmean(M.per_class_auc(val.labels, probs))),
              "perClass": M.per_class_summary(val.labels, probs, CLASSES, thresholds)}
    if val.twin.any():
        ordinary = val.twin == 0
        record.update({
            "population": "ordinary slices and lesion-free twins",
            "rocAucWithoutTwins": {c: _finite(M.roc_auc(val.labels[ordinary, i], probs[ordinary, i]))
                                   for i, c in enumerate(CLASSES)},
            "rocAucLesionVsTwin": {c: _finite(D.pair_auc(probs, val.labels, val.twin, val.src_labels, i))
                                   for i, c in enumerate(CLASSES)}})
    return thresholds, record


def seed_everything(seed: int) -> torch.Generator:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    g = torch.Generator()
    g.manual_seed(seed)
    return g


@torch.no_grad()
def predict(model, hu_f16: np.ndarray, batch: int = 64) -> np.ndarray:
    model.eval()
    dev = next(model.parameters()).device
    out = []
    for i in range(0, len(hu_f16), batch):
        x = D.windowed(hu_f16[i:i + batch]).to(dev)
        out.append(torch.sigmoid(model(x)).cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, len(CLASSES)), np.float32)


class WeightEMA:
    """An exponential moving average of a model's weights (``--ema``): ``shadow = d * shadow +
    (1 - d) * weights`` after every optimiser step, floating-point parameters and buffers alike
    (integer buffers such as batch-norm's step count are copied). Why: on the CPU budget the run
    ends while the small-batch gradient noise is still large; the average of the last few
    hundred steps' weights sits nearer the bottom of the valley than any single step's, at no cost
    per step worth measuring and none at inference (the exported graph is the same ResNet).
    ``swap(model)`` puts the average in the model and returns the live weights, to put back."""

    def __init__(self, model: torch.nn.Module, decay: float):
        if not 0.0 < decay < 1.0:
            raise ValueError(f"EMA decay must be in (0, 1), got {decay}")
        self.decay = decay
        self.shadow = {k: v.detach().clone() for k, v in model.state_dict().items()}

    @torch.no_grad()
    def update(self, model: torch.nn.Module) -> None:
        for k, v in model.state_dict().items():
            if v.dtype.is_floating_point:
                self.shadow[k].mul_(self.decay).add_(v.detach(), alpha=1.0 - self.decay)
            else:
                self.shadow[k].copy_(v)

    def swap(self, model: torch.nn.Module) -> dict:
        live = copy.deepcopy(model.state_dict())
        model.load_state_dict(self.shadow)
        return live


def lr_factor(p: float, warmup: float = 0.03, floor: float = 0.01) -> float:
    if p < warmup:
        return max(p / warmup, 0.02)
    q = min(max((p - warmup) / (1.0 - warmup), 0.0), 1.0)
    return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * q))


def cam_loss(model, a4, maps, y, has_map, cam_bias, pos_weight: float):
    """Localisation loss on the class activation map (Zhou et al.'s CAM, which for this GAP + fc
    head is Grad-CAM at layer4 before its ReLU, up to 1/HW): per layer4 cell, the class's
    local logit ``fc.weight[c] . A4[:, cell] + cam_bias[c]`` is trained by BCE towards "a lesion of
    class c covers part of this cell". Positive slices of class c take the cells their lesion
    map (lesion minus twin) touches; slices negative for c take no cell. Rows without a map (a
    positive without its twin) are left out. The image logit stays the spatial mean of the same
    local map plus fc.bias, so classification and heatmap come from one map."""
    n, c = y.shape
    cells = F.adaptive_max_pool2d(maps, a4.shape[-2:]) > 0.05  # [N,1,h,w]: any 4x4-px cell >= 5% lesion
    local = torch.einsum("nkhw,ck->nchw", a4, model.fc.weight) + cam_bias.view(1, c, 1, 1)
    target = (cells & (y.view(n, c, 1, 1) > 0.5)).float()
    w = torch.where(target > 0, torch.full_like(target, pos_weight), torch.ones_like(target))
    w = w * has_map.view(n, 1, 1, 1).float()
    denom = w.sum().clamp_min(1.0)
    return (F.binary_cross_entropy_with_logits(local, target, reduction="none") * w).sum() / denom


def gradcam_point_loss(logits, a, maps, y, n: int, beta: float = 8.0, thresh: float = 0.25):
    """Pointing loss on Grad-CAM at the layer whose activations are ``a`` (an experiment): for each
    lesion row of a pair-recipe batch (rows 0..n-1) and one of its positive classes c, Grad-CAM is
    computed as the viewer computes it, alpha_k = mean_ij dlogit_c/dA_k (autograd with
    create_graph, so the loss trains the gradients too), map = sum_k alpha_k A_k; the loss is the
    cross-entropy of a spatial softmax of the map (scaled to beta / max|map|) against the cells
    the lesion footprint touches: -log P(the peak lies on the lesion). Needs frozen batch-norm
    statistics (--freeze-bn) so each row's gradient is its own."""
    import torch
    import torch.nn.functional as F
    pos = y[:n] > 0.5
    rows = pos.any(1).nonzero()[:, 0]
    if len(rows) == 0:
        return logits.sum() * 0.0
    # one positive class per row, at random where there are two
    cls = torch.argmax(pos[rows].float() + 0.5 * torch.rand(len(rows), pos.shape[1], device=y.device), 1)
    (g,) = torch.autograd.grad(logits[rows, cls].sum(), a, create_graph=True)
    alpha = g[rows].mean((2, 3))
    cam = (alpha.float()[:, :, None, None] * a[rows].float()).sum(1)  # float32 under --amp too
    target = F.adaptive_max_pool2d(maps[rows], cam.shape[-2:])[:, 0] > thresh
    keep = target.flatten(1).any(1)
    if not bool(keep.any()):
        return logits.sum() * 0.0
    s = cam[keep].flatten(1)
    s = beta * s / (s.abs().amax(1, keepdim=True).detach() + 1e-6)
    t = target[keep].flatten(1)
    return (torch.logsumexp(s, 1) - torch.logsumexp(s.masked_fill(~t, float("-inf")), 1)).mean()


def seed_range(split: str, n: int, offset: int = 0) -> str:
    s = D.split_seeds(split, max(n, 1), offset)
    return f"{s[0]}..{s[-1]}" if n else "none"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=50.0, help="total wall-clock budget incl. data generation")
    ap.add_argument("--data-minutes", type=float, default=10.0, help="cap on generating new training volumes")
    ap.add_argument("--train-volumes", type=int, default=320)
    ap.add_argument("--train-offset", type=int, default=0, help="first training seed (offset into the train "
                    "range): a continuation on volumes the initial weights never saw")
    ap.add_argument("--val-volumes", type=int, default=24)
    ap.add_argument("--max-pos", type=int, default=24, help="positive slices kept per volume (train/val)")
    ap.add_argument("--min-neg", type=int, default=8, help="minimum negative slices per volume (train/val; "
                    "without --counterfactual)")
    ap.add_argument("--counterfactual", action=argparse.BooleanOptionalAction, default=True,
                    help="train/val: every positive slice also contributes the same slice of the volume's "
                         "lesion-free twin (make_volume_pair) as a negative (default: on)")
    ap.add_argument("--cf-neg", type=int, default=4, help="with --counterfactual: ordinary negative slices per "
                    "volume (the twins supply the other negatives)")
    ap.add_argument("--val-all-slices", action="store_true",
                    help="validate on every slice of the validation volumes (natural prevalence, as evaluate.py "
                         "measures the test volumes) instead of the sampled slices and twins; checkpoint "
                         "selection and the operating thresholds then see the population the app sees")
    ap.add_argument("--hard-negatives", default=None, help="folder of mined hard negatives "
                    "(training.hard_negatives); with --hard-rows, that many of them in every pair-recipe batch")
    ap.add_argument("--hard-rows", type=int, default=0)
    ap.add_argument("--cam-loss", type=float, default=0.0, help="weight of the CAM localisation loss on layer4 "
                    "(default 0: off; an experiment, not in a shipped model: training/README.md; "
                    "needs --counterfactual, whose lesion/twin pairs give the lesion maps)")
    ap.add_argument("--gradcam-loss", type=float, default=0.0, help="weight of a pointing loss on Grad-CAM at "
                    "--gradcam-layer (pair recipe, needs --freeze-bn; model 2.4.0 used 0.5: training/README.md)")
    ap.add_argument("--gradcam-layer", default="layer3")
    ap.add_argument("--freeze-bn", action="store_true", help="keep batch-norm statistics fixed (eval mode) "
                    "while training the weights (needed by --gradcam-loss)")
    ap.add_argument("--cam-pos-weight", type=float, default=10.0, help="BCE weight of lesion cells in the CAM loss")
    ap.add_argument("--pair-recipe", action=argparse.BooleanOptionalAction, default=True,
                    help="lesion/twin pair training (training/pairs.py): paired rows with identical augmentation, "
                         "rank loss, dense auxiliary loss, crop phase; needs --counterfactual (default: on, "
                         "model 2.0.0; --no-pair-recipe trains as before)")
    ap.add_argument("--pairs", type=int, default=8, help="--pair-recipe: lesion/twin pairs per batch")
    ap.add_argument("--crop", type=int, default=128, help="--pair-recipe: crop size of the crop phase")
    ap.add_argument("--crop-fraction", type=float, default=0.6, help="--pair-recipe: share of the run on crops")
    ap.add_argument("--rank-loss", type=float, default=1.0, help="--pair-recipe: weight of the rank loss")
    ap.add_argument("--dense-loss", type=float, default=1.0, help="--pair-recipe: weight of the dense aux loss")
    ap.add_argument("--aux-warmup", type=int, default=300, help="--pair-recipe with --init from a checkpoint "
                    "without the dense loss's heads (every model up to 2.4.1): train only those new heads, on "
                    "the frozen network's features, for this many steps first, so their random start does not "
                    "push gradients through layer2/layer3 of trained weights (0: off)")
    ap.add_argument("--widths", default="16,32,64,128")
    ap.add_argument("--layers", default="2,2,2,2")
    ap.add_argument("--dropout", type=float, default=0.2)
    ap.add_argument("--dilated", default="", help="stages whose stride 2 becomes dilation (comma list, a tail of "
                    "layer2,layer3,layer4, e.g. layer3,layer4): their maps are 2x finer per axis for the "
                    "heatmaps; the parameters are unchanged, so --init takes undilated weights (training.dilate does this to a trained checkpoint: model 2.3.0)")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--weight-decay", type=float, default=0.02)
    ap.add_argument("--steps", type=int, default=0, help="fixed number of steps (default: until the time budget)")
    ap.add_argument("--eval-every", type=float, default=5.0, help="minutes between validation passes")
    ap.add_argument("--init", default=None, help="start from this checkpoint's weights (same architecture), "
                    "e.g. to continue a run that stopped short; the schedule restarts")
    ap.add_argument("--version", default=None, help=f"model version recorded in the checkpoint (default "
                    f"{VERSION_COUNTERFACTUAL} with --counterfactual, {VERSION} without)")
    ap.add_argument("--ema", type=float, default=0.0,
                    help="keep an exponential moving average of the weights with this decay (e.g. 0.998) and "
                         "validate and keep that average instead of the live weights (default: off)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2, help="processes generating phantom volumes")
    ap.add_argument("--amp", choices=("off", "bf16"), default="off",
                    help="mixed precision for the training steps: bf16 runs the convolutions in bfloat16 under "
                         "torch.autocast (global pooling, fc and the losses stay float32, as do weights, optimiser, "
                         "batch-norm statistics, validation and every exported or evaluated score). About 2x the samples/s "
                         "on a CPU with AVX512-BF16 or AMX, and on CUDA GPUs since Ampere")
    ap.add_argument("--channels-last", action=argparse.BooleanOptionalAction, default=None,
                    help="NHWC memory format for the network and its input batches (the layout oneDNN and cuDNN "
                         "run fastest); default: on with --amp bf16")
    ap.add_argument("--device", default="cpu", help="torch device for training: cpu (default) or cuda "
                    "(scripts/device-train.sh); augmentation runs there too")
    ap.add_argument("--out", default=str(REPO / "training/checkpoints/resight-ct-lesion.pt"))
    ap.add_argument("--run-dir", default=None)
    args = ap.parse_args(argv)

    if torch.device(args.device).type == "cuda" and not torch.cuda.is_available():
        # asked before any data work (is_available() does not initialise CUDA, so forking is still safe)
        ap.error(f"--device {args.device}: this PyTorch sees no CUDA device (torch {torch.__version__})")
    t_start = time.time()
    deadline = t_start + args.minutes * 60.0
    torch.set_num_threads(args.threads)
    gen = seed_everything(args.seed)
    run_dir = Path(args.run_dir or (D.CACHE_ROOT / "runs" / time.strftime("%Y%m%d-%H%M%S")))
    run_dir.mkdir(parents=True, exist_ok=True)
    logf = open(run_dir / "train.log", "a")

    def log(msg: str):
        line = f"[{time.time() - t_start:7.1f}s] {msg}"
        print(line, flush=True)
        logf.write(line + "\n")
        logf.flush()

    log(f"args {vars(args)}")
    standin = os.environ.get("RESIGHT_PHANTOM_STANDIN") == "1"
    if standin:
        log("WARNING: RESIGHT_PHANTOM_STANDIN=1 -- training on the smoke-test stand-in phantom, not training.phantom")

    # ---------------------------------------------------------------- data
    kw = dict(workers=args.workers, max_pos=args.max_pos, min_neg=args.min_neg,
              counterfactual=args.counterfactual, cf_neg=args.cf_neg, log=log)
    val_paths = D.ensure_split("val", args.val_volumes, all_slices=args.val_all_slices, **kw)
    train_paths = D.ensure_split("train", args.train_volumes, deadline=t_start + args.data_minutes * 60.0,
                                 offset=args.train_offset, **kw)
    train, val = D.SliceSet(train_paths), D.SliceSet(val_paths)
    log(f"train {train.describe()}")
    log(f"val   {val.describe()}")
    if len(train) == 0 or len(val) == 0:
        raise SystemExit("no data")
    gen_s = [v["gen_seconds"] for v in train.volumes + val.volumes]
    log(f"phantom generation: mean {np.mean(gen_s):.1f}s/volume")

    # ---------------------------------------------------------------- model
    # the device is touched only now: the phantom workers above are forked, and a process must
    # not fork after initialising CUDA
    device = torch.device(args.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        aug_gen = torch.Generator(device=device)
        aug_gen.manual_seed(args.seed + 1)
        device_desc = f"CUDA {torch.cuda.get_device_name(device)}, torch {torch.__version__}"
    else:
        aug_gen = gen  # CPU: one generator, as the runs of models 1.x/2.x drew it
        device_desc = f"CPU, {args.threads} threads, torch {torch.__version__}"
    log(f"device {device_desc}")
    arch = {"block": "basic", "layers": [int(v) for v in args.layers.split(",")],
            "widths": [int(v) for v in args.widths.split(",")], "num_classes": len(CLASSES), "dropout": args.dropout}
    if args.dilated:
        arch["dilated"] = [v.strip() for v in args.dilated.split(",") if v.strip()]
    model = build_model(arch)
    arch = model.arch  # normalised (stage order)
    if args.init:
        init_ck = load_checkpoint_dict(args.init)
        if init_ck["arch"]["widths"] != arch["widths"] or init_ck["arch"]["layers"] != arch["layers"]:
            raise SystemExit(f"--init {args.init}: architecture {init_ck['arch']} differs from {arch}")
        model.load_state_dict(init_ck["state_dict"])
        log(f"initialised from {args.init} (its steps: {init_ck.get('training', {}).get('steps')})")
    model.to(device)
    channels_last = args.amp != "off" if args.channels_last is None else args.channels_last
    if channels_last:
        model.to(memory_format=torch.channels_last)
    amp_dtype = torch.bfloat16 if args.amp == "bf16" else None
    if amp_dtype is not None:
        log(f"mixed precision: {args.amp} autocast for the training steps (float32 weights, optimiser, validation)")

    def autocast():
        # without --amp a no-op context: the float32 path the earlier models were trained by
        if amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=device.type, dtype=amp_dtype)

    def to_layout(x):
        return x.contiguous(memory_format=torch.channels_last) if channels_last else x
    n_params = sum(p.numel() for p in model.parameters())
    decay = [p for n, p in model.named_parameters() if p.ndim > 1]
    no_decay = [p for n, p in model.named_parameters() if p.ndim <= 1]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=args.lr)
    log(f"model {arch} params {n_params}")

    reserve = 30.0 + len(val) / 150.0  # final validation + thresholds + saving
    t_train0 = time.time()
    train_budget = max(deadline - t_train0 - reserve, 10.0)
    log(f"training budget {train_budget / 60:.1f} min")
    labels_t = torch.from_numpy(train.labels.astype(np.float32)).to(device)
    use_cam = args.cam_loss > 0 and bool(train.twin.any())
    if use_cam:
        t_maps = time.time()
        train_maps = train.lesion_maps()  # (the pair recipe's batches carry their own crops of these)
        has_map_t = torch.from_numpy(train.has_map).to(device)
        # an extra per-class offset for the local map, trained with it, never exported: the exported
        # network is the plain ResNet (the local map is fc applied at each layer4 position)
        cam_bias = torch.nn.Parameter(torch.full((len(CLASSES),), -4.0, device=device))
        opt.add_param_group({"params": [cam_bias], "weight_decay": 0.0})
        log(f"CAM loss weight {args.cam_loss}: lesion maps for {int(train.has_map.sum())} of {len(train)} "
            f"slices in {time.time() - t_maps:.0f}s")
    elif args.cam_loss > 0:
        log("CAM loss off: no lesion/twin pairs in the training data (--no-counterfactual)")
    use_pairs = bool(args.pair_recipe and train.twin.any())
    if use_pairs:
        from training import pairs as PR
        t_maps = time.time()
        pair_index = PR.PairIndex(train)
        aux_heads = PR.make_aux_heads(arch["widths"], len(CLASSES)).to(device)
        aux_warmup = 0
        if args.init and "aux_state_dict" in init_ck:
            aux_heads.load_state_dict(init_ck["aux_state_dict"])  # the heads trained with these weights
            log("dense-loss heads restored from --init")
        elif args.init:
            aux_warmup = args.aux_warmup
            log(f"dense-loss heads new (--init has none): {aux_warmup} warm-up steps on the frozen network first")
        opt.add_param_group({"params": list(aux_heads.parameters()), "weight_decay": args.weight_decay})
        pair_rng = np.random.default_rng(args.seed + 17)
        rank_ema = dense_ema = None
        log(f"pair recipe: {len(pair_index)} lesion/twin pairs, {len(pair_index.free)} lesion-free rows, "
            f"{args.pairs} pairs per batch, {args.crop}px crops for the first {args.crop_fraction:.0%} "
            f"({time.time() - t_maps:.0f}s)")
    elif args.pair_recipe:
        log("pair recipe off: no lesion/twin pairs in the training data (--no-counterfactual)")
    hard_hu = None
    if args.hard_negatives and args.hard_rows > 0:
        if not use_pairs:
            raise SystemExit("--hard-negatives needs the pair recipe (its batches carry them)")
        from training import hard_negatives as HN
        hard_hu, hard_probs, hard_seeds = HN.load(Path(args.hard_negatives))
        if tuple(hard_hu.shape[1:]) != (P.INPUT_SIZE, P.INPUT_SIZE):
            raise SystemExit(f"--hard-negatives {args.hard_negatives}: slices of {hard_hu.shape[1:]}, this run's "
                             f"input is {P.INPUT_SIZE}x{P.INPUT_SIZE} (RESIGHT_INPUT_SIZE)")
        train_seeds = {int(v["seed"]) for v in train.volumes}
        if not set(np.unique(hard_seeds).tolist()) <= set(range(0, D.SEED_BASE["val"])):
            raise SystemExit("--hard-negatives: shards from outside the training seed range")
        log(f"hard negatives: {len(hard_hu)} slices from {len(np.unique(hard_seeds))} training volumes "
            f"({len(set(hard_seeds.tolist()) & train_seeds)} of them in this run's training set), "
            f"{args.hard_rows} per batch; mining model's max-class probability median {np.median(hard_probs.max(1)):.3f}")
    n = len(train)
    perm, pos = torch.randperm(n, generator=gen), 0
    step, epoch, seen = 0, 0, 0
    best = {"auc": -1.0, "state": None, "step": 0, "probs": None, "aux": None}
    history = []
    next_eval = t_train0 + args.eval_every * 60.0
    loss_ema = None
    cam_ema = None

    val_ordinary = val.twin == 0

    def train_mode():
        model.train()
        if args.freeze_bn:
            for m_ in model.modules():
                if isinstance(m_, torch.nn.modules.batchnorm._BatchNorm):
                    m_.eval()

    use_gradcam = args.gradcam_loss > 0
    if use_gradcam:
        if not use_pairs:
            raise SystemExit("--gradcam-loss needs the pair recipe (its batches carry the lesion maps)")
        if not args.freeze_bn:
            raise SystemExit("--gradcam-loss needs --freeze-bn (per-row gradients)")
        log(f"Grad-CAM pointing loss at {args.gradcam_layer}, weight {args.gradcam_loss}")
    gradcam_ema = None

    ema = WeightEMA(model, args.ema) if args.ema > 0 else None
    if ema is not None:
        log(f"weight EMA, decay {args.ema}: validation scores (and the checkpoint keeps) the average")

    def validate(tag: str):
        live = ema.swap(model) if (ema is not None and step > 0) else None
        probs = predict(model, val.hu)
        aucs = M.per_class_auc(val.labels, probs)
        mean_auc = float(np.nanmean(aucs))
        entry = {"step": step, "epoch": epoch, "minutes": (time.time() - t_start) / 60,
                 "val_auc": dict(zip(CLASSES, aucs)), "loss_ema": loss_ema}
        extra = ""
        if val.twin.any():
            # without the twins (the v1 validation population) and lesion vs its own twin only
            ord_aucs = M.per_class_auc(val.labels[val_ordinary], probs[val_ordinary])
            pair_aucs = [D.pair_auc(probs, val.labels, val.twin, val.src_labels, i) for i in range(len(CLASSES))]
            entry.update(val_auc_without_twins=dict(zip(CLASSES, ord_aucs)),
                         val_auc_lesion_vs_twin=dict(zip(CLASSES, pair_aucs)))
            extra = (" | without twins " + " ".join(f"{c}={a:.4f}" for c, a in zip(CLASSES, ord_aucs)) +
                     " | lesion vs twin " + " ".join(f"{c}={a:.4f}" for c, a in zip(CLASSES, pair_aucs)))
        history.append(entry)
        mark = ""
        if mean_auc > best["auc"]:
            best.update(auc=mean_auc, state=copy.deepcopy(model.state_dict()), step=step, probs=probs,
                        aux=copy.deepcopy(aux_heads.state_dict()) if use_pairs else None)
            mark = " *best*"
        if live is not None:
            model.load_state_dict(live)
            tag += " (EMA weights)"
        log(f"[val] {tag} step {step} epoch {epoch}: AUC " +
            " ".join(f"{c}={a:.4f}" for c, a in zip(CLASSES, aucs)) + f" mean={mean_auc:.4f}{mark}{extra}")
        train_mode()

    def pair_batch(crop: int, hard_rows: int):
        """(augmented input, labels, maps, n_pairs) of one pair-recipe batch, on the device."""
        hu_np, y_np, maps_np, npair = PR.sample_batch(train, pair_index, pair_rng, args.batch, args.pairs, crop,
                                                      hard=hard_hu, hard_rows=hard_rows)
        x, maps = PR.augment_pairs(torch.from_numpy(hu_np).to(device), torch.from_numpy(maps_np).to(device),
                                   npair, aug_gen)
        return to_layout(x), torch.from_numpy(y_np).to(device), maps, npair

    if args.init:
        validate("initial (--init weights)")  # so a continued run never ends worse than it started
    train_mode()
    if use_pairs and aux_warmup:
        # new heads learn on the unchanged network first (pairs.warm_up_aux_heads says why)
        t_w = time.time()
        warm_crop = args.crop if args.crop_fraction > 0 else 0
        dense_l = PR.warm_up_aux_heads(model, aux_heads, opt, lambda: pair_batch(warm_crop, 0), aux_warmup, args.lr,
                                       autocast=autocast)
        train_mode()
        if best["step"] == 0:  # the initial weights, validated above, go with the warmed heads
            best["aux"] = copy.deepcopy(aux_heads.state_dict())
        # the network's own schedule (its learning-rate ramp) starts now, not before the warm-up
        t_train0 = time.time()
        train_budget = max(deadline - t_train0 - reserve, 10.0)
        next_eval = t_train0 + args.eval_every * 60.0
        log(f"dense-loss heads warmed up: {aux_warmup} steps, dense loss {dense_l:.4f} "
            f"({time.time() - t_w:.0f}s)")
    while True:
        now = time.time()
        p = (step / args.steps) if args.steps else (now - t_train0) / train_budget
        if p >= 1.0:
            break
        f = lr_factor(p)
        for g_ in opt.param_groups:
            g_["lr"] = args.lr * f
        if pos + args.batch > n:
            perm, pos, epoch = torch.randperm(n, generator=gen), 0, epoch + 1
        idx = perm[pos:pos + args.batch]
        pos += args.batch
        if use_pairs:
            crop = args.crop if p < args.crop_fraction else 0
            x, y, maps, npair = pair_batch(crop, args.hard_rows)
            with autocast():
                logits, feats = model.forward_with_features(x)  # float32 logits: its head leaves autocast
                cls_loss = F.binary_cross_entropy_with_logits(logits, y)
                rank_l, dense_l = PR.pair_losses(logits, feats, aux_heads, y, maps, npair)
                loss = cls_loss + args.rank_loss * rank_l + args.dense_loss * dense_l
                if use_cam:  # every row of a pair-recipe batch has its map (twins and free rows: empty)
                    cam_l = cam_loss(model, feats["layer4"], maps, y,
                                     torch.ones(len(y), dtype=torch.bool, device=device), cam_bias, args.cam_pos_weight)
                    loss = loss + args.cam_loss * cam_l
                if use_gradcam:
                    gc_l = gradcam_point_loss(logits, feats[args.gradcam_layer], maps, y, npair)
                    loss = loss + args.gradcam_loss * gc_l
            if use_gradcam:
                gradcam_ema = float(gc_l) if gradcam_ema is None else 0.98 * gradcam_ema + 0.02 * float(gc_l)
            rank_ema = float(rank_l) if rank_ema is None else 0.98 * rank_ema + 0.02 * float(rank_l)
            dense_ema = float(dense_l) if dense_ema is None else 0.98 * dense_ema + 0.02 * float(dense_l)
        else:
            hu = torch.from_numpy(train.hu[idx.numpy()].astype(np.float32)).unsqueeze(1).to(device)
            y = labels_t[idx.to(device)]
            if use_cam:
                maps = torch.from_numpy(train_maps[idx.numpy()].astype(np.float32)).unsqueeze(1).to(device)
                x, maps = D.augment_batch(hu, aug_gen, maps=maps)
                with autocast():
                    logits, feats = model.forward_with_features(to_layout(x))
                    cls_loss = F.binary_cross_entropy_with_logits(logits, y)
                    cam_l = cam_loss(model, feats["layer4"], maps, y, has_map_t[idx.to(device)], cam_bias,
                                     args.cam_pos_weight)
                    loss = cls_loss + args.cam_loss * cam_l
            else:
                x = D.augment_batch(hu, aug_gen)
                with autocast():  # forward_with_features: its pooling and fc stay float32 under --amp
                    logits, _ = model.forward_with_features(to_layout(x))
                    loss = F.binary_cross_entropy_with_logits(logits, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if ema is not None:
            ema.update(model)
        step += 1
        seen += len(y)
        lv = float(loss)
        if use_cam:
            cam_ema = float(cam_l) if cam_ema is None else 0.98 * cam_ema + 0.02 * float(cam_l)
        loss_ema = lv if loss_ema is None else 0.98 * loss_ema + 0.02 * lv
        if step % 50 == 0:
            el = time.time() - t_train0
            log(f"step {step} epoch {epoch} loss {loss_ema:.4f}" + (f" (cam {cam_ema:.4f})" if use_cam else "") +
                (f" (gradcam {gradcam_ema:.4f})" if use_gradcam else "") +
                (f" (rank {rank_ema:.4f} dense {dense_ema:.4f}{' crop' if p < args.crop_fraction else ''})"
                 if use_pairs else "") +
                f" lr {args.lr * f:.2e} "
                f"{seen / el:.1f} samples/s")
        if time.time() >= next_eval:
            validate("periodic")
            next_eval = time.time() + args.eval_every * 60.0
    validate("final")
    # the last weights too (the checkpoint below is the best by validation AUC): a run that trades
    # AUC for something validation does not see (the heatmaps of --cam-loss) can be compared
    save_checkpoint(run_dir / "last.pt", model, CLASSES, {"step": step})
    if ema is not None:
        ema.swap(model)
        save_checkpoint(run_dir / "last-ema.pt", model, CLASSES, {"step": step})

    # ---------------------------------------------------------------- best model, thresholds
    model.load_state_dict(best["state"])
    model.eval()
    thresholds, validation = thresholds_and_validation(val, best["probs"])
    wall = (time.time() - t_start) / 60.0
    training = {
        "data": ("Synthetic CT phantoms from training/phantom (make_volume(seed)): 512x512 axial slices with "
                 "lung nodules and liver lesions; slice labels from the lesion masks (vol.slice_labels())."
                 + (" SMOKE RUN on the stand-in phantom (training/tests/standin_phantom.py)." if standin else "")),
        "generator": {"module": "training.tests.standin_phantom" if standin else "training.phantom",
                      "version": getattr(D.phantom_module(), "GENERATOR_VERSION", None),
                      "sourceFingerprint": D.phantom_fingerprint()},
        "splits": {
            "train": {"seeds": seed_range("train", len(train.volumes), args.train_offset), **train.describe(),
                      **({"initialWeights": f"model {init_ck.get('version', 'unknown')} (trained on its own seeds; see its card)"}
                         if args.init else {})},
            "val": {"seeds": seed_range("val", len(val.volumes)), **val.describe(),
                    "use": "checkpoint selection (mean ROC AUC) and operating thresholds",
                    **({"population": "every slice of each volume (natural prevalence, no twins)"}
                       if args.val_all_slices else {})},
            "test": {"seeds": "2000000 onwards (evaluate.py --test-volumes)",
                     "use": "held-out metrics only; never used in training or selection"},
        },
        "sampling": ((f"train/val: every positive slice (at most {args.max_pos} per volume, random subset), the same "
                      f"slices of the volume's lesion-free twin (make_volume_pair: identical anatomy, acquisition and "
                      f"noise, lesions not painted; labelled by the twin's empty masks, i.e. negative for every class) "
                      f"and {args.cf_neg} ordinary negative slices, i.e. about 44% positive; test: all slices")
                     if args.counterfactual else
                     (f"train/val: every positive slice (at most {args.max_pos} per volume, random subset) plus as many "
                      f"negative slices (at least {args.min_neg}), i.e. about half positive; test: all slices")),
        "counterfactualNegatives": bool(args.counterfactual),
        **({"hardNegatives": {"rowsPerBatch": args.hard_rows, "slices": int(len(hard_hu)),
                              "source": str(args.hard_negatives),
                              "description": ("lesion-free slices of training volumes (not within 2 slices of a "
                                              "lesion) that the initial model scored highest "
                                              "(training.hard_negatives)")}} if hard_hu is not None else {}),
        **({"pairRecipe": {"pairsPerBatch": args.pairs, "cropPhase": {"size": args.crop, "fraction": args.crop_fraction},
                           "rankLoss": args.rank_loss, "denseLoss": args.dense_loss,
                           "description": ("each batch: lesion slices and their lesion-free twins with identical "
                                           "augmentation, plus random rows; the first part of the run on crops "
                                           "around lesions (training/pairs.py)")}} if use_pairs else {}),
        "augmentation": dict(D.AUGMENT, order="geometry (rotation/scale/translation/flip) -> blur -> HU scale/offset "
                                              "-> noise -> window jitter -> windowing"),
        "optimizer": {"name": "AdamW", "lr": args.lr, "weightDecay": args.weight_decay, "batch": args.batch,
                      "schedule": ("linear warm-up (3%) then cosine to 1% of lr, over "
                                   + (f"{args.steps} steps" if args.steps else "the wall-clock training budget")),
                      "loss": ("BCEWithLogits (multi-label)" + (
                          f" + {args.cam_loss} x CAM localisation loss (per layer4 cell, BCE of fc.weight . A4 + "
                          f"offset towards the lesion footprint from the lesion/twin difference, lesion cells "
                          f"weighted {args.cam_pos_weight}; training only, the exported graph is the plain ResNet)"
                          if use_cam else "") + (
                          f" + {args.rank_loss} x rank loss softplus(-4 (logit_lesion - logit_twin)) over lesion/twin "
                          f"pairs + {args.dense_loss} x dense loss (1x1 conv heads on layer2 and layer3 predicting the "
                          f"lesion footprint per class, BCE, lesion cells weighted 5; training only, not exported)"
                          if use_pairs else "") + (
                          f" + {args.gradcam_loss} x Grad-CAM pointing loss at {args.gradcam_layer} (spatial "
                          f"softmax of the map against the lesion footprint; batch-norm statistics frozen)"
                          if use_gradcam else "")),
                      "dropoutBeforeFc": args.dropout,
                      **({"weightEma": {"decay": args.ema, "note": "validation and the kept checkpoint use the "
                                        "moving average of the weights"}} if ema is not None else {})},
        "steps": step, "epochs": round(seen / max(n, 1), 2), "samplesSeen": seen, "bestStep": best["step"],
        "wallMinutes": round(wall, 1), "device": device_desc,
        **({"mixedPrecision": f"{args.amp} autocast in the training steps (float32 weights, optimiser state, "
                              f"batch-norm statistics and validation)"} if amp_dtype is not None else {}),
        **({"memoryFormat": "channels_last"} if channels_last else {}),
        "seed": args.seed,
        "initialisedFrom": (None if not args.init else {
            "checkpoint": str(args.init), "version": init_ck.get("version"), "steps": init_ck.get("training", {}).get("steps"),
            "wallMinutes": init_ck.get("training", {}).get("wallMinutes")}),
        "validation": validation,
        "command": "/usr/bin/python3 -m training.train " + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:])),
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_checkpoint(out, model, CLASSES, {
        "version": args.version or (VERSION_COUNTERFACTUAL if args.counterfactual else VERSION), "input_size": P.INPUT_SIZE, "thresholds": thresholds,
        "threshold_method": "Youden's J (max sensitivity + specificity - 1) per class on the validation slices",
        "training": training, "history": history,
        # training-only: the dense loss's heads at the kept step, so a continuation (--init) resumes them
        **({"aux_state_dict": {k: v.cpu() for k, v in best["aux"].items()}} if best["aux"] else {})})
    (run_dir / "history.json").write_text(json.dumps({"history": history, "training": training}, indent=2))
    log(f"best step {best['step']} val mean AUC {best['auc']:.4f}; thresholds {thresholds}")
    log(f"val at thresholds: " + "; ".join(f"{c}: sens {v['sensitivity']:.3f} spec {v['specificity']:.3f}"
                                           for c, v in validation["perClass"].items()))
    log(f"wrote {out}; wall {wall:.1f} min")
    logf.close()


if __name__ == "__main__":
    main()
