"""Dataset builder: phantom volumes -> cached, resized HU slices (+ augmentation in torch).

Seeds (documented in the model card): a volume is ``make_volume(seed)``; the splits use
disjoint seed ranges, so held-out test volumes are never seen in training or model selection:

    train  seeds       0 ..   999 999   (the first --train-volumes of them)
    val    seeds 1 000 000 .. 1 999 999 (checkpoint selection + operating thresholds)
    test   seeds 2 000 000 .. 2 999 999 (held-out metrics only: evaluate.py)

Slice sampling: train/val volumes contribute every positive slice (capped at ``max_pos``,
random subset) plus as many negative slices (at least ``min_neg``), so about half the slices
are positive. Test volumes contribute *all* slices (natural prevalence, as the app sees them).

Counterfactual negatives (``counterfactual=True``, the default of train.py since model 2): each
train/val volume is rendered twice by ``make_volume_pair(seed)`` -- with its lesions and as its
lesion-free twin (same anatomy, acquisition and noise; only the lesions are not painted). Every
selected positive slice then also contributes the *same slice of the twin*, labelled by the
twin's own masks (empty, so negative for every class: the label rule is unchanged). The twins
replace most ordinary negatives: ``cf_neg`` (default 4) ordinary negative slices per volume are
kept so that slices outside the lesion-bearing range are still seen; about 44 % of the slices
are positive. Since a pair differs only by the lesion, context (which organ is visible) cannot
separate them and the classifier has to look at the lesion. Shards record which rows are twins
(``twin``) and the labels of the slice each row was rendered from (``src_labels``).

Cache: steps 1+2 of the preprocessing (padding fill, bilinear resize to 256x256) are done
once and stored per volume as float16 HU (``training/.cache/<key>/<split>/<seed>.npz``; the
key hashes the phantom sources and the sampling settings, so a changed generator invalidates
it). Windowing (steps 3+4) is pointwise, so it is applied per batch in torch
(``preprocess.window_torch``), after augmentation, with optional window jitter. float16
quantises HU by <= 1 HU in the range that matters (<= 0.5 HU below |1024|).
"""
from __future__ import annotations

import functools
import hashlib
import importlib
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from training import preprocess as P  # noqa: E402

CLASSES = ["lung_nodule", "liver_lesion"]
SEED_BASE = {"train": 0, "val": 1_000_000, "test": 2_000_000}
CACHE_ROOT = REPO / "training" / ".cache"
# per-size-bin reporting (mm, lower edges; nodules < 8 mm reported separately)
SIZE_BINS = {"lung_nodule": [0.0, 8.0, 15.0], "liver_lesion": [0.0, 15.0, 25.0]}


def split_seeds(split: str, n: int, offset: int = 0) -> List[int]:
    base = SEED_BASE[split]
    if offset + n > 1_000_000:
        raise ValueError("too many volumes for one split")
    return [base + offset + i for i in range(n)]


# ----------------------------------------------------------------------------- phantom access

def phantom_module():
    """``training.phantom``; the smoke-test stand-in only when RESIGHT_PHANTOM_STANDIN=1."""
    if os.environ.get("RESIGHT_PHANTOM_STANDIN") == "1":
        return importlib.import_module("training.tests.standin_phantom")
    return importlib.import_module("training.phantom")


@functools.lru_cache(maxsize=None)
def phantom_fingerprint() -> str:
    """Hash of the phantom package's sources, computed once per process (so a run keeps one
    cache key even if the sources are edited while it runs)."""
    mod = phantom_module()
    h = hashlib.sha256()
    if getattr(mod, "__path__", None):
        files = sorted(p for d in mod.__path__ for p in Path(d).rglob("*.py"))
    else:
        files = [Path(mod.__file__)]
    for f in files:
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def _get(d: dict, *keys, default=None):
    for k in keys:
        if k in d and d[k] is not None:
            return d[k]
    return default


