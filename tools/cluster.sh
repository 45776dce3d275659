#!/usr/bin/env bash
# The local cluster, the project's embedded default: a real Kubernetes control plane on
# 127.0.0.1 (etcd, kube-apiserver, kube-controller-manager, kube-scheduler) with kwok playing
# the kubelet of three simulated nodes. No container ever runs; see README.md for what that means.
#
# Usage: tools/cluster.sh up|down|status
#   up      starts everything (or says it already runs), writes .catalyst/kubeconfig
#   down    stops every process `up` started, checks the ports are free, removes the state
#   status  each component's pid, API health, nodes; exits non-zero unless the cluster is up
#
# Environment (all optional):
#   CATALYST_ETCD_PORT (23790), CATALYST_ETCD_PEER_PORT (23800), CATALYST_APISERVER_PORT (16443),
#   CATALYST_KWOK_PORT (10247, kwok's kubelet endpoint for logs), CATALYST_TOOLS_DIR (skip the
#   bootstrap and take the binaries from there), CATALYST_CLUSTER_TIMEOUT (90, seconds per wait),
#   CATALYST_OIDC_PORT (16543, where the API server expects the OpenID issuer: tools/cluster/oidc.sh).
# State, pids and logs: .catalyst/cluster/ (gitignored), removed by `down`.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
data="$repo/.catalyst/cluster"
pki="$data/pki"
kubeconfig="$repo/.catalyst/kubeconfig"
timeout=${CATALYST_CLUSTER_TIMEOUT:-90}
env_ports() {
  etcd_port=${CATALYST_ETCD_PORT:-23790}
  etcd_peer_port=${CATALYST_ETCD_PEER_PORT:-23800}
  api_port=${CATALYST_APISERVER_PORT:-16443}
  kwok_port=${CATALYST_KWOK_PORT:-10247}
  oidc_port=${CATALYST_OIDC_PORT:-16543}
}
# A cluster keeps the ports it was started with (saved by `up`): status and down must find it
# even when the environment has changed since.
env_ports
if [[ -f "$data/ports" ]]; then read -r etcd_port etcd_peer_port api_port kwok_port oidc_port <"$data/ports" || env_ports; fi
oidc_port=${oidc_port:-${CATALYST_OIDC_PORT:-16543}}
# In start order; stop_all stops the clients first, then the API server, etcd last.
components=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)

say() { printf 'cluster: %s\n' "$*" >&2; }
die() { printf 'cluster: error: %s\n' "$*" >&2; exit 1; }

# "PORT VARIABLE" lines, so every message about a port can say how to change it.
ports() {
  printf '%s CATALYST_ETCD_PORT\n%s CATALYST_ETCD_PEER_PORT\n%s CATALYST_APISERVER_PORT\n%s CATALYST_KWOK_PORT\n' \
    "$etcd_port" "$etcd_peer_port" "$api_port" "$kwok_port"
}

# shellcheck source=cluster/pki.sh
source "$here/cluster/pki.sh"
# shellcheck source=cluster/proc.sh
source "$here/cluster/proc.sh"
# shellcheck source=cluster/oidc.sh
source "$here/cluster/oidc.sh"

# The directory holding every binary; the bootstrap builds what is missing (instant when warm).
tools_dir() {
  local bin=${CATALYST_TOOLS_DIR:-} tool
  [[ -n "$bin" ]] || bin=$(bash "$repo/tools/bootstrap.sh" --quiet) || die "tools/bootstrap.sh failed (see above)"
  for tool in etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok; do
    [[ -x "$bin/$tool" ]] || die "$tool is missing from $bin"
  done
  echo "$bin"
}

# --- health -------------------------------------------------------------------------------------
api_ready() {
  curl -sf --max-time 3 --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key" \
    "https://127.0.0.1:$api_port/readyz" >/dev/null 2>&1
}
healthy() {
  local name
  for name in "${components[@]}"; do running "$name" || return 1; done
  api_ready
}

