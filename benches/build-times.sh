#!/usr/bin/env bash
# Build cost on this machine, for one or more commits measured in one run:
#   benches/build-times.sh COMMIT:GUI_FILE:PROVIDER_FILE ...
# For each, in a fresh clone with its own target folder: a cold `cargo build` followed by
# `cargo test --no-run`, then the rebuild (`cargo test --no-run`) after touching one GUI
# file, then after touching one provider file. Prints seconds; compare the commits as
# ratios, since these machines are noisy. Example (before/after the workspace split):
#   benches/build-times.sh 7b6557a:src/gui/prompt_panel.rs:src/providers/vydra.rs \
#                          HEAD:src/gui/prompt_panel.rs:crates/providers/src/vydra.rs
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
secs() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }; e=$(date +%s.%N); awk "BEGIN{print $e - $s}"; }
printf '%-12s %10s %10s %10s\n' commit cold gui-touch provider-touch
for spec in "$@"; do
  IFS=: read -r commit gui provider <<<"$spec"
  dir="$work/$commit"
  git clone -q "$repo" "$dir"
  git -C "$dir" checkout -q "$commit"
  cold=$( cd "$dir" && secs bash -c 'cargo build -q && cargo test -q --no-run' )
  touch "$dir/$gui"
  g=$( cd "$dir" && secs cargo test -q --no-run )
  touch "$dir/$provider"
  p=$( cd "$dir" && secs cargo test -q --no-run )
  printf '%-12s %10.1f %10.1f %10.1f\n' "$commit" "$cold" "$g" "$p"
  rm -rf "$dir"
done
