#!/usr/bin/env bash
# Installs the run-time libraries if missing, then builds and opens Banana Studio.
# Without an API key the app runs in sandbox mode against an offline fake.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
exec cargo run --release -- "$@"
