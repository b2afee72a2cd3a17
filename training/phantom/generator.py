"""make_volume: one deterministic synthetic CT volume (thorax / upper abdomen) per seed."""
from __future__ import annotations

import time
from typing import List, Optional, Sequence, Tuple

import numpy as np

from . import acquisition, lesions as L
from .anatomy import Anatomy, _lut
from .spec import (BLUR_SIGMA_PX, CLASSES, GENERATOR_VERSION, MAX_COVERAGE_MM, NOISE_SIGMA_HU,
                   PIXEL_SPACING_MM, REGIONS, SLICES, THICKNESS_MM, VolumeSpec, normalize_contrast, pick)
from .tissues import T, sample_tissue_table
from .tubes import Grid, draw_tubes
from .volume import Volume

_COMMON_THICKNESS = (1.25, 1.5, 2.0, 2.5, 3.0, 3.75, 4.0, 5.0)


def make_volume(seed: int, spec: Optional[VolumeSpec] = None, *, lesions: bool = True) -> Volume:
    """One volume. ``lesions=False`` renders the same volume's lesion-free twin (see
    :func:`make_volume_pair`): every random draw is made exactly as with lesions (placement,
    shapes, textures included), only the blend into the HU volume is skipped, so anatomy, tissue
    labels, geometry, streaks and the noise realisation are identical. The twin has empty masks,
    no ``lesions`` (so every slice is negative under the label rule) and records what was removed
    in ``meta['removed_lesions']``. The default (``lesions=True``) is unchanged."""
    return _make(seed, spec, (bool(lesions),))[0]


def make_volume_pair(seed: int, spec: Optional[VolumeSpec] = None) -> Tuple[Volume, Volume]:
    """``(make_volume(seed, spec), make_volume(seed, spec, lesions=False))`` -- bit-identical to
    the two separate calls, but the anatomy and tubes are computed once (about 1.3x the time of
    one volume instead of 2x). The two differ only by the lesions: their blend (soft edge
    included) spread by the acquisition blur and slice mixing; the noise field is the same."""
    a, b = _make(seed, spec, (True, False))
    return a, b


