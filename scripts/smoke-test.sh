#!/usr/bin/env bash
# Smoke test of the app as people start it: the binary (default: the installed
# /usr/bin/banana-studio, else target/release/banana-studio) under Xvfb in sandbox mode
# with a temporary data folder holding one generation made by the CLI. Waits for the
# window, takes a screenshot, and fails if the process exited or the screenshot is blank.
#
#   scripts/smoke-test.sh [BINARY] [--update-screenshot]
#
# The screenshot is left at target/smoke/screenshot.png; --update-screenshot also copies it
# to docs/screenshot.png (the README's).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=""
update=0
for arg in "$@"; do
  case "$arg" in
    --update-screenshot) update=1 ;;
    *) bin="$arg" ;;
  esac
done
if [ -z "$bin" ]; then
  if [ -x /usr/bin/banana-studio ]; then bin=/usr/bin/banana-studio; else bin=target/release/banana-studio; fi
fi
[ -x "$bin" ] || { echo "no binary at $bin (build with cargo build --release)" >&2; exit 1; }
for tool in xvfb-run import identify xwininfo xprop; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: scripts/install-deps.sh --ci" >&2; exit 1; }
done
out=target/smoke
mkdir -p "$out"
data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT
# Something to look at: two results from the sandbox, made by the CLI of the same binary.
"$bin" --data-dir "$data" --sandbox generate "a paper boat on a pond at golden hour" \
  --aspect 16:9 --count 2 --json >"$out/cli.jsonl"
grep -q '"event":"done"' "$out/cli.jsonl" || { cat "$out/cli.jsonl" >&2; exit 1; }
# A new user's first start shows the welcome; the README's picture is of the app past it.
[ "$update" -eq 1 ] && echo '{"welcomed": true}' >"$data/settings.json"

cat >"$out/inside-xvfb.sh" <<'INNER'
#!/usr/bin/env bash
set -uo pipefail
bin=$1 data=$2 shot=$3 log=$4
"$bin" --data-dir "$data" --sandbox >"$log" 2>&1 &
pid=$!
for _ in $(seq 1 120); do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "the app exited before its window opened:" >&2; cat "$log" >&2; exit 1
  fi
  xwininfo -root -tree 2>/dev/null | grep -q '"Banana Studio"' && break
  sleep 0.5
done
xwininfo -root -tree | grep -q '"Banana Studio"' || { echo "no window after 60 s" >&2; cat "$log" >&2; kill "$pid"; exit 1; }
# Let it draw its first frames and read the history.
sleep 5
if ! kill -0 "$pid" 2>/dev/null; then
  echo "the app exited after opening its window:" >&2; cat "$log" >&2; exit 1
fi
import -window root "$shot"
# The desktop matches the window to studio.banana.BananaStudio.desktop by this class.
win=$(xwininfo -root -tree | grep '"Banana Studio"' | head -n 1 | awk '{print $1}')
class=$(xprop -id "$win" WM_CLASS 2>&1)
echo "window $win: $class" >&2
if ! grep -q '"studio.banana.BananaStudio"' <<<"$class"; then
  echo "the window's class is not the app id studio.banana.BananaStudio" >&2; kill "$pid"; exit 1
fi
kill "$pid"
wait "$pid" 2>/dev/null
exit 0
INNER
chmod +x "$out/inside-xvfb.sh"
shot="$out/screenshot.png"
rm -f "$shot"
xvfb-run -a -s "-screen 0 1360x860x24" "$out/inside-xvfb.sh" "$bin" "$data" "$shot" "$out/app.log"
[ -s "$shot" ] || { echo "no screenshot" >&2; exit 1; }
# A blank (or nearly one-colour) screen has a handful of colours; the app has thousands.
colours=$(identify -format '%k' "$shot")
deviation=$(identify -format '%[fx:standard_deviation]' "$shot")
echo "screenshot: $colours colours, standard deviation $deviation" >&2
if [ "$colours" -lt 200 ] || awk "BEGIN { exit !($deviation < 0.02) }"; then
  echo "the screenshot is blank: $shot" >&2
  exit 1
fi
if [ "$update" -eq 1 ]; then
  cp "$shot" docs/screenshot.png
  echo "docs/screenshot.png updated" >&2
fi
echo "smoke test: ok ($shot)" >&2