def lesion_table(vol) -> List[dict]:
    """Normalise ``vol.lesions`` to {id, class, diameter_mm, z0, z1, zc}: the slice extent of the
    lesion's own mask (inclusive; phantom key ``slices``) and its key/central slice (``key_slice``,
    else the centre voxel). Without ``slices`` the extent is estimated from centre +- radius,
    tightened to where the class mask is on near the centre."""
    dz, dy, dx = [float(s) for s in vol.spacing]
    Z = vol.hu.shape[0]
    out = []
    for i, les in enumerate(vol.lesions):
        cls = _get(les, "class", "kind", "type", "label", "cls")
        if cls not in CLASSES:
            continue
        diam = _get(les, "diameter_mm", "diameter", "size_mm", "size")
        if diam is None and _get(les, "radius_mm", "radius") is not None:
            diam = 2.0 * float(_get(les, "radius_mm", "radius"))
        cv = _get(les, "center_vox", "center_voxel", "center_zyx", "center_ijk", "centre_vox", "voxel")
        if cv is None and _get(les, "center_mm", "centre_mm", "center") is not None:
            cm = _get(les, "center_mm", "centre_mm", "center")
            cv = [cm[0] / dz, cm[1] / dy, cm[2] / dx]
        zr = _get(les, "z_range", "slices", "z_extent")
        if zr is not None:
            z0, z1 = int(min(zr)), int(max(zr))
        elif cv is not None and diam is not None:
            r = float(diam) / 2.0
            zc = float(cv[0])
            z0, z1 = int(math.ceil(zc - r / dz - 1e-6)), int(math.floor(zc + r / dz + 1e-6))
            # tighten to the slices where the class mask is actually on near the centre
            m = vol.masks[cls]
            ry, rx = int(r / dy) + 2, int(r / dx) + 2
            yc, xc = int(round(float(cv[1]))), int(round(float(cv[2])))
            zs = [z for z in range(max(z0, 0), min(z1, Z - 1) + 1)
                  if m[z, max(yc - ry, 0):yc + ry + 1, max(xc - rx, 0):xc + rx + 1].any()]
            if zs:
                z0, z1 = zs[0], zs[-1]
        else:
            continue
        z0, z1 = max(z0, 0), min(z1, Z - 1)
        if z1 < z0:
            continue
        zc = _get(les, "key_slice")
        if zc is None:
            zc = float(cv[0]) if cv is not None else 0.5 * (z0 + z1)
        zc = int(min(max(round(float(zc)), z0), z1))
        out.append({"id": i, "class": cls, "diameter_mm": float(diam) if diam is not None else float("nan"),
                    "z0": z0, "z1": z1, "zc": zc})
    return out


# ----------------------------------------------------------------------------- shards

def cache_key(max_pos: int, min_neg: int, counterfactual: bool = False, cf_neg: int = 4) -> str:
    if counterfactual:
        return f"ph-{phantom_fingerprint()}_s{P.INPUT_SIZE}_p{max_pos}_cf{cf_neg}"
    return f"ph-{phantom_fingerprint()}_s{P.INPUT_SIZE}_p{max_pos}_n{min_neg}"


def select_slices(labels: np.ndarray, rng: np.random.Generator, max_pos: int, min_neg: int) -> np.ndarray:
    pos = np.flatnonzero(labels.any(1))
    neg = np.flatnonzero(~labels.any(1))
    if len(pos) > max_pos:
        pos = rng.choice(pos, max_pos, replace=False)
    n_neg = min(len(neg), max(len(pos), min_neg))
    neg = rng.choice(neg, n_neg, replace=False) if n_neg else neg[:0]
    return np.sort(np.concatenate([pos, neg]))


def select_slices_counterfactual(labels: np.ndarray, rng: np.random.Generator, max_pos: int,
                                 cf_neg: int) -> Tuple[np.ndarray, np.ndarray]:
    """(ordinary slice indices, twin slice indices), both sorted. Every positive slice (at most
    ``max_pos``, random subset) is taken from the volume with lesions *and* from its lesion-free
    twin; ``cf_neg`` ordinary negatives are added (the twins supply the rest of the negatives)."""
    pos = np.flatnonzero(labels.any(1))
    neg = np.flatnonzero(~labels.any(1))
    if len(pos) > max_pos:
        pos = rng.choice(pos, max_pos, replace=False)
    n_neg = min(len(neg), max(int(cf_neg), 0))
    neg = rng.choice(neg, n_neg, replace=False) if n_neg else neg[:0]
    pos = np.sort(pos.astype(int))
    return np.sort(np.concatenate([pos, neg]).astype(int)), pos


