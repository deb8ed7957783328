#!/usr/bin/env bash
# The official Dropbox Python SDK (pinned in requirements.txt) against the
# emulator over HTTPS: every response must pass the SDK's Stone validators.
# Builds the emulator if needed, keeps a venv at $CARGO_TARGET_DIR/sdk-venv,
# runs pytest and exits with its status.
#
#   bash crates/dropbox-emulator/sdk-tests/run.sh [pytest args...]
#
# Env: SDK_TESTS_SKIP_BUILD=1 (use the existing emulator binary).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
cd "$repo"
target="${CARGO_TARGET_DIR:-$repo/target}"
case "$target" in /*) ;; *) target="$repo/$target" ;; esac
export CARGO_TARGET_DIR="$target"
venv="$target/sdk-venv"
stamp="$venv/.requirements.sha256"

if [ "${SDK_TESTS_SKIP_BUILD:-}" != 1 ]; then
  cargo build -q -p dropbox-emulator
fi
[ -x "$target/debug/dropbox-emulator" ] || { echo "no emulator binary at $target/debug/dropbox-emulator" >&2; exit 2; }

want="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "sdk-tests: python venv with the pinned Dropbox SDK in $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$here/requirements.txt"
  echo "$want" >"$stamp"
fi

export PYTHONDONTWRITEBYTECODE=1
cd "$here"
exec "$venv/bin/python" -m pytest -p no:cacheprovider -q "$@"
