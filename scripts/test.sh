#!/usr/bin/env bash
# THE test command (README and .ci/run call exactly this): set up, then the Python training
# tests where Debian's PyTorch stack is installed, then typecheck, lint and every TS test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

# training/ (phantom generator, model export, fine-tuning) needs PyTorch, which CI machines do
# not install (no training in CI): run its tests where it is present, say so where it is not.
if /usr/bin/python3 -c 'import torch, torchvision, onnx, scipy, pydicom' >/dev/null 2>&1; then
  echo "training tests (Python, /usr/bin/python3):"
  /usr/bin/python3 -m unittest discover -s training/tests -t .
else
  echo "training tests skipped: /usr/bin/python3 lacks torch/torchvision/onnx/scipy/pydicom" \
       "(apt-get install python3-torch python3-torchvision python3-onnx python3-scipy python3-pydicom)"
fi

npm test

# Electron security scan of the built shell and viewer (docs/security.md)
npm run --silent security:electron