def _lesion_free_twin(mod, seed: int, spec=None):
    """(volume, lesion-free twin) from the phantom module (``make_volume_pair`` when it has one)."""
    args = (seed,) if spec is None else (seed, spec)
    pair = getattr(mod, "make_volume_pair", None)
    if pair is not None:
        return pair(*args)
    return mod.make_volume(*args), mod.make_volume(*args, lesions=False)


def _resized(vol, zs) -> np.ndarray:
    if not len(zs):
        return np.zeros((0, P.INPUT_SIZE, P.INPUT_SIZE), np.float32)
    return np.stack([P.resize_hu_slice(vol.hu[z]) for z in zs], 0)


def build_shard(seed: int, path: Path, all_slices: bool, max_pos: int, min_neg: int,
                counterfactual: bool = False, cf_neg: int = 4, spec=None) -> dict:
    """Render volume ``seed`` (``spec``: optional VolumeSpec, for tests), pick its slices, resize
    and store them. With ``counterfactual`` (train/val only) the lesion-free twins of the positive
    slices are appended (rows with ``twin == 1``)."""
    mod = phantom_module()
    counterfactual = bool(counterfactual and not all_slices)
    t0 = time.time()
    if counterfactual:
        vol, twin = _lesion_free_twin(mod, seed, spec)
    else:
        vol, twin = (mod.make_volume(seed) if spec is None else mod.make_volume(seed, spec)), None
    gen_s = time.time() - t0
    labels = np.asarray(vol.slice_labels(), dtype=np.uint8)
    rng = np.random.default_rng(seed + 7919)
    if all_slices:
        zsel, ztwin = np.arange(labels.shape[0]), np.zeros(0, int)
    elif counterfactual:
        zsel, ztwin = select_slices_counterfactual(labels, rng, max_pos, cf_neg)
    else:
        zsel, ztwin = select_slices(labels, rng, max_pos, min_neg), np.zeros(0, int)
    hu = _resized(vol, zsel)
    out_labels, src_labels = labels[zsel], labels[zsel]
    is_twin = np.zeros(len(zsel), np.uint8)
    if counterfactual and len(ztwin):
        twin_labels = np.asarray(twin.slice_labels(), dtype=np.uint8)
        hu = np.concatenate([hu, _resized(twin, ztwin)], 0)
        out_labels = np.concatenate([out_labels, twin_labels[ztwin]], 0)
        src_labels = np.concatenate([src_labels, labels[ztwin]], 0)
        is_twin = np.concatenate([is_twin, np.ones(len(ztwin), np.uint8)])
    les = lesion_table(vol)
    info = {"seed": seed, "shape": list(vol.hu.shape), "spacing": [float(s) for s in vol.spacing],
            "lesions": les, "gen_seconds": round(gen_s, 3),
            "n_pos_slices_total": int(labels.any(1).sum())}
    arrays = dict(hu=hu.astype(np.float16), z=np.concatenate([zsel, ztwin]).astype(np.int32), labels=out_labels)
    if counterfactual:
        info.update(counterfactual=True, n_twins=int(len(ztwin)))
        arrays.update(twin=is_twin, src_labels=src_labels)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, **arrays, info=np.array(json.dumps(info)))
    os.replace(tmp, path)
    return info


def _build_shard_job(args):
    seed, path, all_slices, max_pos, min_neg, counterfactual, cf_neg = args
    try:
        import torch  # noqa: F401  keep worker processes single-threaded
        torch.set_num_threads(1)
    except Exception:
        pass
    return build_shard(seed, Path(path), all_slices, max_pos, min_neg, counterfactual, cf_neg)


def run_volume_jobs(fn, jobs: Sequence, workers: int, deadline: Optional[float] = None,
                    on_done: Optional[Callable[[int], None]] = None) -> int:
    """Run ``fn(job)`` for each job, in ``workers`` forked processes (in-process for 1), at most
    2 per worker queued, submitting none after ``deadline`` (time.time()); ``on_done(n)`` after
    each finished job. Returns how many finished. Phantom volumes (ensure_split) and hard-negative
    mining (training.hard_negatives) both render one volume per job this way."""
    done = 0
    if workers <= 1:
        for j in jobs:
            if deadline and time.time() > deadline:
                break
            fn(j)
            done += 1
            if on_done:
                on_done(done)
        return done
    import multiprocessing as mp
    with mp.get_context("fork").Pool(workers) as pool:
        pending = []
        it = iter(jobs)
        exhausted = False
        while True:
            while not exhausted and len(pending) < 2 * workers and not (deadline and time.time() > deadline):
                j = next(it, None)
                if j is None:
                    exhausted = True
                    break
                pending.append(pool.apply_async(fn, (j,)))
            if not pending:
                break
            pending.pop(0).get()
            done += 1
            if on_done:
                on_done(done)
            if deadline and time.time() > deadline:
                exhausted = True
    return done


