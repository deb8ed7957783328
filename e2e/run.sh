#!/usr/bin/env bash
# End-to-end tests of the real built desktop app: Xvfb + tauri-driver +
# WebKitWebDriver, driven by Selenium (Python, pytest). Installs what it needs,
# builds the UI and the app, runs e2e/test_*.py, kills what it started.
#
#   dbus-run-session -- bash e2e/run.sh [pytest args...]
#
# Env: E2E_SKIP_INSTALL=1 (no apt/cargo install/pip), E2E_SKIP_BUILD=1 (use the
# existing build), E2E_PORT (tauri-driver port, default 4444; native = +1),
# CARGO_TARGET_DIR (where the app binary is). Screenshots: target/screenshots/e2e-*.png
# The app talks to a Dropbox emulator started here (never to Dropbox), and
# "opens the browser" with e2e/fake-browser.sh, which follows the OAuth redirect.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"
target="${CARGO_TARGET_DIR:-$repo/target}"
case "$target" in /*) ;; *) target="$repo/$target" ;; esac
app="$target/debug/dropsync-desktop"
emulator="$target/debug/dropbox-emulator"
port="${E2E_PORT:-4444}"
native_port=$((port + 1))
venv="$target/e2e-venv"
shots="$repo/target/screenshots"
t0=$(date +%s)
log() { printf '[e2e %3ss] %s\n' "$(( $(date +%s) - t0 ))" "$*"; }

if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
  echo "warning: no session bus; run as: dbus-run-session -- bash e2e/run.sh" >&2
fi

# ---------- install ----------
if [ "${E2E_SKIP_INSTALL:-}" != 1 ]; then
  pkgs=(xvfb xauth webkit2gtk-driver dbus dbus-x11 at-spi2-core fonts-dejavu-core imagemagick)
  missing=()
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "apt: installing ${missing[*]}"
    sudo_=""; [ "$(id -u)" = 0 ] || sudo_="sudo"
    $sudo_ apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  if ! command -v tauri-driver >/dev/null 2>&1; then
    log "cargo install tauri-driver"
    cargo install tauri-driver --version '^2' --locked
  fi
  if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import selenium, pytest' 2>/dev/null; then
    log "python venv with selenium + pytest in $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q -r e2e/requirements.txt
  fi
fi
export PATH="$HOME/.cargo/bin:$PATH"
command -v tauri-driver >/dev/null || { echo "tauri-driver not found" >&2; exit 2; }
command -v WebKitWebDriver >/dev/null || { echo "WebKitWebDriver not found (apt webkit2gtk-driver)" >&2; exit 2; }

# ---------- build ----------
if [ "${E2E_SKIP_BUILD:-}" != 1 ]; then
  log "building the UI"
  (cd ui && npm ci --no-audit --no-fund --loglevel=error && npm run build >/dev/null)
  log "building the app"
  cargo build -q -p dropsync-desktop -p dropbox-emulator
fi
[ -x "$app" ] || { echo "no app binary at $app" >&2; exit 2; }
[ -x "$emulator" ] || { echo "no emulator binary at $emulator" >&2; exit 2; }

# ---------- run ----------
tmp="$(mktemp -d -t dropsync-e2e.XXXXXX)"
pids=()
cleanup() {
  local rc=$?
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "$rc" != 0 ] && [ -d "$tmp" ]; then
    echo "--- tauri-driver / app log (last 40 lines) ---" >&2
    tail -n 40 "$tmp/driver.log" >&2 || true
  fi
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Xvfb picks a free display itself (-displayfd), so parallel runs don't collide.
exec 5>"$tmp/display"
Xvfb -displayfd 5 -screen 0 1280x800x24 -nolisten tcp >"$tmp/xvfb.log" 2>&1 &
pids+=($!)
exec 5>&-
for _ in $(seq 100); do [ -s "$tmp/display" ] && break; sleep 0.1; done
[ -s "$tmp/display" ] || { echo "Xvfb did not start" >&2; cat "$tmp/xvfb.log" >&2; exit 1; }
export DISPLAY=":$(tr -d '[:space:]' <"$tmp/display")"
log "Xvfb on $DISPLAY"

# The app inherits this environment through tauri-driver and WebKitWebDriver:
# a fresh workspace (the app creates the demo there), state and prefs.
export DROPSYNC_WORKSPACE="$tmp/workspace" DROPSYNC_STATE_DIR="$tmp/state"
export XDG_DATA_HOME="$tmp/data" XDG_CONFIG_HOME="$tmp/config" XDG_CACHE_HOME="$tmp/cache"
# A fresh home too (new syncs default to ~/Dropsync), after the tools above
# were found through the real one.
mkdir -p "$tmp/home"
export HOME="$tmp/home"
export NO_AT_BRIDGE=1 PYTHONDONTWRITEBYTECODE=1

# The Dropbox emulator, and the OAuth settings that point the app at it.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
oauth_port="$(free_port)"
mkdir -p "$tmp/dropbox"
"$emulator" --root "$tmp/dropbox" --port 0 --app-key e2e-app \
  --redirect-uri "http://127.0.0.1:$oauth_port/dropsync/oauth/callback" >"$tmp/emulator.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q "listening on" "$tmp/emulator.log" && break; sleep 0.1; done
dropbox_url="$(sed -n 's/.*listening on \(http[^ ]*\).*/\1/p' "$tmp/emulator.log" | head -n1)"
[ -n "$dropbox_url" ] || { echo "the Dropbox emulator did not start" >&2; cat "$tmp/emulator.log" >&2; exit 1; }
log "Dropbox emulator on $dropbox_url"
# No app key in the app's environment: the test types it into Connections,
# as a user who launched the app from the menu would.
unset DROPSYNC_DROPBOX_APP_KEY
export DROPSYNC_DROPBOX_API_URL="$dropbox_url" DROPSYNC_DROPBOX_CONTENT_URL="$dropbox_url" \
  DROPSYNC_DROPBOX_OAUTH_URL="$dropbox_url" \
  DROPSYNC_OAUTH_PORT="$oauth_port" BROWSER="$repo/e2e/fake-browser.sh" \
  E2E_DROPBOX_ROOT="$tmp/dropbox" E2E_APP_KEY=e2e-app E2E_OAUTH_PORT="$oauth_port"
tauri-driver --port "$port" --native-port "$native_port" >"$tmp/driver.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  kill -0 "${pids[-1]}" 2>/dev/null || { echo "tauri-driver exited" >&2; exit 1; }
  sleep 0.1
done
log "tauri-driver on :$port"

mkdir -p "$shots"
rm -f "$shots"/e2e-FAILED-*  # failure artifacts of an earlier run
export E2E_APP="$app" E2E_DRIVER_URL="http://127.0.0.1:$port" E2E_SCREENSHOTS="$shots"
log "running tests"
set +e
"$venv/bin/python" -m pytest -p no:cacheprovider -q e2e "$@"
rc=$?
set -e
log "done: pytest exit $rc"
exit "$rc"
