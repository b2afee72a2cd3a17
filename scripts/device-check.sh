#!/usr/bin/env bash
# One command for a machine with an NVIDIA GPU (and Vulkan for WebGPU): runs the default model
# through the webgpu and cuda providers, checks every probability against the CPU provider's
# (max |diff| <= 1e-3) and prints throughput for each. Takes about a minute after the build.
#   bash scripts/device-check.sh [slices]      (default 300)
# Needs node_modules and app/dist (bash scripts/setup.sh), or the archive that
# scripts/device-pack.sh writes to .device/ (carried to an offline GPU machine): it installs nothing. CUDA runs only if onnxruntime-node's CUDA provider libraries
# and CUDA 12 + cuDNN 9 are present; otherwise the script says why and checks WebGPU alone.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== machine"
nproc; (nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo "nvidia-smi: not available")
(vulkaninfo --summary 2>/dev/null | grep -E 'deviceName|driverName|apiVersion' | head -6) || echo "vulkaninfo: not available"
node --version
if { [ ! -f app/dist/cli/main.js ] || [ ! -d node_modules/onnxruntime-node ]; } && [ -f .device/bundle.tar.xz ]; then
  echo "== unpacking .device/bundle.tar.xz"
  tar -xJf .device/bundle.tar.xz
fi
if [ ! -f app/dist/cli/main.js ] || [ ! -d node_modules/onnxruntime-node ]; then
  echo "app/dist or node_modules missing: run bash scripts/setup.sh first" >&2
  exit 2
fi
echo "== providers"
node scripts/device-check.mjs "${1:-300}"
