#!/usr/bin/env bash
# Installs what building and testing Dropsync needs on a fresh Debian/Ubuntu
# machine. Safe to run again: it installs only what is missing.
set -euo pipefail

packages=(build-essential pkg-config ca-certificates curl)
# The desktop app (src-tauri, Tauri v2: WebKitGTK, GTK, tray) and its UI build (Node.js).
packages+=(libwebkit2gtk-4.1-dev libxdo-dev libssl-dev libayatana-appindicator3-dev
  librsvg2-dev libsoup-3.0-dev libgtk-3-dev)
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
# tests/credentials.rs: a private D-Bus session (dbus-run-session) with an
# unlocked gnome-keyring as the Secret Service, read back with secret-tool.
packages+=(dbus gnome-keyring libsecret-tools)
# tests/postgres.rs, tests/mysql.rs and benches/postgres.rs: the tests start
# their own server instances (tests/it/support/servers.rs) from these binaries;
# psql is the benchmark's yardstick.
packages+=(postgresql postgresql-client mariadb-server mariadb-client openssl)
# src/format/parquet.rs: Parquet files are read back by an outside reader,
# pyarrow (tests/parquet_readback.py), in the venv set up at the end.
packages+=(python3 python3-venv)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo_cmd=""
  [[ $(id -u) -ne 0 ]] && sudo_cmd="sudo"
  echo "setup: installing ${missing[*]}"
  $sudo_cmd apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y --no-install-recommends "${missing[@]}"
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: installing the Rust toolchain with rustup"
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
  # shellcheck disable=SC1091
  source "$HOME/.cargo/env"
fi

# pyarrow, pinned, in a venv at a fixed folder outside the clone (like the
# build output in .ci/run), so every clone and CI run finds it there; the
# Parquet read-back test runs tests/parquet_readback.py with its python, and
# fails under CI when pyarrow cannot be imported. Debian's python3 refuses
# pip installs outside a venv (PEP 668).
pyarrow_venv=/var/tmp/dropsync-python
pyarrow_pin="pyarrow==26.0.1"
if [[ "$(cat "$pyarrow_venv/.pinned" 2>/dev/null)" != "$pyarrow_pin" ]] ||
  ! "$pyarrow_venv/bin/python" -c "import pyarrow.parquet" >/dev/null 2>&1; then
  echo "setup: installing $pyarrow_pin into $pyarrow_venv"
  python=/usr/bin/python3
  [[ -x $python ]] || python=python3
  "$python" -m venv "$pyarrow_venv"
  "$pyarrow_venv/bin/pip" install -q --disable-pip-version-check "$pyarrow_pin"
  echo "$pyarrow_pin" >"$pyarrow_venv/.pinned"
fi
