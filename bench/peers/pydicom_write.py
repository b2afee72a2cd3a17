#!/usr/bin/python3
"""Peer for `resight bench --suite report`: encoding the same DICOM objects with pydicom.

Reads each given Part 10 file once (untimed), then times dataset.save_as() into memory, as many
repetitions as asked. Prints one JSON line: {"msPerFile": {"<name>": [per rep]}, "pydicom": ver}.
Run with Debian's interpreter: /usr/bin/python3 (python3-pydicom).
"""
import io
import json
import os
import sys
import time

import pydicom


def main() -> None:
    reps = int(sys.argv[1])
    files = sys.argv[2:]
    out = {}
    for f in files:
        ds = pydicom.dcmread(f)
        times = []
        for _ in range(reps):
            buf = io.BytesIO()
            t0 = time.perf_counter()
            ds.save_as(buf, write_like_original=False)
            times.append((time.perf_counter() - t0) * 1000)
        out[os.path.basename(f)] = times
    print(json.dumps({"msPerFile": out, "pydicom": pydicom.__version__}))


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # noqa: BLE001 - reported to the bench, which says why the peer is missing
        print(json.dumps({"error": f"{type(e).__name__}: {e}"}))
        sys.exit(1)
