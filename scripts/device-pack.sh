#!/usr/bin/env bash
# Pack what scripts/device-check.sh needs on an offline GPU machine into one small archive:
# the built app (app/dist), the app's production dependencies, and onnxruntime-node's binaries
# for linux/x64 only (the other platforms' binaries are 200+ MB). The device tool carries at
# most 64 MiB of ignored files, so: bash scripts/device-pack.sh, then run with
#   carry: [".device"]   command: bash scripts/device-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f app/dist/cli/main.js ] || { echo "build first: bash scripts/setup.sh" >&2; exit 2; }
mkdir -p .device
mapfile -t deps < <(npm ls --workspace app --omit=dev --all --parseable 2>/dev/null | sed "s|^$PWD/||" | grep '^node_modules/' | grep -v '^node_modules/resight$')
tar -cJf .device/bundle.tar.xz \
  --exclude='node_modules/onnxruntime-node/bin/napi-v6/darwin' \
  --exclude='node_modules/onnxruntime-node/bin/napi-v6/win32' \
  --exclude='node_modules/onnxruntime-node/bin/napi-v6/linux/arm64' \
  app/dist "${deps[@]}"
ls -la .device/bundle.tar.xz