# wait_until WHAT COMMAND...: polls COMMAND until it succeeds; fails early when a component
# died (naming its log) and after $timeout seconds.
wait_until() {
  local what=$1 deadline=$((SECONDS + timeout)) name; shift
  until "$@" >/dev/null 2>&1; do
    for name in "${components[@]}"; do
      if [[ -f "$data/$name.pid" ]] && ! running "$name"; then
        tail -n 15 "$data/$name.log" >&2 || true
        die "$name exited while waiting for $what (log: $data/$name.log)"
      fi
    done
    ((SECONDS < deadline)) || die "timed out after ${timeout}s waiting for $what (logs: $data/*.log)"
    sleep 0.2
  done
}

# --- commands -----------------------------------------------------------------------------------
# One `up` or `down` at a time per checkout: two would race for the same ports and files.
lock() {
  mkdir -p "$repo/.catalyst"
  exec 9>"$repo/.catalyst/cluster.lock"
  flock -w 300 9 || die "another tools/cluster.sh up/down still runs after 5 minutes"
}

# launch NAME: starts one component with its flags (`up` decides which and when).
launch() {
  case $1 in
    etcd)
      # Single member, no fsync: the cluster is disposable, and fsync dominates etcd's cost.
      start etcd "$bin/etcd" --name local --data-dir "$data/etcd" \
        --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
        --listen-peer-urls "http://127.0.0.1:$etcd_peer_port" \
        --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer_port" \
        --initial-cluster "local=http://127.0.0.1:$etcd_peer_port" \
        --unsafe-no-fsync --quota-backend-bytes 4294967296 --log-level warn ;;
    kube-apiserver)
      # The admission plugins named are on by default; naming them makes a rename fail loudly.
      # TaintNodesByCondition is off: simulated nodes are Ready from their first second, and the
      # not-ready taint it adds would hold pods back until the node lifecycle controller's next pass.
      # --kubelet-*: the API server reaches "kubelets" (kwok's endpoint, the nodes' InternalIP and
      # kubeletEndpoint port) for logs, with its own client certificate, checking kwok's.
      # No endpoint reconciler: the `kubernetes` Service may not point at a loopback address (the
      # API server would log that every 10 s), and no pod runs to call it anyway.
      start kube-apiserver "$bin/kube-apiserver" \
        --etcd-servers "http://127.0.0.1:$etcd_port" \
        --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$api_port" \
        --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
        --client-ca-file "$pki/ca.crt" \
        --authorization-mode RBAC \
        --enable-admission-plugins NamespaceLifecycle,LimitRanger,ServiceAccount,DefaultStorageClass,PodSecurity,ResourceQuota,MutatingAdmissionWebhook,ValidatingAdmissionWebhook,ValidatingAdmissionPolicy \
        --disable-admission-plugins TaintNodesByCondition \
        --service-account-issuer https://kubernetes.default.svc.cluster.local \
        --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
        --service-cluster-ip-range 10.96.0.0/16 --endpoint-reconciler-type none \
        --kubelet-client-certificate "$pki/apiserver-kubelet-client.crt" \
        --kubelet-client-key "$pki/apiserver-kubelet-client.key" \
        --kubelet-certificate-authority "$pki/ca.crt" --kubelet-preferred-address-types InternalIP \
        --authentication-config "$data/authentication.yaml" \
        --allow-privileged=true --profiling=false ;;
    kube-controller-manager)
      # Controllers the product needs stay on ('*'); off are the cloud ones (no cloud), node IPAM
      # (kwok assigns pod IPs) and the taint-based evictions (no real node ever fails). No HTTPS
      # endpoint (--secure-port 0) and no leader election: one instance, less work on two cores.
      start kube-controller-manager "$bin/kube-controller-manager" \
        --kubeconfig "$data/controller-manager.kubeconfig" --secure-port 0 --leader-elect=false \
        --controllers '*,-cloud-node-lifecycle-controller,-service-lb-controller,-node-route-controller,-node-ipam-controller,-taint-eviction-controller,-device-taint-eviction-controller' \
        --use-service-account-credentials=true \
        --service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" \
        --cluster-signing-cert-file "$pki/ca.crt" --cluster-signing-key-file "$pki/ca.key" \
        --enable-hostpath-provisioner ;;
    kube-scheduler)
      start kube-scheduler "$bin/kube-scheduler" \
        --kubeconfig "$data/scheduler.kubeconfig" --secure-port 0 --leader-elect=false ;;
    kwok)
      # KWOK_WORKDIR keeps a user's ~/.kwok/kwok.yaml out; kwok would merge it into our config.
      # --v=WARN: at INFO it logs every lease renewal (three lines per 10 s). Its HTTPS endpoint
      # (127.0.0.1 only) serves `kubectl logs` from tools/cluster/pod-logs.txt, and `kubectl exec`
      # only in the API test's namespace, as nobody (kwok runs exec commands on this machine).
      : >"$data/kwok/probe-logs.txt"
      sed -e "s|@LOGS@|$here/cluster/pod-logs.txt|" -e "s|@PROBE_LOGS@|$data/kwok/probe-logs.txt|" "$here/cluster/kwok-logs.yaml" >"$data/kwok/logs.yaml"
      start kwok env KWOK_WORKDIR="$data/kwok" "$bin/kwok" --v=WARN --kubeconfig "$data/kwok.kubeconfig" \
        --config "$here/cluster/stages.yaml" --config "$data/kwok/logs.yaml" \
        --config "$here/cluster/kwok-exec.yaml" \
        --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
        --cidr 10.244.0.0/16 --node-ip 127.0.0.1 --node-port "$kwok_port" --node-lease-duration-seconds 40 \
        --server-address "127.0.0.1:$kwok_port" --tls-cert-file "$pki/kwok.crt" --tls-private-key-file "$pki/kwok.key" ;;
  esac
}

