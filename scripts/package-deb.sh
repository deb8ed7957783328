#!/usr/bin/env bash
# Builds the desktop app's installable Debian package, with Tauri's bundler:
#
#   bash scripts/package-deb.sh            # prints the .deb's path last
#   sudo apt-get install ./<that path>     # then: dropsync-desktop, or the menu entry
#
# What it does: builds the UI (ui/dist, embedded in the binary), a release
# build of dropsync-desktop with tauri/custom-protocol (the production asset
# protocol), then packs it with Tauri's bundler (`tauri bundle --bundles deb`,
# npm @tauri-apps/cli of the tauri crate's minor, installed under the cargo
# target dir): /usr/bin/dropsync-desktop, a .desktop entry, icons, and the
# Depends Tauri adds (WebKitGTK, GTK) plus bundle.linux.deb's in
# tauri.conf.json (the tray's libayatana-appindicator3-1).
#
#   --smoke   also install the .deb, start the installed app under Xvfb,
#             check it stays up with its window, stop it, remove the package
#             (needs root or sudo; run inside dbus-run-session)
#
# Env: CARGO_TARGET_DIR (the build and the CLI go there; default ./target),
# PACKAGE_SKIP_UI=1 (use the existing ui/dist).
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"
target="${CARGO_TARGET_DIR:-$repo/target}"
case "$target" in /*) ;; *) target="$repo/$target" ;; esac
export CARGO_TARGET_DIR="$target"
smoke=0
for a in "$@"; do
  case "$a" in
    --smoke) smoke=1 ;;
    *) echo "usage: $0 [--smoke]" >&2; exit 2 ;;
  esac
done
t0=$(date +%s)
log() { printf '[package %4ss] %s\n' "$(( $(date +%s) - t0 ))" "$*"; }

# The CLI's minor version follows the tauri crate's (Cargo.lock), as Tauri
# asks of its packages.
tauri_version=$(awk '/^name = "tauri"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
[ -n "$tauri_version" ] || { echo "no tauri in Cargo.lock" >&2; exit 1; }
cli_dir="$target/tools/tauri-cli"
cli="$cli_dir/node_modules/.bin/tauri"
if ! [ -x "$cli" ] || [ "$("$cli" --version | awk '{print $2}' | cut -d. -f1,2)" != "${tauri_version%.*}" ]; then
  log "installing @tauri-apps/cli@~${tauri_version%.*}.0 in $cli_dir"
  mkdir -p "$cli_dir"
  npm install --prefix "$cli_dir" --no-audit --no-fund --loglevel=error "@tauri-apps/cli@~${tauri_version%.*}.0"
fi

if [ "${PACKAGE_SKIP_UI:-}" != 1 ]; then
  log "building the UI"
  (cd ui && npm ci --no-audit --no-fund --loglevel=error && npm run build >/dev/null)
fi

# No debug info in the package: smaller, and a faster link on small machines.
export CARGO_PROFILE_RELEASE_DEBUG="${CARGO_PROFILE_RELEASE_DEBUG:-0}"
# The app's release build, with the production asset protocol. Built here
# rather than by `tauri build`: the root Cargo.toml is the core's package as
# well as the workspace, and the CLI would take the core's `dropsync` binary
# for the app. `tauri bundle` then packs target/release/<mainBinaryName>.
log "cargo build --release -p dropsync-desktop --features tauri/custom-protocol"
cargo build --release --locked -p dropsync-desktop --features tauri/custom-protocol
log "tauri bundle --bundles deb"
"$cli" bundle --ci --bundles deb
version=$(python3 -c 'import json; print(json.load(open("tauri.conf.json"))["version"])')
deb=$(ls -t "$target"/release/bundle/deb/*_"${version}"_*.deb 2>/dev/null | head -n1 || true)
[ -n "$deb" ] && [ -f "$deb" ] || { echo "no .deb under $target/release/bundle/deb" >&2; exit 1; }
log "built $(du -h "$deb" | cut -f1) $deb"
dpkg-deb --info "$deb" | sed -n '/Package:/,$p'

# ---------- smoke test: install, start, see the window, stop, remove ----------
sudo_=""
[ "$(id -u)" = 0 ] || sudo_="sudo"
apt_() { DEBIAN_FRONTEND=noninteractive $sudo_ apt-get "$@"; }
tmp="" app_pid="" xvfb_pid="" installed=""
# Whatever happens: stop what was started, remove the package.
cleanup() {
  local rc=$?
  [ -n "$app_pid" ] && kill "$app_pid" 2>/dev/null
  [ -n "$xvfb_pid" ] && kill "$xvfb_pid" 2>/dev/null
  [ -n "$installed" ] && apt_ remove -y -qq "$installed" >/dev/null 2>&1
  if [ "$rc" != 0 ] && [ -f "$tmp/app.log" ]; then
    echo "--- installed app's log (last 30 lines) ---" >&2
    tail -n 30 "$tmp/app.log" >&2
  fi
  [ -n "$tmp" ] && rm -rf "$tmp"
  exit "$rc"
}

smoke_test() {
  local deb=$1 pkg bin display window=""
  pkg=$(dpkg-deb --field "$deb" Package)
  bin=$(dpkg-deb --contents "$deb" | awk '{ sub(/^[.]?\//, "", $6) } $6 ~ /^usr\/bin\/./ { print "/" $6; exit }')
  [ -n "$bin" ] || { echo "the .deb has no program in /usr/bin" >&2; return 1; }
  local need=() p
  for p in xvfb xauth xdotool; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
  done
  if [ ${#need[@]} -gt 0 ]; then
    log "apt: installing ${need[*]}"
    apt_ update -qq
    apt_ install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
  tmp=$(mktemp -d -t dropsync-deb.XXXXXX)
  trap cleanup EXIT

  log "apt-get install $deb"
  installed="$pkg"
  apt_ install -y -qq "$deb" >"$tmp/apt.log" 2>&1 \
    || { cat "$tmp/apt.log" >&2; echo "installing the .deb failed" >&2; return 1; }
  [ -x "$bin" ] || { echo "$bin is not installed" >&2; return 1; }
  grep -l "^Exec=$(basename "$bin")" /usr/share/applications/*.desktop >/dev/null 2>&1 \
    || { echo "no .desktop entry runs $(basename "$bin")" >&2; return 1; }

  exec 5>"$tmp/display"
  Xvfb -displayfd 5 -screen 0 1280x800x24 -nolisten tcp >"$tmp/xvfb.log" 2>&1 &
  xvfb_pid=$!
  exec 5>&-
  for _ in $(seq 100); do [ -s "$tmp/display" ] && break; sleep 0.1; done
  [ -s "$tmp/display" ] || { echo "Xvfb did not start" >&2; return 1; }
  display=":$(tr -d '[:space:]' <"$tmp/display")"
  # A throwaway home: the app creates its demo workspace and state there.
  log "starting $bin on $display"
  DISPLAY="$display" HOME="$tmp/home" XDG_DATA_HOME="$tmp/home/data" \
    XDG_CONFIG_HOME="$tmp/home/config" XDG_CACHE_HOME="$tmp/home/cache" NO_AT_BRIDGE=1 \
    "$bin" >"$tmp/app.log" 2>&1 &
  app_pid=$!
  for _ in $(seq 60); do
    kill -0 "$app_pid" 2>/dev/null || break
    window=$(DISPLAY="$display" xdotool search --name '^Dropsync$' 2>/dev/null | head -n1 || true)
    [ -n "$window" ] && break
    sleep 0.5
  done
  [ -n "$window" ] || { echo "the installed app showed no Dropsync window" >&2; return 1; }
  sleep 5
  kill -0 "$app_pid" 2>/dev/null || { echo "the installed app exited" >&2; return 1; }
  log "window $window is up and the app still runs after 5 s; stopping it"
  kill "$app_pid"
  wait "$app_pid" 2>/dev/null || true
  app_pid=""

  log "apt-get remove $pkg"
  apt_ remove -y -qq "$pkg" >/dev/null
  installed=""
  [ ! -e "$bin" ] || { echo "$bin is still there after apt-get remove" >&2; return 1; }
  log "smoke test passed"
}

if [ "$smoke" = 1 ]; then
  smoke_test "$deb"
fi
echo "$deb"
