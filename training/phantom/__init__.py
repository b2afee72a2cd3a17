"""Synthetic CT phantoms (thorax / upper abdomen) with lung nodules and liver lesions.

    from training.phantom import make_volume, VolumeSpec
    vol = make_volume(seed, VolumeSpec(slices=80))
    twin = make_volume(seed, lesions=False)      # same volume without its lesions (all negative)
    vol, twin = make_volume_pair(seed)           # both, sharing the anatomy work

See training/README.md ("Phantom generator") for the model, the label rule and timings.
"""
from .generator import make_volume, make_volume_pair
from .sampling import balanced_slices
from .spec import CLASSES, GENERATOR_VERSION, MIN_LABEL_AREA_MM2, VolumeSpec
from .tissues import TISSUE_NAMES
from .volume import Volume

__all__ = ["make_volume", "make_volume_pair", "VolumeSpec", "Volume", "balanced_slices", "CLASSES", "MIN_LABEL_AREA_MM2",
           "GENERATOR_VERSION", "TISSUE_NAMES"]
