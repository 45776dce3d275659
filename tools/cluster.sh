#!/usr/bin/env bash
# The local cluster, the project's embedded default: a real Kubernetes control plane on
# 127.0.0.1 (etcd, kube-apiserver, kube-controller-manager, kube-scheduler) with kwok
# simulating the nodes. No container ever runs; see README.md for what that means.
#
# Usage: tools/cluster.sh up|down|status
# Ports (override through the environment): CATALYST_ETCD_PORT (23790), CATALYST_ETCD_PEER_PORT
# (23800), CATALYST_APISERVER_PORT (16443), CATALYST_KWOK_PORT (10247).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
data="$repo/.catalyst/cluster"
kubeconfig="$repo/.catalyst/kubeconfig"
etcd_port=${CATALYST_ETCD_PORT:-23790}
etcd_peer_port=${CATALYST_ETCD_PEER_PORT:-23800}
api_port=${CATALYST_APISERVER_PORT:-16443}
kwok_port=${CATALYST_KWOK_PORT:-10247}
components=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)

say() { printf 'cluster: %s\n' "$*" >&2; }
die() { printf 'cluster: error: %s\n' "$*" >&2; exit 1; }

tools_dir() { echo "${CATALYST_TOOLS_DIR:-$(bash "$here/bootstrap.sh" --quiet)}"; }

