"""A small, independent numpy evaluator for the ONNX op subset our ResNets use.

onnx 1.12 (Debian) has no ``onnx.reference`` and onnxruntime is not installed for Python
here, so golden vectors check the *exported graph* with this evaluator (float64 internally).
It supports exactly the ops the TypeScript explain engine supports: Conv, Relu, Add,
BatchNormalization, MaxPool, GlobalAveragePool, ReduceMean, Flatten, Reshape, Gemm, MatMul,
Identity, Sigmoid (plus Constant). Anything else raises.
"""
from __future__ import annotations

from typing import Dict, Iterable, List, Optional

import numpy as np
import onnx
from onnx import numpy_helper


def _attrs(node) -> dict:
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _pad_hw(x, pads, value):
    # pads = [top, left, bottom, right]
    t, l, b, r = pads
    if not any(pads):
        return x
    return np.pad(x, ((0, 0), (0, 0), (t, b), (l, r)), mode="constant", constant_values=value)


def _windows(x, kh, kw, sh, sw, dh=1, dw=1):
    """x [N,C,H,W] -> view [N,C,OH,OW,kh,kw]."""
    n, c, h, w = x.shape
    ekh, ekw = (kh - 1) * dh + 1, (kw - 1) * dw + 1
    oh, ow = (h - ekh) // sh + 1, (w - ekw) // sw + 1
    s = x.strides
    return np.lib.stride_tricks.as_strided(
        x, (n, c, oh, ow, kh, kw), (s[0], s[1], s[2] * sh, s[3] * sw, s[2] * dh, s[3] * dw), writeable=False)


def conv(x, w, b=None, strides=(1, 1), pads=(0, 0, 0, 0), dilations=(1, 1), group=1, **_):
    if group != 1:
        raise NotImplementedError("grouped Conv")
    x = _pad_hw(x, pads, 0.0)
    win = _windows(np.ascontiguousarray(x), w.shape[2], w.shape[3], strides[0], strides[1], dilations[0], dilations[1])
    y = np.einsum("nchwij,ocij->nohw", win, w, optimize=True)
    if b is not None:
        y = y + b.reshape(1, -1, 1, 1)
    return y


def maxpool(x, kernel_shape, strides=(1, 1), pads=(0, 0, 0, 0), ceil_mode=0, dilations=(1, 1), **_):
    if ceil_mode:
        raise NotImplementedError("MaxPool ceil_mode")
    x = _pad_hw(x, pads, -np.inf)
    win = _windows(np.ascontiguousarray(x), kernel_shape[0], kernel_shape[1], strides[0], strides[1], dilations[0], dilations[1])
    return win.max(axis=(4, 5))


def run(model: onnx.ModelProto, feeds: Dict[str, np.ndarray], outputs: Optional[Iterable[str]] = None,
        dtype=np.float64) -> Dict[str, np.ndarray]:
    """Evaluate ``model`` on ``feeds``; returns the requested tensors (default: graph outputs).
    Any intermediate tensor name (e.g. ``layer4``) may be requested."""
    env: Dict[str, np.ndarray] = {}
    for init in model.graph.initializer:
        arr = numpy_helper.to_array(init)
        env[init.name] = arr.astype(dtype) if arr.dtype.kind == "f" else arr
    for k, v in feeds.items():
        env[k] = np.asarray(v).astype(dtype)
    want: List[str] = list(outputs) if outputs is not None else [o.name for o in model.graph.output]
    for node in model.graph.node:
        a = _attrs(node)
        ins = [env[i] if i else None for i in node.input]
        op = node.op_type
        if op == "Conv":
            y = conv(ins[0], ins[1], ins[2] if len(ins) > 2 else None, **a)
        elif op == "Relu":
            y = np.maximum(ins[0], 0)
        elif op == "Add":
            y = ins[0] + ins[1]
        elif op == "Sigmoid":
            y = 1.0 / (1.0 + np.exp(-ins[0]))
        elif op == "Identity":
            y = ins[0]
        elif op == "MaxPool":
            y = maxpool(ins[0], **a)
        elif op == "GlobalAveragePool":
            y = ins[0].mean(axis=(2, 3), keepdims=True)
        elif op == "ReduceMean":
            axes = a.get("axes", ins[1].tolist() if len(ins) > 1 and ins[1] is not None else None)
            y = ins[0].mean(axis=tuple(axes) if axes is not None else None, keepdims=bool(a.get("keepdims", 1)))
        elif op == "Flatten":
            ax = a.get("axis", 1)
            y = ins[0].reshape(int(np.prod(ins[0].shape[:ax])), -1)
        elif op == "Reshape":
            shape = [int(s) for s in ins[1]]
            shape = [ins[0].shape[i] if s == 0 else s for i, s in enumerate(shape)]
            y = ins[0].reshape(shape)
        elif op == "Gemm":
            A, B = ins[0], ins[1]
            if a.get("transA", 0):
                A = A.T
            if a.get("transB", 0):
                B = B.T
            y = a.get("alpha", 1.0) * (A @ B)
            if len(ins) > 2 and ins[2] is not None:
                y = y + a.get("beta", 1.0) * ins[2]
        elif op == "MatMul":
            y = ins[0] @ ins[1]
        elif op == "BatchNormalization":
            x, s, bb, m, v = ins[:5]
            eps = a.get("epsilon", 1e-5)
            sh = (1, -1) + (1,) * (x.ndim - 2)
            y = (x - m.reshape(sh)) / np.sqrt(v.reshape(sh) + eps) * s.reshape(sh) + bb.reshape(sh)
        elif op == "Constant":
            y = numpy_helper.to_array(a["value"]) if "value" in a else np.asarray(a.get("value_float", a.get("value_floats")))
        else:
            raise NotImplementedError(f"op {op} not supported by the reference evaluator")
        env[node.output[0]] = y
    return {k: env[k] for k in want}
