#!/usr/bin/env bash
# THE test command (README and .ci/run call exactly this): set up, then typecheck, lint, test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npm test