up() {
  lock
  if healthy; then say "already running: API https://127.0.0.1:$api_port, kubeconfig $kubeconfig"; return 0; fi
  local resume=false name started=$SECONDS
  if [[ -f "$data/.up" ]]; then
    # It came up once (then a crash, a reboot): restart it whole on its state, certificates and
    # ports. Restarting only what stopped would race with components still on their way out.
    resume=true
    say "the cluster is not healthy; restarting it with its state (npm run cluster:down starts over)"
  elif [[ -d "$data" ]]; then
    say "removing what is left of an unfinished start"
  fi
  local stopped
  stopped=$(stop_all)
  if ! $resume; then rm -rf "$data"; env_ports; fi
  check_ports_free $((stopped > 0 ? 5 : 0))
  bin=$(tools_dir)
  # Whatever fails from here on, stop what runs; the state and logs stay for a look.
  up_done=false
  trap '$up_done || { stop_all >/dev/null; say "up failed; logs kept in $data (npm run cluster:down removes them)"; }' EXIT
  if ! $resume; then
    mkdir -p "$data/kwok"
    echo "$etcd_port $etcd_peer_port $api_port $kwok_port $oidc_port" >"$data/ports"
    make_pki
    for name in admin controller-manager scheduler kwok; do write_kubeconfig "$data/$name.kubeconfig" "$name"; done
  fi

  # Also on a resume of a cluster started before the OIDC trust existed.
  [[ -f "$data/authentication.yaml" ]] || make_oidc_trust
  launch etcd
  launch kube-apiserver
  # kube-controller-manager gives up if the API server is not healthy within 10 s; wait first.
  wait_until "the API server's /readyz" api_ready
  write_kubeconfig "$kubeconfig" admin
  local kubectl=("$bin/kubectl" --kubeconfig "$kubeconfig") leases
  # A new kwok has a new identity and leaves nodes alone while their Leases are held by the old
  # one (up to 40 s): hand them over.
  if $resume; then "${kubectl[@]}" delete lease -n kube-node-lease --all >/dev/null; fi
  for name in kube-controller-manager kube-scheduler kwok; do launch "$name"; done

  "${kubectl[@]}" apply -f "$here/cluster/objects.yaml" >/dev/null
  wait_until "three Ready nodes" "${kubectl[@]}" wait --for=condition=Ready node --all --timeout=5s
  # Each node's Lease is its heartbeat (kwok renews it every 10 s): there once kwok manages it.
  leases=$("${kubectl[@]}" get nodes -o name | sed 's|^node/|lease/|')
  # shellcheck disable=SC2086 # one argument per lease
  wait_until "the nodes' heartbeat Leases" "${kubectl[@]}" wait --for=create -n kube-node-lease $leases --timeout=5s
  wait_until "the default ServiceAccount" "${kubectl[@]}" wait --for=create serviceaccount/default -n default --timeout=5s
  touch "$data/.up"
  up_done=true
  say "up in $((SECONDS - started))s: API https://127.0.0.1:$api_port, $("${kubectl[@]}" get nodes --no-headers | wc -l) nodes Ready; export KUBECONFIG=$kubeconfig"
}

