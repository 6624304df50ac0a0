#!/usr/bin/env bash
# scripts/run.sh [args…] — install what is missing, build `release` into build/, run build/diffuscope args…
# With no arguments it opens the visualiser on the bundled weights.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$ROOT/scripts/setup.sh"
cd "$ROOT"
cmake --preset release >/dev/null
cmake --build --preset release -- --quiet
exec "$ROOT/build/diffuscope" "$@"
