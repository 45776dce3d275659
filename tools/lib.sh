#!/usr/bin/env bash
# Shared by tools/test.sh and tools/run.sh: the environment, npm dependencies, step banners.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

step() { printf '\n==> %s\n' "$*" >&2; }

# Loads the environment of tools/env.sh (builds the tools on first use).
load_environment() {
  step "toolchain (tools/bootstrap.sh; cached in ${CATALYST_CACHE_DIR:-~/.cache/catalyst})"
  local start=$SECONDS
  bash tools/bootstrap.sh >/dev/null
  eval "$(bash tools/env.sh)"
  mkdir -p "$repo/.catalyst/state"
  echo "tools ready in $((SECONDS - start))s: $CATALYST_TOOLS_DIR" >&2
}

# Installs npm dependencies with the pinned Node when package-lock.json changed since last time.
ensure_node_modules() {
  local stamp="$repo/node_modules/.catalyst-lock-hash" hash
  hash=$(sha256sum package-lock.json | cut -c1-16)
  if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$hash" ]]; then
    step "npm install (from package-lock.json)"
    # Not `npm ci`: npm 11 records only this platform's optional native bindings in the lock
    # file and then refuses it in `ci` mode; `install` honours the same lock without that check.
    npm install --no-audit --no-fund --loglevel=error
    echo "$hash" >"$stamp"
  fi
}

# Test, CI and bench wiring only (the product never looks there): this project's machines keep
# the chart tarballs in ../shared/charts; point CATALYST_CHART_MIRROR at them unless it is set.
use_shared_chart_mirror() {
  if [[ -z "${CATALYST_CHART_MIRROR:-}" && -d "$repo/../shared/charts" ]]; then
    export CATALYST_CHART_MIRROR="$(cd "$repo/../shared/charts" && pwd)"
    echo "charts: CATALYST_CHART_MIRROR=$CATALYST_CHART_MIRROR (../shared/charts beside the clone)" >&2
  fi
}
