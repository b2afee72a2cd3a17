#!/usr/bin/python3
"""Peer for `resight bench --suite ingest`: the same work done with pydicom.

Header scan: dcmread(stop_before_pixels=True) on every file.
Full decode: dcmread + pixel_array + RescaleSlope/Intercept (apply_modality_lut), per slice.
Volume decode: the same, stored into one freshly allocated (slices, rows, cols) int16 array,
  which is what a viewer has to hold (ReSight's volume load does this).
Prints one JSON line: {"scanFilesPerS": [...per rep], "decodeSlicesPerS": [...],
  "volumeSlicesPerS": [...], "pydicom": ver}.
Run with Debian's interpreter: /usr/bin/python3 (python3-pydicom, python3-numpy).
"""
import json
import os
import sys
import time

import numpy as np
import pydicom
from pydicom.pixel_data_handlers.util import apply_modality_lut


def main() -> None:
    folder = sys.argv[1]
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    files = sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith(".dcm"))
    scan, decode, volume = [], [], []
    checksum = 0.0
    for _ in range(reps):
        t0 = time.perf_counter()
        for f in files:
            ds = pydicom.dcmread(f, stop_before_pixels=True)
            _ = ds.SeriesInstanceUID, ds.ImagePositionPatient, ds.ImageOrientationPatient
        scan.append(len(files) / (time.perf_counter() - t0))
        t0 = time.perf_counter()
        for f in files:
            ds = pydicom.dcmread(f)
            arr = apply_modality_lut(ds.pixel_array, ds)
            checksum += float(arr[0, 0])
        decode.append(len(files) / (time.perf_counter() - t0))
        t0 = time.perf_counter()
        vol = None
        for i, f in enumerate(files):
            ds = pydicom.dcmread(f)
            arr = apply_modality_lut(ds.pixel_array, ds)
            if vol is None:
                vol = np.empty((len(files),) + arr.shape, dtype=np.int16)
            vol[i] = arr
        volume.append(len(files) / (time.perf_counter() - t0))
        del vol
    print(json.dumps({"scanFilesPerS": scan, "decodeSlicesPerS": decode, "volumeSlicesPerS": volume, "pydicom": pydicom.__version__,
                      "numpy": np.__version__, "files": len(files), "checksum": checksum}))


if __name__ == "__main__":
    main()