def ensure_split(split: str, n_volumes: int, *, workers: int = 2, max_pos: int = 24, min_neg: int = 8,
                 counterfactual: bool = False, cf_neg: int = 4, all_slices: Optional[bool] = None,
                 deadline: Optional[float] = None, cache_root: Path = CACHE_ROOT, log=print,
                 offset: int = 0) -> List[Path]:
    """Generate (or reuse) the shards of ``split``; returns the shard paths that exist, in seed
    order. Stops submitting new volumes after ``deadline`` (time.time()), if given.
    ``counterfactual`` (lesion-free twins, see the module doc) applies to train/val only; the
    test split always holds every slice of the volumes as they are. ``all_slices=True`` makes a
    train/val split do the same (``<split>-all`` in the cache: natural prevalence, no twins),
    e.g. for ``train.py --val-all-slices``. ``offset``: skip the split's first seeds (fresh volumes
    for a continuation, ``train.py --train-offset``)."""
    natural = split == "test" or bool(all_slices)
    counterfactual = bool(counterfactual and not natural)
    sub = split if split == "test" or not natural else f"{split}-all"
    all_slices = natural
    d = Path(cache_root) / cache_key(max_pos, min_neg, counterfactual, cf_neg) / sub
    d.mkdir(parents=True, exist_ok=True)
    seeds = split_seeds(split, n_volumes, offset)
    paths = {s: d / f"{s}.npz" for s in seeds}
    todo = [s for s in seeds if not paths[s].exists()]
    if todo:
        log(f"[data] {split}: generating {len(todo)} of {len(seeds)} volumes with {workers} worker(s) -> {d}")
        t0 = time.time()
        jobs = [(s, str(paths[s]), all_slices, max_pos, min_neg, counterfactual, cf_neg) for s in todo]

        def progress(done: int) -> None:
            if done % 20 == 0:
                log(f"[data] {split}: {done}/{len(todo)} volumes, {time.time() - t0:.0f}s")
        done = run_volume_jobs(_build_shard_job, jobs, workers, deadline, progress)
        log(f"[data] {split}: generated {done} volumes in {time.time() - t0:.0f}s")
    return [paths[s] for s in seeds if paths[s].exists()]


MAP_SIZE = P.INPUT_SIZE // 4  # lesion maps for the CAM loss: 4x4-px cells (64x64 at the 256 input)
MAP_MIN_HU = 8.0     # |lesion - twin| above this is lesion (float16 rounding + FFT residue < 1 HU)


