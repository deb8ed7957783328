#!/usr/bin/env bash
# The whole test suite: formatting, lints, unit and integration tests.
# Installs what it needs first. Honours CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
[[ -f "$HOME/.cargo/env" ]] && source "$HOME/.cargo/env"

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy --all-targets -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== cargo test"
cargo test --workspace --locked
