#!/usr/bin/env bash
# Starts the built app under Xvfb on a fresh demo workspace, waits for it to
# draw, and saves a screenshot of the Syncs screen. Needs: xvfb, imagemagick.
#   cargo build -p dropsync-desktop && bash src-tauri/scripts/screenshot.sh [OUT.png]
set -euo pipefail
cd "$(dirname "$0")/../.."
app="${CARGO_TARGET_DIR:-target}/debug/dropsync-desktop"
out="${1:-target/screenshots/syncs.png}"
display=":${DISPLAY_NUM:-99}"
mkdir -p "$(dirname "$out")"
tmp="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp &
pids+=($!)
sleep 1
DISPLAY="$display" DROPSYNC_WORKSPACE="$tmp/workspace" DROPSYNC_STATE_DIR="$tmp/state" \
  XDG_DATA_HOME="$tmp/data" XDG_CONFIG_HOME="$tmp/config" \
  "$app" >"$tmp/app.log" 2>&1 &
pids+=($!)
sleep "${WAIT_SECONDS:-8}"
DISPLAY="$display" import -window root "$out"
echo "screenshot: $out"
sed -n 1,20p "$tmp/app.log"
