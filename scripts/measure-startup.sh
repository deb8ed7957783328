#!/usr/bin/env bash
# Startup time and idle memory of the production desktop app, measured:
#
#   bash scripts/measure-startup.sh [--runs N] [--idle S] [--app PATH] [--env K=V]...
#
# Needs the release build that scripts/package-deb.sh makes (it does not build):
#   (cd ui && npm ci && npm run build)
#   cargo build --release --locked -p dropsync-desktop --features tauri/custom-protocol
# and xvfb + dbus (apt). It starts its own Xvfb (-displayfd) and session bus
# (dbus-run-session), then scripts/measure_startup.py runs the app N times on
# a fresh profile (first start: the app creates its demo workspace) and N
# times on that profile again (warm start), with a clean environment (fresh
# HOME and XDG_* dirs, no DROPSYNC_* variables). It prints, from the exec:
# the window mapped, first paint (window no longer one flat color) and drawn
# (the window already shows the settled screen it still shows after the idle
# wait), min/median/max; then the idle PSS of the app and all its descendant
# processes (WebKit's) after --idle seconds (default 10), with a per-process
# breakdown. Everything it started is killed on exit.
#
# Env: CARGO_TARGET_DIR (where the release build is; default ./target).
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"

# A session bus of our own, as on a desktop; it ends with this script.
if [ -z "${MEASURE_STARTUP_BUS:-}" ]; then
  command -v dbus-run-session >/dev/null || { echo "needs dbus-run-session (apt: dbus)" >&2; exit 2; }
  MEASURE_STARTUP_BUS=1 exec dbus-run-session -- bash "$0" "$@"
fi

target="${CARGO_TARGET_DIR:-$repo/target}"
case "$target" in /*) ;; *) target="$repo/$target" ;; esac
app="$target/release/dropsync-desktop"
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --app) app="$2"; shift 2 ;;
    --app=*) app="${1#--app=}"; shift ;;
    *) args+=("$1"); shift ;;
  esac
done
[ -x "$app" ] || { echo "no app binary at $app (see the build command at the top of $0)" >&2; exit 2; }
command -v Xvfb >/dev/null || { echo "needs Xvfb (apt: xvfb)" >&2; exit 2; }

tmp="$(mktemp -d -t dropsync-measure.XXXXXX)"
xvfb_pid=""
cleanup() {
  local rc=$?
  [ -n "$xvfb_pid" ] && { kill "$xvfb_pid" 2>/dev/null || true; wait "$xvfb_pid" 2>/dev/null || true; }
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

exec 5>"$tmp/display"
Xvfb -displayfd 5 -screen 0 1280x800x24 -nolisten tcp >"$tmp/xvfb.log" 2>&1 &
xvfb_pid=$!
exec 5>&-
for _ in $(seq 100); do [ -s "$tmp/display" ] && break; sleep 0.1; done
[ -s "$tmp/display" ] || { echo "Xvfb did not start" >&2; cat "$tmp/xvfb.log" >&2; exit 1; }
export DISPLAY=":$(tr -d '[:space:]' <"$tmp/display")"

echo "load average: $(cut -d" " -f1-3 /proc/loadavg)"
echo "app: $app ($(date -r "$app" '+%F %T'), $(du -h "$app" | cut -f1)); Xvfb $DISPLAY; $(nproc) cores"
python3 scripts/measure_startup.py --app "$app" ${args[@]+"${args[@]}"}
