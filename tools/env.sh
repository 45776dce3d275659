#!/usr/bin/env bash
# Prints `export` lines for one environment shared by every command of the project:
#   eval "$(npm run --silent env)"
# Values the user already set (KUBECONFIG, PULUMI_BACKEND_URL, PULUMI_HOME, a passphrase, a
# `pulumi` of the right version on PATH) are kept; everything else points at the local default.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
# shellcheck source=versions.env
source "$here/versions.env"

tools_dir=$(bash "$here/bootstrap.sh" --quiet)
state="$repo/.catalyst"

quote() { printf '%q' "$1"; }
emit() { printf 'export %s=%s\n' "$1" "$(quote "$2")"; }

path="$tools_dir:$PATH"
# A pulumi the user installed is honoured when it is the pinned version; its directory then
# comes first, and the built tools stay available behind it.
if user_pulumi=$(command -v pulumi 2>/dev/null) && [[ "$(dirname "$user_pulumi")" != "$tools_dir" ]] &&
  [[ "$("$user_pulumi" version 2>/dev/null)" == "v$PULUMI_VERSION" ]]; then
  path="$(dirname "$user_pulumi"):$path"
fi

emit PATH "$path"
emit CATALYST_TOOLS_DIR "$tools_dir"
emit PULUMI_HOME "${PULUMI_HOME:-$state/pulumi-home}"
emit KUBECONFIG "${KUBECONFIG:-$state/kubeconfig}"
emit PULUMI_BACKEND_URL "${PULUMI_BACKEND_URL:-file://$state/state}"
if [[ -n "${PULUMI_CONFIG_PASSPHRASE:-}" || -n "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]]; then
  :
else
  echo "# DEV ONLY: a fixed passphrase for the local file backend. Set your own for anything real."
  emit PULUMI_CONFIG_PASSPHRASE "catalyst-local-dev-only"
fi
emit PULUMI_SKIP_UPDATE_CHECK true
emit PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION true
# Pulumi Cloud is never contacted: no login, no telemetry, no AI features.
emit PULUMI_DIY_BACKEND_NO_LEGACY_WARNING true