class SliceSet:
    """All slices of a list of shards, in memory: hu float16 [M,256,256], labels uint8 [M,C];
    ``twin`` uint8 [M] (1: a lesion-free twin slice) and ``src_labels`` [M,C] (labels of the slice
    with lesions it was rendered from; == labels for ordinary rows)."""

    def __init__(self, paths: Sequence[Path]):
        hus, labels, seeds, zs, infos, twins, srcs = [], [], [], [], [], [], []
        for p in paths:
            with np.load(p) as f:
                info = json.loads(str(f["info"]))
                hus.append(f["hu"])
                labels.append(f["labels"])
                zs.append(f["z"])
                seeds.append(np.full(len(f["z"]), info["seed"], np.int64))
                twins.append(f["twin"] if "twin" in f.files else np.zeros(len(f["z"]), np.uint8))
                srcs.append(f["src_labels"] if "src_labels" in f.files else f["labels"])
                infos.append(info)
        size = P.INPUT_SIZE
        self.hu = np.concatenate(hus) if hus else np.zeros((0, size, size), np.float16)
        self.labels = np.concatenate(labels) if labels else np.zeros((0, len(CLASSES)), np.uint8)
        self.z = np.concatenate(zs) if zs else np.zeros(0, np.int32)
        self.seed = np.concatenate(seeds) if seeds else np.zeros(0, np.int64)
        self.twin = np.concatenate(twins) if twins else np.zeros(0, np.uint8)
        self.src_labels = np.concatenate(srcs) if srcs else np.zeros((0, len(CLASSES)), np.uint8)
        self.volumes = infos
        self._maps: Optional[np.ndarray] = None

    def lesion_maps(self, size: int = MAP_SIZE, min_hu: float = MAP_MIN_HU) -> np.ndarray:
        """Where the lesions are, float16 [M, size, size] in 0..1 (fraction of each cell covered),
        from the counterfactual pairs: a positive slice minus its lesion-free twin is exactly the
        painted lesions (same anatomy and noise), so ``|hu - twin| > min_hu`` is each lesion's
        visible footprint at the model's input resolution, soft margin included. Rows without a
        twin partner (ordinary negatives, the twins themselves) get zeros; ``has_map`` [M] says
        which rows carry a real map (NaN-free supervision for the CAM loss)."""
        if self._maps is not None:
            return self._maps
        m = len(self)
        maps = np.zeros((m, size, size), np.float16)
        has = np.zeros(m, bool)
        f = P.INPUT_SIZE // size
        key = {}
        for i in np.flatnonzero(self.twin == 1):
            key[(int(self.seed[i]), int(self.z[i]))] = i
        for i in np.flatnonzero((self.twin == 0) & self.labels.any(1)):
            j = key.get((int(self.seed[i]), int(self.z[i])))
            if j is None:
                continue
            d = np.abs(self.hu[i].astype(np.float32) - self.hu[j].astype(np.float32)) > min_hu
            maps[i] = d.reshape(size, f, size, f).mean((1, 3))
            has[i] = True
        has |= ~self.labels.any(1)  # negatives: "no lesion anywhere" is a real target too
        self._maps, self.has_map = maps, has
        return maps

    def __len__(self):
        return len(self.labels)

    def describe(self) -> dict:
        d = {"volumes": len(self.volumes), "slices": int(len(self)),
             "positiveSlices": {c: int(self.labels[:, i].sum()) for i, c in enumerate(CLASSES)},
             "negativeSlices": int((~self.labels.any(1)).sum()) if len(self) else 0}
        if len(self) and self.twin.any():
            d["counterfactualTwins"] = int(self.twin.sum())
            d["positiveFraction"] = round(float(self.labels.any(1).mean()), 3)
        return d


def pair_auc(scores: np.ndarray, labels: np.ndarray, twin: np.ndarray, src_labels: np.ndarray,
             class_index: int) -> float:
    """ROC AUC of class ``class_index`` between its positive slices (with lesions) and the
    lesion-free twins of positive slices of that class: context is identical, so this measures
    whether the score responds to the lesion itself (0.5 = lesion ignored). NaN without twins."""
    from training import metrics as M
    i = class_index
    pos = (twin == 0) & (labels[:, i] == 1)
    neg = (twin == 1) & (src_labels[:, i] == 1)
    if not pos.any() or not neg.any():
        return float("nan")
    y = np.concatenate([np.ones(int(pos.sum())), np.zeros(int(neg.sum()))])
    return float(M.roc_auc(y, np.concatenate([scores[pos, i], scores[neg, i]])))


# ----------------------------------------------------------------------------- augmentation

AUGMENT = {
    "hu_offset_sd": 20.0,        # HU, global offset ~ N(0, sd)
    "hu_scale": 0.05,            # HU *= 1 + U(-s, s) (about 0 HU)
    "noise_sd_max": 30.0,        # HU, Gaussian noise sd ~ U(0, max), p = 0.5
    "blur_sigma_max": 1.2,       # px at 256, Gaussian blur sigma ~ U(0.3, max), p = 0.3
    "flip_lr_p": 0.5,            # left-right flip
    "flip_ud_p": 0.0,            # no anterior-posterior flips (anatomically implausible)
    "rotate_deg": 10.0,          # U(-r, r)
    "scale": 0.12,               # zoom 1 + U(-s, s)
    "translate": 0.05,           # fraction of the field of view
    "window_level_jitter": 0.05, # level += U(-j, j) * width
    "window_width_jitter": 0.10, # width *= 1 + U(-j, j)
}


