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
