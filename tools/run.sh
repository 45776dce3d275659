#!/usr/bin/env bash
# `npm run up` / `npm run down`: the platform on the embedded default (local cluster, local
# state), through the same code path as `catalyst platform up` / `down` (stacks/cli): the stack's
# settings live in its work dir (.catalyst/work/<stack>/), Pulumi.dev.yaml is only read as the
# template, so the repository stays clean. With KUBECONFIG set to a real cluster, no local
# cluster is started and the platform goes there. Charts: catalyst:charts.* on the stack, else
# CATALYST_CHART_MIRROR, else the upstream Helm repositories.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

action=${1:?usage: tools/run.sh up|down}
stack=${CATALYST_PLATFORM_STACK:-dev}
user_kubeconfig=${KUBECONFIG:-}
load_environment
ensure_node_modules
# The dashboard `catalyst serve` shows at / (dist/dashboard, gitignored).
npm run --silent build:dashboard
local_cluster=false
[[ -z "$user_kubeconfig" || "$user_kubeconfig" == "$repo/.catalyst/kubeconfig" ]] && local_cluster=true
catalyst() { node "$repo/bin/catalyst.js" "$@"; }

case "$action" in
  up)
    start=$SECONDS
    if $local_cluster; then step "local cluster"; bash tools/cluster.sh up; fi
    # The security baseline (policy/, docs/security.md) checks the update, as it does every
    # update of the automation layer; CATALYST_POLICY_CONFIG names a levels file.
    step "catalyst platform up --stack $stack"
    catalyst platform up --stack "$stack"
    step "platform outputs"
    catalyst platform status --stack "$stack"
    echo "platform up in $((SECONDS - start))s" >&2
    ;;
  down)
    # A platform stack that does not exist is a successful no-op.
    step "catalyst platform down --stack $stack"
    catalyst platform down --stack "$stack"
    if $local_cluster; then step "local cluster"; bash tools/cluster.sh down; fi
    ;;
  *) echo "usage: tools/run.sh up|down" >&2; exit 2 ;;
esac
