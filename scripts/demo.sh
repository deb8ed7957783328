#!/usr/bin/env bash
# Builds Dropsync and runs it on its built-in demo data: a sample shop
# database and one sync per mode, delivering into ./dropsync-demo/out.
# With a display, it then opens the desktop app on that same workspace;
# `--cli` (or no display) stops after the command-line demo.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
[[ -f "$HOME/.cargo/env" ]] && source "$HOME/.cargo/env"

cargo build --release --locked --bin dropsync
target="${CARGO_TARGET_DIR:-target}"
state="${DROPSYNC_STATE_DIR:-$PWD/dropsync-demo/.state}"
"$target/release/dropsync" --state-dir "$state" demo dropsync-demo
echo
echo "Try: $target/release/dropsync --state-dir $state preview dropsync-demo/customers-diff.toml"

if [[ "${1:-}" == "--cli" || ( -z "${DISPLAY:-}" && -z "${WAYLAND_DISPLAY:-}" ) ]]; then
  echo "(no display: the desktop app is not started; run this on a desktop to open it)"
  exit 0
fi
echo
echo "== building and opening the desktop app on the demo workspace"
(cd ui && npm ci --no-audit --no-fund && npm run build)
# The production build, the same the .deb packs (scripts/package-deb.sh).
cargo build --release --locked -p dropsync-desktop --features tauri/custom-protocol
DROPSYNC_WORKSPACE="$PWD/dropsync-demo" DROPSYNC_STATE_DIR="$state" \
  exec "$target/release/dropsync-desktop"
