#!/usr/bin/env bash
# Builds Dropsync and runs it on its built-in demo data: a sample shop
# database and one sync per mode, delivering into ./dropsync-demo/out.
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
