#!/usr/bin/env bash
# Installs the Debian packages Banana Studio needs at run time (window, rendering on the
# CPU when there is no GPU) and, with --ci, the ones CI needs (Xvfb, screenshots).
# Does nothing when they are already there; uses sudo when not run as root.
set -euo pipefail
packages=(
  libx11-6 libx11-xcb1 libxcursor1 libxrandr2 libxi6 libxkbcommon0 libxkbcommon-x11-0
  libgl1 libegl1 libgl1-mesa-dri mesa-vulkan-drivers libvulkan1
)
if [ "${1:-}" = "--ci" ]; then
  packages+=(xvfb xauth imagemagick x11-utils)
fi
command -v dpkg >/dev/null 2>&1 || { echo "not a Debian system: install the equivalents of: ${packages[*]}" >&2; exit 0; }
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "installing: ${missing[*]}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