# kube-controller-manager's host-path provisioner makes each volume a directory under
# /tmp/hostpath_pv (a path fixed in Kubernetes) and removes it with the volume; `down` removes
# those of volumes still there, while the API server can still list them.
remove_volume_dirs() {
  local dir
  [[ -f "$pki/ca.crt" ]] && api_ready || return 0
  curl -sf --max-time 5 --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key" \
    "https://127.0.0.1:$api_port/api/v1/persistentvolumes" |
    grep -oE '"path": *"/tmp/hostpath_pv/[0-9a-f-]+"' | grep -oE '/tmp/hostpath_pv/[0-9a-f-]+' |
    while read -r dir; do rm -rf "$dir"; done || true
}

down() {
  lock
  local n port var
  remove_volume_dirs
  n=$(stop_all)
  rm -rf "$data" "$kubeconfig"
  # The processes are gone once their pids are; their listening sockets go with them. A port
  # still open belongs to someone else, and the next `up` would trip on it: say so now.
  while read -r port var; do
    if port_busy "$port" 5; then die "stopped $n processes, but port $port ($var) is still in use by $(port_user "$port")"; fi
  done < <(ports)
  if ((n > 0)); then say "down: stopped $n processes; ports free; state removed"; else say "down: nothing was running; ports free"; fi
}

status() {
  local ok=0 name pid
  for name in "${components[@]}"; do
    if running "$name"; then
      printf '%-24s running (pid %s)\n' "$name" "$(pid_of "$name")"
    else
      pid=$(pid_of "$name" || true)
      printf '%-24s not running%s\n' "$name" "${pid:+ (stale pid $pid)}"
      ok=1
    fi
  done
  if [[ -f "$pki/ca.crt" ]] && api_ready; then
    printf '%-24s ok (https://127.0.0.1:%s)\n' "API /readyz" "$api_port"
    local kubectl total ready
    kubectl=("$(tools_dir)/kubectl" --kubeconfig "$kubeconfig")
    total=$("${kubectl[@]}" get nodes --no-headers 2>/dev/null | wc -l)
    ready=$("${kubectl[@]}" get nodes --no-headers 2>/dev/null | awk '$2 == "Ready"' | wc -l)
    printf '%-24s %s of %s Ready\n' "nodes" "$ready" "$total"
    ((ready > 0)) || ok=1
  else
    printf '%-24s not ready\n' "API /readyz"
    ok=1
  fi
  ((ok == 0)) || { say "the cluster is not up (npm run cluster:up)"; return 1; }
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: tools/cluster.sh up|down|status" >&2; exit 2 ;;
esac