def _gauss_kernel(sigma: float, radius: int):
    import torch
    x = torch.arange(-radius, radius + 1, dtype=torch.float32)
    k = torch.exp(-0.5 * (x / sigma) ** 2)
    return k / k.sum()


def augment_batch(hu, gen, cfg: dict = AUGMENT, maps=None):
    """HU [N,1,S,S] float32 -> augmented, windowed input [N,3,S,S]. ``gen``: torch.Generator.
    ``maps`` (optional, [N,1,s,s], any s): lesion maps warped by the same geometry; then returns
    (input, warped maps). The random draws are the same with or without ``maps``."""
    import torch
    import torch.nn.functional as F
    n = hu.shape[0]
    dev = hu.device

    def U(*shape, lo=-1.0, hi=1.0):
        return torch.rand(*shape, generator=gen, device=dev) * (hi - lo) + lo

    # geometry (applied to HU + 1024 so out-of-field fill is air)
    ang = U(n) * math.radians(cfg["rotate_deg"])
    sc = 1.0 + U(n) * cfg["scale"]
    flip = torch.where(U(n, lo=0, hi=1) < cfg["flip_lr_p"], -1.0, 1.0)
    flip_ud = torch.where(U(n, lo=0, hi=1) < cfg["flip_ud_p"], -1.0, 1.0)
    tx, ty = U(n) * cfg["translate"] * 2, U(n) * cfg["translate"] * 2
    cos, sin = torch.cos(ang) / sc, torch.sin(ang) / sc
    # output->input map: (R(ang) / sc) @ diag(flip_lr, flip_ud), plus translation
    theta = torch.stack([torch.stack([cos * flip, -sin * flip_ud, tx], 1),
                         torch.stack([sin * flip, cos * flip_ud, ty], 1)], 1)
    grid = F.affine_grid(theta, list(hu.shape), align_corners=False)
    x = F.grid_sample(hu + 1024.0, grid, mode="bilinear", padding_mode="zeros", align_corners=False) - 1024.0
    if maps is not None:
        # affine_grid works in normalised coordinates, so the same theta warps a coarser map alike
        mgrid = F.affine_grid(theta, [n, 1, maps.shape[-2], maps.shape[-1]], align_corners=False)
        maps = F.grid_sample(maps, mgrid, mode="bilinear", padding_mode="zeros", align_corners=False)
    # blur
    if cfg["blur_sigma_max"] > 0:
        do = U(n, lo=0, hi=1) < 0.3
        if bool(do.any()):
            sigma = float(U(1, lo=0.3, hi=cfg["blur_sigma_max"]))
            k = _gauss_kernel(sigma, max(1, int(math.ceil(2.5 * sigma)))).to(dev)
            r = (len(k) - 1) // 2
            xb = x[do]
            xb = F.conv2d(F.pad(xb, (r, r, 0, 0), mode="replicate"), k.view(1, 1, 1, -1))
            xb = F.conv2d(F.pad(xb, (0, 0, r, r), mode="replicate"), k.view(1, 1, -1, 1))
            x = x.clone()
            x[do] = xb
    # intensity: scale about 0 HU, offset, noise
    x = x * (1.0 + U(n, 1, 1, 1) * cfg["hu_scale"]) + torch.randn(n, 1, 1, 1, generator=gen, device=dev) * cfg["hu_offset_sd"]
    noise_sd = U(n, 1, 1, 1, lo=0, hi=cfg["noise_sd_max"]) * (U(n, 1, 1, 1, lo=0, hi=1) < 0.5)
    x = x + torch.randn(x.shape, generator=gen, device=dev) * noise_sd
    # window jitter, then windowing + normalisation
    lv = torch.tensor([w[1] for w in P.WINDOWS], device=dev).expand(n, 3)
    wd = torch.tensor([w[2] for w in P.WINDOWS], device=dev).expand(n, 3)
    lv = lv + U(n, 3) * cfg["window_level_jitter"] * wd
    wd = wd * (1.0 + U(n, 3) * cfg["window_width_jitter"])
    out = P.window_torch(x, lv, wd)
    return out if maps is None else (out, maps)


def windowed(hu_f16: np.ndarray):
    """Cached HU (float16 [M,S,S]) -> model input tensor [M,3,S,S] (no augmentation)."""
    import torch
    return P.window_torch(torch.from_numpy(np.asarray(hu_f16, dtype=np.float32)).unsqueeze(1))
