#!/usr/bin/env bash
# Builds the Debian package (cargo-deb, configured in Cargo.toml) and checks that it holds
# the binary, the desktop file and the icons where the desktop looks for them.
# Prints the package's path on the last line.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! cargo deb --version >/dev/null 2>&1; then
  echo "installing cargo-deb (once)" >&2
  cargo install cargo-deb --version 3.8.0 --locked >&2
fi
# cargo deb builds the release binary first (the same one scripts/run-app.sh runs).
rm -f target/debian/banana-studio_*.deb
cargo deb >&2
deb=$(ls -t target/debian/banana-studio_*.deb | head -n 1)
echo "built $deb" >&2
contents=$(dpkg-deb -c "$deb")
app_id=studio.banana.BananaStudio
expected=(
  ./usr/bin/banana-studio
  ./usr/share/applications/$app_id.desktop
  ./usr/share/icons/hicolor/scalable/apps/$app_id.svg
)
for size in 16 24 32 48 64 128 256 512; do
  expected+=("./usr/share/icons/hicolor/${size}x${size}/apps/$app_id.png")
done
missing=0
for path in "${expected[@]}"; do
  if ! grep -q " $path\$" <<<"$contents"; then
    echo "the package lacks $path" >&2
    missing=1
  fi
done
if [ "$missing" -ne 0 ]; then
  echo "$contents" >&2
  exit 1
fi
grep -q '^Package: banana-studio$' <(dpkg-deb -f "$deb") || { echo "bad control file" >&2; exit 1; }
echo "the package holds the binary, the desktop file and $((${#expected[@]} - 2)) icons: ok" >&2
echo "$deb"
