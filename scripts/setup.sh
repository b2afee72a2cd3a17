#!/usr/bin/env bash
# One-time (idempotent) set-up on a fresh Debian machine: system packages the tests and the
# benchmarks use, the npm dependencies (offline-safe), and the build.
set -euo pipefail
cd "$(dirname "$0")/.."

# No downloads from outside the npm registry: onnxruntime-node must not fetch CUDA
# libraries, electron must not fetch its binary.
export ONNXRUNTIME_NODE_INSTALL=skip ONNXRUNTIME_NODE_INSTALL_CUDA=skip ELECTRON_SKIP_BINARY_DOWNLOAD=1

# Debian packages: dicom3tools (dciodvfy validates what we write), dcmtk (peer tools),
# python3-pydicom + numpy (the benchmark's peer), poppler-utils (pdftotext/pdftoppm/pdfimages
# check the PDF reports), fonts-droid-fallback (a Unicode TrueType font, so Japanese names print
# in PDF reports), chromium (the viewer's end-to-end tests). Installed only when missing and when root.
need=()
command -v dciodvfy >/dev/null 2>&1 || need+=(dicom3tools)
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
# chromium: the viewer's end-to-end tests (playwright-core drives /usr/bin/chromium headless)
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -e /usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf ] || [ -e /usr/share/fonts/opentype/ipafont-gothic/ipag.ttf ] || need+=(fonts-droid-fallback)
command -v dcmdump >/dev/null 2>&1 || need+=(dcmtk)
/usr/bin/python3 -c 'import pydicom, numpy' >/dev/null 2>&1 || need+=(python3-pydicom python3-numpy)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing Debian packages: ${need[*]}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "setup: optional Debian packages missing (${need[*]}); some benchmarks will be skipped" >&2
  fi
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run --silent build
