#!/usr/bin/env bash
# `npm run up` / `npm run down`: the platform on the embedded default (local cluster, local
# state) with the real `pulumi` CLI. With KUBECONFIG set to a real cluster, no local cluster
# is started and the platform goes there.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

action=${1:?usage: tools/run.sh up|down}
stack=${CATALYST_PLATFORM_STACK:-dev}
user_kubeconfig=${KUBECONFIG:-}
load_environment
ensure_node_modules
local_cluster=false
[[ -z "$user_kubeconfig" || "$user_kubeconfig" == "$repo/.catalyst/kubeconfig" ]] && local_cluster=true

case "$action" in
  up)
    start=$SECONDS
    if $local_cluster; then step "local cluster"; bash tools/cluster.sh up; fi
    step "pulumi up --stack $stack"
    pulumi stack select "$stack" --create >/dev/null
    # The security baseline (policy/, docs/security.md) checks the update, as it does every
    # update the catalyst CLI and CI run; CATALYST_POLICY_CONFIG names a levels file.
    policy=(--policy-pack "$repo/policy")
    [[ -n "${CATALYST_POLICY_CONFIG:-}" ]] && policy+=(--policy-pack-config "$CATALYST_POLICY_CONFIG")
    pulumi up --stack "$stack" --yes --skip-preview "${policy[@]}"
    step "platform outputs"
    pulumi stack output --stack "$stack"
    echo "platform up in $((SECONDS - start))s" >&2
    ;;
  down)
    if pulumi stack ls --json 2>/dev/null | grep -q "\"name\": \"$stack\""; then
      step "pulumi destroy --stack $stack"
      pulumi destroy --stack "$stack" --yes --skip-preview
    fi
    if $local_cluster; then step "local cluster"; bash tools/cluster.sh down; fi
    ;;
  *) echo "usage: tools/run.sh up|down" >&2; exit 2 ;;
esac