def _make(seed: int, spec: Optional[VolumeSpec], modes: Sequence[bool]) -> List[Volume]:
    """Render the volume once per entry of ``modes`` (True: with lesions, False: twin)."""
    t_start = time.perf_counter()
    spec = spec or VolumeSpec()
    seq = np.random.SeedSequence([int(seed) & 0xFFFFFFFF, int(seed) >> 32, 0x5E51647])
    r_geo, r_anat, r_hu, r_tube, r_les, r_acq = [np.random.default_rng(s) for s in seq.spawn(6)]

    # ---------------------------------------------------------------- acquisition geometry
    N = int(spec.matrix)
    # a smaller test matrix keeps a realistic field of view (spacing scaled by 512 / matrix)
    ps = float(pick(spec.pixel_spacing, round(float(r_geo.uniform(*PIXEL_SPACING_MM)) * 512 / N, 5)))
    th_draw = (float(r_geo.choice(_COMMON_THICKNESS)) if r_geo.random() < 0.6
               else round(float(r_geo.uniform(*THICKNESS_MM)), 2))
    dz = float(pick(spec.thickness, th_draw))
    z_hi = max(SLICES[0], min(SLICES[1], int(MAX_COVERAGE_MM // dz)))
    Z = int(pick(spec.slices, int(r_geo.integers(SLICES[0], z_hi + 1))))
    region = str(pick(spec.region, str(r_geo.choice(REGIONS, p=[0.35, 0.4, 0.25]))))
    contrast = normalize_contrast(pick(spec.contrast, str(r_geo.choice(["none", "arterial", "portal"],
                                                                       p=[0.35, 0.25, 0.4]))))
    want_table = bool(pick(spec.table, r_geo.random() < 0.8))
    want_streaks = bool(pick(spec.streaks, r_geo.random() < 0.5))
    zoff = float(r_geo.uniform(-300, 300))
    explicit = list(spec.lesions or [])
    n_nod = int(pick(spec.n_nodules, int(r_geo.integers(0, 6)) if not explicit else 0))
    n_liv = int(pick(spec.n_liver_lesions, int(r_geo.integers(0, 5)) if not explicit else 0))
    sigma = float(pick(spec.noise_sigma, float(r_acq.uniform(*NOISE_SIGMA_HU))))
    blur = float(pick(spec.blur_sigma_px, float(r_acq.uniform(*BLUR_SIGMA_PX))))
    boost = float(r_acq.uniform(0, 0.5)) * (blur < 0.8)
    zmix = float(r_acq.uniform(0.04, 0.2))
    A, nps = acquisition.noise_filter(N, r_acq)

    tm = {}
    t0 = time.perf_counter()
    # ---------------------------------------------------------------- anatomy, slice by slice
    anat = Anatomy(r_anat, N, ps, spec.center_s_mm, region, (Z - 1) * dz)
    s_max = anat.s_range[1]
    svals = s_max - dz * np.arange(Z)
    g = Grid(N=N, Z=Z, ps=ps, dz=dz, x0=float(anat.coords[0]), y0=float(anat.coords[0]), s0=float(s_max))
    table = sample_tissue_table(r_hu, contrast)
    base2d = anat.table_labels(r_anat, want_table)
    anat._wo, anat._ws = (0, 0), (N, N)
    bg_hu = table[0][base2d] + table[1][base2d] * anat.texture(float(svals[0]))[0]
    lab = np.empty((Z, N, N), np.uint8)
    hu = np.empty((Z, N, N), np.float32)
    streak_specs = []
    st_amp = float(r_acq.uniform(15, 60))
    for k, s in enumerate(svals):
        lk, ctx = anat.paint_labels(float(s), base2d)
        lab[k] = lk
        hu[k] = anat.paint_hu(lk, ctx, float(s), table, bg_hu)
        if want_streaks:
            streak_specs.append(_streaks_for_slice(anat, ctx, float(s), r_acq, st_amp))

    tm["anatomy"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    # ---------------------------------------------------------------- tubes
    rib_segs = anat.rib_segments(r_tube)
    vessels, airways = anat.vessel_tree(r_tube)
    base = table[0]
    not_air = ~_lut(T.AIR, T.TABLE_CORE, T.TABLE_SHELL, T.PAD)
    ribs = [sg[:4] for sg in rib_segs if sg[4] == "rib"]
    cart = [sg[:4] for sg in rib_segs if sg[4] == "cartilage"]
    draw_tubes(hu, lab, g, ribs, val_out=base[T.BONE_CORTEX] * r_tube.uniform(0.8, 1.0),
               val_in=base[T.BONE_MARROW], frac_in=r_tube.uniform(0.55, 0.72), allowed=not_air,
               lab_out=T.BONE_CORTEX, lab_in=T.BONE_MARROW)
    draw_tubes(hu, lab, g, cart, val_out=base[T.CARTILAGE], allowed=not_air, lab_out=T.CARTILAGE)
    vbase = base[T.LUNG_VESSEL]
    vvals = np.array([vbase * (1.0 if sg[4] == "artery" or contrast == "none" else r_tube.uniform(0.55, 1.0))
                      + r_tube.uniform(-5, 5) for sg in vessels], np.float32)
    draw_tubes(hu, lab, g, [sg[:4] for sg in vessels], val_out=vvals, allowed=_lut(T.LUNG))
    draw_tubes(hu, lab, g, [sg[:4] for sg in airways], val_out=float(r_tube.uniform(-120, 20)),
               val_in=base[T.AIRWAY], frac_in=float(r_tube.uniform(0.68, 0.8)),
               allowed=_lut(T.LUNG, T.VISCERAL_FAT, T.AIRWAY), lab_in=T.AIRWAY)
    lsegs = anat.liver_vessels(r_tube)
    draw_tubes(hu, lab, g, [sg[:4] for sg in lsegs], val_out=base[T.LIVER_VESSEL], allowed=_lut(T.LIVER))

    tm["tubes"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    # ---------------------------------------------------------------- lesions
    # Everything above is shared by all modes. The lesion loop always makes the same draws; it
    # paints into ``hu`` only when a with-lesions render is wanted, and a lesion-free copy is kept
    # aside when both are wanted.
    paint = any(modes)
    hu_clean = hu.copy() if (paint and not all(modes)) else None
    placer = L.Placer(lab, g, r_les)
    vessel_segs = [sg[:4] for sg in vessels]
    requests = []
    for ov in explicit:
        cls = ov.get("class", "lung_nodule")
        if cls not in CLASSES:
            raise ValueError(f"lesion class must be one of {CLASSES}: {cls!r}")
        requests.append((cls, ov))
    requests += [("lung_nodule", None)] * n_nod + [("liver_lesion", None)] * n_liv
    lesion_list, footprints = [], []
    masks = {c: np.zeros((Z, N, N), np.uint8) for c in CLASSES}
    for cls, ov in requests:
        kt = None
        if ov and ov.get("center_s_frac") is not None:
            kt = int(round(float(ov["center_s_frac"]) * (Z - 1)))
        ovp = {k: v for k, v in (ov or {}).items() if k != "center_s_frac"}
        if cls == "lung_nodule":
            p = L.nodule_params(r_les, contrast, ovp)
            ok = placer.place_nodule(p, vessel_segs, kt)
        else:
            p = L.liver_params(r_les, contrast, ovp)
            ok = placer.place_liver(p, kt, shrink=ov is None)
        if not ok:
            continue
        fp = L.render(p, hu, lab, g, r_les, paint=paint)
        if fp is None:
            continue
        sl = (slice(fp["k0"], fp["k0"] + fp["mask"].shape[0]), slice(fp["r0"], fp["r0"] + fp["mask"].shape[1]),
              slice(fp["c0"], fp["c0"] + fp["mask"].shape[2]))
        masks[cls][sl] |= fp["mask"].astype(np.uint8)
        areas = fp["mask"].reshape(fp["mask"].shape[0], -1).sum(1)
        ks = np.flatnonzero(areas)
        x, y, s = p["center"]
        rec = {
            "class": cls, "kind": p["kind"], "shape": p["shape"], "margin": p["margin"], "juxta": p["juxta"],
            "diameter_mm": round(float(p["diameter_mm"]), 2),
            "center_vox": (round((g.s0 - s) / dz, 2), round((y - g.y0) / ps, 2), round((x - g.x0) / ps, 2)),
            "center_mm": (round(float(x), 2), round(float(y), 2), round(zoff - float(s), 2)),
            "slices": (int(fp["k0"] + ks[0]), int(fp["k0"] + ks[-1])),
            "key_slice": int(fp["k0"] + ks[np.argmax(areas[ks])]),
            "max_area_mm2": round(float(areas.max()) * ps * ps, 1),
        }
        if cls == "lung_nodule":
            rec["hu"] = round(float(p["hu_ggo"] if p["kind"] == "ggo" else p["hu_solid"]), 1)
            if p["kind"] == "part_solid":
                rec["hu_ggo"] = round(float(p["hu_ggo"]), 1)
        else:
            rec["delta_hu"] = round(float(p["delta_hu"]), 1)
            rec["liver_hu"] = round(float(base[T.LIVER]), 1)
        lesion_list.append(rec)
        footprints.append(fp)

    tm["lesions"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    # ---------------------------------------------------------------- acquisition
    # one HU array per mode; they share the streaks and (by replaying r_acq) the noise draws
    arrays = [hu if m == paint else hu_clean for m in modes]
    if want_streaks:
        for k, sp in enumerate(streak_specs):
            if sp:
                Xd, Yd = anat.deform_slice(float(svals[k]))
                body = (lab[k] != T.AIR) & (lab[k] != T.TABLE_CORE) & (lab[k] != T.TABLE_SHELL)
                for arr in arrays:
                    acquisition.add_streaks(arr[k], Xd, Yd, body.astype(np.float32), sp)
    ab = np.array([float(anat.body(float(s))[2] * anat.body(float(s))[3]) for s in svals])
    sigma_scale = np.clip((ab / np.median(ab)) ** 0.3, 0.85, 1.2)
    acq_state = r_acq.bit_generator.state
    for i, arr in enumerate(arrays):
        if i:
            r_acq.bit_generator.state = acq_state      # same noise realisation for every mode
        acquisition.blur_and_noise(arr, r_acq, sigma=sigma, sigma_scale=sigma_scale, blur_px=blur, boost=boost,
                                   zmix=zmix, A=A)
    tm["acquisition"] = time.perf_counter() - t0

    origin = (float(g.x0), float(g.y0), float(zoff - s_max))
    meta = {
        "generator": GENERATOR_VERSION, "seed": int(seed), "contrast": contrast, "noise_sigma": round(sigma, 3),
        "blur_sigma_px": round(blur, 3), "mtf_boost": round(boost, 3), "z_mix": round(zmix, 3), **nps,
        "thickness": dz, "pixel_spacing": ps, "slices": Z, "matrix": N, "region": region,
        "s_range_mm": (round(anat.s_range[0], 1), round(anat.s_range[1], 1)), "table": want_table,
        "streaks": want_streaks, "n_nodules_requested": n_nod + sum(c == "lung_nodule" for c, o in requests if o),
        "n_liver_lesions_requested": n_liv + sum(c == "liver_lesion" for c, o in requests if o),
        "n_nodules": sum(l_["class"] == "lung_nodule" for l_ in lesion_list),
        "n_liver_lesions": sum(l_["class"] == "liver_lesion" for l_ in lesion_list),
        "body_half_width_mm": round(anat.a0, 1), "female": anat.female, "arms_down": anat.arms_down,
        "spec": {k: v for k, v in spec.as_dict().items() if v is not None and k != "lesions"},
    }
    meta["seconds"] = round(time.perf_counter() - t_start, 3)
    meta["timing"] = {k: round(v, 3) for k, v in tm.items()}
    out = []
    for m, arr in zip(modes, arrays):
        if m:
            out.append(Volume(hu=arr, spacing=(dz, ps, ps), origin=origin, masks=masks, lesions=lesion_list,
                              meta=meta, tissue=lab, _footprints=footprints))
            continue
        # the lesion-free twin: same everything, no lesions, empty masks (all slices negative)
        tmeta = dict(meta, lesions=False, n_nodules=0, n_liver_lesions=0,
                     removed_lesions=[dict(r) for r in lesion_list],
                     timing=dict(meta["timing"]))
        out.append(Volume(hu=arr, spacing=(dz, ps, ps), origin=origin,
                          masks={c: np.zeros((Z, N, N), np.uint8) for c in CLASSES}, lesions=[], meta=tmeta,
                          tissue=lab if len(modes) == 1 else lab.copy(), _footprints=[]))
    return out


def _streaks_for_slice(anat: Anatomy, ctx: dict, s: float, rng, amp: float):
    out = []
    L_ = anat.L
    xs, ys, rv, bx, by, a, b, bp = (ctx[k] for k in ("xs", "ys", "rv", "bx", "by", "a", "b", "bp"))
    if -60 * L_ < s < 5 * L_:          # humeral heads: the classic dark band across the shoulders
        pr = anat._prof(s, -60 * L_, 5 * L_, 2)
        if pr > 0.3:
            out.append(("band", (bx - (a - 32), by + 0.1 * b), (bx + (a - 32), by + 0.1 * b),
                        rng.uniform(8, 22), amp * pr * rng.uniform(0.8, 1.5)))
    if -45 * L_ < s < 110 * L_ and rng.random() < 0.6:   # scapula - spine
        side = 1 if rng.random() < 0.5 else -1
        out.append(("band", (xs, ys), (bx + side * 0.62 * a, by + 0.62 * bp), rng.uniform(5, 14),
                    amp * rng.uniform(0.3, 0.8)))
    n_rays = int(rng.integers(0, 4))
    for _ in range(n_rays):
        out.append(("ray", (xs + rng.normal(0, 4), ys + rng.normal(0, 4)), rng.uniform(0, np.pi), rng.uniform(0.6, 1.8),
                    amp * rng.uniform(-0.6, 0.6), rng.uniform(40, 140)))
    return out