pid_of() { [[ -f "$data/$1.pid" ]] && cat "$data/$1.pid"; }
running() { local pid; pid=$(pid_of "$1") && [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; }

port_owner() { ss -Hltnp "sport = :$1" 2>/dev/null | sed -n 's/.*users:((\("[^"]*"\),pid=\([0-9]*\).*/\1 (pid \2)/p' | head -1; }
port_taken() { [[ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]]; }

# Waits for a command to succeed, polling, up to a deadline; prints what it waited for on failure.
wait_for() {
  local what=$1 timeout=$2; shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || die "timed out after ${timeout}s waiting for $what (logs: $data/*.log)"
    sleep 0.2
  done
}

# --- certificates -----------------------------------------------------------------------------
make_certificates() {
  local pki="$data/pki"
  mkdir -p "$pki" && cd "$pki"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 \
    -subj "/CN=catalyst-local-ca" 2>/dev/null
  openssl genrsa -out sa.key 2048 2>/dev/null && openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
  # issue NAME SUBJECT [SANS]: a key and a certificate signed by the local CA.
  issue() {
    openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null
    local ext="extendedKeyUsage=clientAuth,serverAuth"
    [[ -n "${3:-}" ]] && ext+=$'\n'"subjectAltName=$3"
    openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -out "$1.crt" -days 3650 \
      -extfile <(printf '%s\n' "$ext") 2>/dev/null
    rm -f "$1.csr"
  }
  issue apiserver "/CN=kube-apiserver" \
    "IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
  issue admin "/O=system:masters/CN=catalyst-admin"
  issue controller-manager "/CN=system:kube-controller-manager"
  issue scheduler "/CN=system:kube-scheduler"
  # kwok plays the kubelet of every simulated node and stages arbitrary resources, so it gets the
  # local admin's group rather than a node identity.
  issue kwok "/O=system:masters/CN=kwok-controller" "IP:127.0.0.1,DNS:localhost"
  cd - >/dev/null
}

# write_kubeconfig FILE IDENTITY: a kubeconfig for the local API server as IDENTITY.
write_kubeconfig() {
  local pki="$data/pki"
  cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: catalyst-local
  cluster:
    server: https://127.0.0.1:$api_port
    certificate-authority: $pki/ca.crt
users:
- name: $2
  user:
    client-certificate: $pki/$2.crt
    client-key: $pki/$2.key
contexts:
- name: catalyst-local
  context: {cluster: catalyst-local, user: $2}
current-context: catalyst-local
EOF
}

start() {
  local name=$1; shift
  setsid "$@" >"$data/$name.log" 2>&1 </dev/null &
  echo $! >"$data/$name.pid"
}

up() {
  if running kube-apiserver && status >/dev/null 2>&1; then
    say "already running (kubeconfig: $kubeconfig)"
    return 0
  fi
  # Leftovers of a cluster that died halfway would make a confusing mix: start clean.
  [[ -d "$data" ]] && down >/dev/null 2>&1
  for port in "$etcd_port" "$etcd_peer_port" "$api_port" "$kwok_port"; do
    if port_taken "$port"; then
      die "port $port is taken by $(port_owner "$port" || true); free it or choose others (CATALYST_*_PORT)"
    fi
  done
  local started=$SECONDS bin pki="$data/pki"
  bin=$(tools_dir)
  mkdir -p "$data"
  make_certificates
  for who in admin controller-manager scheduler kwok; do write_kubeconfig "$data/$who.kubeconfig" "$who"; done

  start etcd "$bin/etcd" --name local --data-dir "$data/etcd" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$etcd_peer_port" \
    --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer_port" \
    --initial-cluster "local=http://127.0.0.1:$etcd_peer_port" \
    --unsafe-no-fsync --quota-backend-bytes 4294967296 --log-level warn

  start kube-apiserver "$bin/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$etcd_port" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$api_port" \
    --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
    --client-ca-file "$pki/ca.crt" \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
    --service-cluster-ip-range 10.96.0.0/16 \
    --authorization-mode RBAC \
    --enable-admission-plugins NamespaceLifecycle,LimitRanger,ServiceAccount,DefaultStorageClass,PodSecurity,ResourceQuota,MutatingAdmissionWebhook,ValidatingAdmissionWebhook,ValidatingAdmissionPolicy \
    --disable-admission-plugins TaintNodesByCondition \
    --kubelet-client-certificate "$pki/admin.crt" --kubelet-client-key "$pki/admin.key" \
    --kubelet-certificate-authority "$pki/ca.crt" \
    --kubelet-preferred-address-types InternalIP \
    --allow-privileged=true --profiling=false

  wait_for "etcd" 30 curl -sf "http://127.0.0.1:$etcd_port/health"
  wait_for "the API server to be ready" 60 \
    curl -sf --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key" \
    "https://127.0.0.1:$api_port/readyz"

  # The node lifecycle controller would mark simulated nodes NotReady between heartbeats;
  # without it nodes stay Ready and the machine saves the work of heartbeats. For the same
  # reason the API server does not taint new nodes not-ready (TaintNodesByCondition is off):
  # nothing would take the taint away.
  start kube-controller-manager "$bin/kube-controller-manager" \
    --kubeconfig "$data/controller-manager.kubeconfig" \
    --authentication-kubeconfig "$data/controller-manager.kubeconfig" \
    --authorization-kubeconfig "$data/controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port 0 --leader-elect=false \
    --controllers '*,-node-lifecycle-controller,-node-ipam-controller,-cloud-node-lifecycle-controller,-service-lb-controller,-node-route-controller,-taint-eviction-controller' \
    --service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" \
    --use-service-account-credentials=true \
    --enable-hostpath-provisioner --pv-recycler-pod-template-filepath-hostpath "" \
    --cluster-signing-cert-file "$pki/ca.crt" --cluster-signing-key-file "$pki/ca.key"
  start kube-scheduler "$bin/kube-scheduler" \
    --kubeconfig "$data/scheduler.kubeconfig" \
    --authentication-kubeconfig "$data/scheduler.kubeconfig" \
    --authorization-kubeconfig "$data/scheduler.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port 0 --leader-elect=false
  start kwok "$bin/kwok" --kubeconfig "$data/kwok.kubeconfig" \
    --config "$here/cluster/stages.yaml" \
    --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
    --cidr 10.244.0.0/16 --node-ip 127.0.0.1 \
    --server-address "127.0.0.1:$kwok_port" \
    --tls-cert-file "$pki/kwok.crt" --tls-private-key-file "$pki/kwok.key"

  write_kubeconfig "$kubeconfig" admin
  local kubectl=("$bin/kubectl" --kubeconfig "$kubeconfig")
  wait_for "the default namespace" 30 "${kubectl[@]}" get namespace default
  "${kubectl[@]}" apply -f "$here/cluster/objects.yaml" >/dev/null
  "${kubectl[@]}" wait --for=condition=Ready node --all --timeout=60s >/dev/null ||
    die "nodes did not become Ready (logs: $data/kwok.log)"
  "${kubectl[@]}" wait --for=create serviceaccount/default -n default --timeout=60s >/dev/null ||
    die "the default ServiceAccount was not created (logs: $data/kube-controller-manager.log)"
  say "up in $((SECONDS - started))s: $("${kubectl[@]}" get nodes --no-headers | wc -l) nodes Ready; kubeconfig: $kubeconfig"
}

down() {
  local pids=() name pid
  for name in "${components[@]}"; do
    if pid=$(pid_of "$name") && [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
    fi
  done
  local deadline=$((SECONDS + 15))
  for pid in "${pids[@]}"; do
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  done
  for port in "$etcd_port" "$etcd_peer_port" "$api_port" "$kwok_port"; do
    wait_for "port $port to be free" 10 bash -c "! ss -Hltn 'sport = :$port' | grep -q ."
  done
  rm -rf "$data" "$kubeconfig"
  say "down: stopped ${#pids[@]} processes, ports free, data removed"
}

status() {
  local ok=true name
  for name in "${components[@]}"; do
    if running "$name"; then
      printf '%-24s running (pid %s)\n' "$name" "$(pid_of "$name")"
    else
      printf '%-24s not running\n' "$name"
      ok=false
    fi
  done
  if $ok && [[ -f "$kubeconfig" ]]; then
    local kubectl=("$(tools_dir)/kubectl" --kubeconfig "$kubeconfig")
    printf '%-24s %s\n' "api /readyz" "$("${kubectl[@]}" get --raw /readyz 2>&1 | head -1)"
    printf '%-24s %s Ready\n' "nodes" "$("${kubectl[@]}" get nodes --no-headers 2>/dev/null | grep -c ' Ready' || true)"
    "${kubectl[@]}" get --raw /readyz >/dev/null 2>&1 || ok=false
  fi
  $ok
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: tools/cluster.sh up|down|status" >&2; exit 2 ;;
esac
