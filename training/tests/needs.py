"""Skip decorators for tests that need an optional Debian package, each saying which one to
install; one place, so every test file skips the same way and names the same package."""
from __future__ import annotations

import importlib.util
import unittest


def _has(*modules: str) -> bool:
    return all(importlib.util.find_spec(m) is not None for m in modules)


HAS_TORCH = _has("torch", "torchvision")
HAS_ONNX = _has("onnx")
HAS_SCIPY = _has("scipy")
HAS_PYDICOM = _has("pydicom")
NEED_TORCH = "PyTorch/torchvision not installed (apt-get install python3-torch python3-torchvision)"
NEED_ONNX = "onnx not installed (apt-get install python3-onnx)"
NEED_SCIPY = "scipy not installed (apt-get install python3-scipy)"

needs_torch = unittest.skipUnless(HAS_TORCH, NEED_TORCH)
