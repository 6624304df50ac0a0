#!/usr/bin/env bash
# scripts/test.sh — the same install and build as run.sh (debug, warnings as errors), then the test suite.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$ROOT/scripts/setup.sh"
cd "$ROOT"
cmake --preset ci >/dev/null
cmake --build --preset ci -- --quiet
ctest --test-dir build-debug --output-on-failure -j"$(nproc)" "$@"
