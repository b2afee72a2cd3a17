"""Counterfactual negatives: lesion-free twins from the phantom and their use in the dataset.

    /usr/bin/python3 -m unittest training.tests.test_counterfactual -v      (about 30 s)

A twin is ``make_volume(seed, spec, lesions=False)``: the same volume with every random draw made
as usual and only the lesion blend skipped, so anatomy, acquisition and the noise realisation
are identical and the pair differs only where the lesions were painted (their render boxes;
inside them, the mask plus the soft margin and spicules), spread by the acquisition blur.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import unittest
from pathlib import Path

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from training.phantom import CLASSES, VolumeSpec, make_volume, make_volume_pair  # noqa: E402

# explicit, spicule-free lesions (so the painted region is the mask plus its soft margin)
LESIONS = [{"class": "lung_nodule", "shape": "round", "diameter_mm": 12.0, "center_s_frac": 0.3},
           {"class": "lung_nodule", "shape": "lobulated", "kind": "ggo", "diameter_mm": 9.0, "center_s_frac": 0.6},
           {"class": "liver_lesion", "shape": "lobulated", "margin": "ill_defined", "diameter_mm": 20.0,
            "center_s_frac": 0.8}]
SEED = 4   # all three lesions land with this spec


def small_spec(**kw) -> VolumeSpec:
    return VolumeSpec(**{**dict(slices=40, matrix=256, thickness=2.5, region="chest_abdomen", lesions=LESIONS), **kw})


def union_mask(vol) -> np.ndarray:
    m = np.zeros(vol.hu.shape, bool)
    for c in CLASSES:
        m |= vol.masks[c] > 0
    return m


def render_boxes(vol, pad_px: int = 0, pad_slices: int = 0) -> np.ndarray:
    """Union of the lesions' render boxes (the region each lesion's blend can touch; a
    footprint's mask array spans its whole box), padded in-plane and along z."""
    box = np.zeros(vol.hu.shape, bool)
    for i in range(len(vol.lesions)):
        (k0, r0, c0), mk = vol.lesion_mask(i)
        box[max(k0 - pad_slices, 0):k0 + mk.shape[0] + pad_slices, max(r0 - pad_px, 0):r0 + mk.shape[1] + pad_px,
            max(c0 - pad_px, 0):c0 + mk.shape[2] + pad_px] = True
    return box


def strip_meta(meta: dict) -> dict:
    m = {k: v for k, v in meta.items() if k not in ("seconds", "timing", "lesions", "removed_lesions",
                                                    "n_nodules", "n_liver_lesions")}
    return json.loads(json.dumps(m, default=str))


class TwinRendering(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.spec = small_spec()
        cls.vol, cls.twin = make_volume_pair(SEED, cls.spec)

    def test_pair_is_bit_identical_to_separate_calls(self):
        a = make_volume(SEED, self.spec)
        b = make_volume(SEED, self.spec, lesions=False)
        self.assertTrue(np.array_equal(a.hu, self.vol.hu))
        self.assertTrue(np.array_equal(b.hu, self.twin.hu))
        for c in CLASSES:
            self.assertTrue(np.array_equal(a.masks[c], self.vol.masks[c]))
        self.assertEqual(a.lesions, self.vol.lesions)
        self.assertEqual(strip_meta(a.meta), strip_meta(self.vol.meta))

    def test_twin_keeps_everything_but_the_lesions(self):
        v, t = self.vol, self.twin
        self.assertEqual(len(v.lesions), 3, "the spec's three lesions should all land for this seed")
        self.assertTrue(np.array_equal(v.tissue, t.tissue))
        self.assertEqual((v.spacing, v.origin), (t.spacing, t.origin))
        self.assertEqual(strip_meta(v.meta), strip_meta(t.meta))   # same acquisition draws
        # the twin has no lesions, so the (unchanged) label rule makes every slice negative
        self.assertEqual(t.lesions, [])
        for c in CLASSES:
            self.assertFalse(t.masks[c].any())
        self.assertFalse(t.slice_labels().any())
        self.assertTrue(v.slice_labels().any(0).all())
        self.assertFalse(t.meta["lesions"])
        self.assertEqual(t.meta["removed_lesions"], v.lesions)
        self.assertEqual((t.meta["n_nodules"], t.meta["n_liver_lesions"]), (0, 0))
        self.assertNotIn("removed_lesions", v.meta)       # the default output carries no new keys

    def test_difference_confined_to_the_lesions_without_acquisition(self):
        """No blur, no noise: the pair differs exactly where the lesions were blended: inside the
        render boxes only, and within the masks dilated by the soft margin (spicule-free)."""
        from scipy import ndimage as ndi
        v, t = make_volume_pair(SEED, small_spec(noise_sigma=0.0, blur_sigma_px=0.0))
        d = np.abs(v.hu - t.hu)
        self.assertEqual(float(d[~render_boxes(v)].max()), 0.0)
        m = union_mask(v)
        dist_mm = ndi.distance_transform_edt(~m, sampling=v.spacing)
        # soft margin <= 5 mm wide (half outside the body) + partial volume along z
        self.assertEqual(float(d[dist_mm > 2.5 + v.spacing[0]].max()), 0.0)
        for i, les in enumerate(v.lesions):                   # every lesion is really removed
            (k0, r0, c0), mk = v.lesion_mask(i)
            sub = d[k0:k0 + mk.shape[0], r0:r0 + mk.shape[1], c0:c0 + mk.shape[2]]
            self.assertGreater(float(sub[mk].mean()), 10.0, les)

    def test_difference_confined_with_blur_and_noise(self):
        """With the volume's own blur and noise: the noise realisation is shared, so outside the
        lesions' render boxes (padded by the blur kernel and one slice of slice-profile mixing)
        only float32 FFT round-off and the far tail of the MTF remain (<< the noise SD)."""
        v, t = self.vol, self.twin
        self.assertGreater(v.meta["noise_sigma"], 5.0)
        self.assertGreater(v.meta["blur_sigma_px"], 0.0)
        d = np.abs(v.hu - t.hu)
        pad = int(np.ceil(4 * v.meta["blur_sigma_px"])) + 2
        out = d[~render_boxes(v, pad_px=pad, pad_slices=1)]
        self.assertLess(float(out.max()), 0.5)
        self.assertLess(float(np.quantile(out, 0.9999)), 0.05)
        self.assertLess(float(out.mean()), 1e-3)
        m = union_mask(v)
        self.assertGreater(float(d[m].mean()), 10.0)
        # while two different seeds differ by the full noise everywhere
        self.assertGreater(float(np.abs(v.hu - make_volume(SEED + 1, self.spec).hu[:v.hu.shape[0]]).mean()), 5.0)

    def test_default_random_volume_twin(self):
        """A default random volume (as the dataset uses): same checks on a small matrix."""
        spec = VolumeSpec(matrix=128, slices=48)
        for seed in range(3, 12):
            v, t = make_volume_pair(seed, spec)
            if v.lesions:
                break
        self.assertTrue(v.lesions)
        d = np.abs(v.hu - t.hu)
        pad = int(np.ceil(4 * v.meta["blur_sigma_px"])) + 2
        self.assertLess(float(d[~render_boxes(v, pad_px=pad, pad_slices=1)].max()), 0.5)
        self.assertGreater(float(d[union_mask(v)].mean()), 10.0)
        self.assertFalse(t.slice_labels().any())


class CounterfactualSampling(unittest.TestCase):
    def test_select_slices_counterfactual(self):
        from training.dataset import select_slices_counterfactual
        Z = 60
        labels = np.zeros((Z, 2), np.uint8)
        labels[10:20, 0] = 1
        labels[15:25, 1] = 1           # 15..19 positive for both classes
        rng = np.random.default_rng(0)
        zsel, ztwin = select_slices_counterfactual(labels, rng, max_pos=24, cf_neg=4)
        pos = np.flatnonzero(labels.any(1))
        self.assertTrue(np.array_equal(ztwin, pos))           # every positive slice has its twin
        self.assertTrue(set(pos) <= set(zsel))
        self.assertEqual(len(zsel), len(pos) + 4)              # + cf_neg ordinary negatives
        self.assertFalse(labels[np.setdiff1d(zsel, pos)].any())
        # the cap applies to positives and twins alike
        zsel, ztwin = select_slices_counterfactual(labels, np.random.default_rng(1), max_pos=6, cf_neg=3)
        self.assertEqual(len(ztwin), 6)
        self.assertTrue(labels[ztwin].any(1).all())
        self.assertTrue(set(ztwin) <= set(zsel))
        self.assertEqual(len(zsel), 9)
        # no positives: only the ordinary negatives (no twins)
        zsel, ztwin = select_slices_counterfactual(np.zeros((30, 2), np.uint8), rng, max_pos=24, cf_neg=4)
        self.assertEqual((len(zsel), len(ztwin)), (4, 0))
        # about half positive overall with the typical 16 positive slices a volume
        lab = np.zeros((100, 2), np.uint8)
        lab[40:56, 0] = 1
        zsel, ztwin = select_slices_counterfactual(lab, rng, max_pos=24, cf_neg=4)
        frac = 16 / (len(zsel) + len(ztwin))
        self.assertTrue(0.4 <= frac <= 0.5, frac)

    def test_build_shard_with_twins(self):
        from training import dataset as D
        from training import preprocess as P
        spec = small_spec()
        vol, twin = make_volume_pair(SEED, spec)
        labels = vol.slice_labels()
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"{SEED}.npz"
            info = D.build_shard(SEED, path, all_slices=False, max_pos=24, min_neg=8, counterfactual=True,
                                 cf_neg=4, spec=spec)
            ss = D.SliceSet([path])
            path0 = Path(tmp) / "plain.npz"
            D.build_shard(SEED, path0, all_slices=False, max_pos=24, min_neg=8, spec=spec)
            plain = D.SliceSet([path0])
        n_pos = int(labels.any(1).sum())
        self.assertEqual(info["n_twins"], n_pos)
        self.assertEqual(int(ss.twin.sum()), n_pos)
        self.assertEqual(len(ss), 2 * n_pos + 4)
        tw, od = ss.twin == 1, ss.twin == 0
        # twins: negative for every class (also where the slice was positive for both), their
        # source rows are positive, and every twin's slice is also in the set with its lesions
        self.assertFalse(ss.labels[tw].any())
        self.assertTrue(ss.src_labels[tw].any(1).all())
        self.assertTrue(np.array_equal(ss.src_labels[od], ss.labels[od]))
        self.assertTrue(set(ss.z[tw]) <= set(ss.z[od][ss.labels[od].any(1)]))
        self.assertTrue(np.array_equal(ss.labels[od], labels[ss.z[od]]))
        # the stored twin rows are the twin volume's slices; they differ from their partners
        for row in np.flatnonzero(tw)[:3]:
            z = int(ss.z[row])
            want = P.resize_hu_slice(twin.hu[z]).astype(np.float16)
            self.assertTrue(np.array_equal(ss.hu[row], want))
            partner = np.flatnonzero(od & (ss.z == z))[0]
            self.assertGreater(float(np.abs(ss.hu[row].astype(np.float32) - ss.hu[partner]).max()), 20.0)
        self.assertEqual(ss.describe()["counterfactualTwins"], n_pos)
        # lesion maps (the CAM loss's targets): the pair difference, inside the lesions' boxes
        maps = ss.lesion_maps()
        self.assertEqual(maps.shape, (len(ss), D.MAP_SIZE, D.MAP_SIZE))
        pos_rows = np.flatnonzero(od & ss.labels.any(1))
        self.assertTrue(all(maps[r].max() > 0 for r in pos_rows), "every positive slice has a footprint")
        self.assertFalse(maps[tw].any() or maps[od & ~ss.labels.any(1)].any(), "twins and negatives: none")
        self.assertTrue(ss.has_map.all())
        f = P.INPUT_SIZE // D.MAP_SIZE
        scale = P.INPUT_SIZE / vol.hu.shape[1]
        for r in pos_rows[:3]:
            z = int(ss.z[r])
            # the render's 3-tap slice mixing brings lesions of the neighbouring slices into this one
            zs = slice(max(0, z - 1), z + 2)
            lesion = np.argwhere((vol.masks["lung_nodule"][zs] | vol.masks["liver_lesion"][zs]).any(0)) * scale
            for cy, cx in np.argwhere(maps[r] > 0.5):
                # a cell the map marks lies on a lesion (its soft margin and the blur add a few px)
                d = np.abs(lesion - [(cy + 0.5) * f, (cx + 0.5) * f]).max(1).min() if len(lesion) else 0
                self.assertLess(d, 12, f"cell {(cy, cx)} of slice {z} is {d:.0f} px from any lesion")
        # without the option: the old sampling, no twins
        self.assertFalse(plain.twin.any())
        self.assertEqual(int(plain.labels.any(1).sum()), n_pos)
        self.assertTrue(np.array_equal(plain.src_labels, plain.labels))

    def test_cache_key_and_test_split(self):
        from training import dataset as D
        self.assertNotEqual(D.cache_key(24, 8), D.cache_key(24, 8, True, 4))
        self.assertNotEqual(D.cache_key(24, 8, True, 4), D.cache_key(24, 8, True, 2))
        self.assertTrue(D.cache_key(24, 8).endswith("_p24_n8"))     # unchanged layout without the option

    def test_pair_auc(self):
        from training.dataset import pair_auc
        labels = np.array([[1, 0], [1, 1], [0, 0], [0, 0], [0, 0]], np.uint8)
        twin = np.array([0, 0, 1, 1, 0], np.uint8)
        src = np.array([[1, 0], [1, 1], [1, 0], [1, 1], [0, 0]], np.uint8)
        s = np.array([[0.9, 0.1], [0.8, 0.7], [0.2, 0.1], [0.85, 0.3], [0.99, 0.9]], np.float32)
        self.assertAlmostEqual(pair_auc(s, labels, twin, src, 0), 3 / 4)   # ordinary negative row ignored
        self.assertAlmostEqual(pair_auc(s, labels, twin, src, 1), 1.0)

    def test_standin_twins(self):
        from training.tests import standin_phantom as SP
        sp = SP.VolumeSpec(slices=12, rows=64, cols=64)
        for seed in range(20):
            a = SP.make_volume(seed, sp)
            if a.lesions:
                break
        b = SP.make_volume(seed, sp, lesions=False)
        m = a.masks["lung_nodule"].astype(bool) | a.masks["liver_lesion"].astype(bool)
        self.assertTrue(np.array_equal(a.hu[~m], b.hu[~m]))
        self.assertFalse(b.slice_labels().any())


if __name__ == "__main__":
    unittest.main()
