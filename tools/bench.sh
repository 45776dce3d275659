#!/usr/bin/env bash
# `npm run bench`: the toolchain's environment, the local cluster and the platform stack the
# previews read (created from Pulumi.dev.yaml when missing), then bench/run.ts.
# Settings: BENCH_REPS, BENCH_N, BENCH_PR_BASE, CATALYST_CONCURRENCY (see bench/run.ts).
# `--profile` (npm run bench:profile) runs bench/profile.ts instead: one preview's timeline.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
cd "$repo"
eval "$(bash "$here/env.sh")"

if [[ "$KUBECONFIG" == "$repo/.catalyst/kubeconfig" ]]; then
  bash "$here/cluster.sh" up >&2
fi
if [[ "$PULUMI_BACKEND_URL" == file://* ]]; then
  mkdir -p "${PULUMI_BACKEND_URL#file://}"
fi
platform=${CATALYST_PLATFORM_STACK:-dev}
if ! pulumi stack select "$platform" >/dev/null 2>&1; then
  pulumi stack init "$platform" >&2
fi
# An up with nothing to change takes seconds; it makes sure the platform's outputs exist.
pulumi up --yes --skip-preview --stack "$platform" --non-interactive --suppress-outputs >&2

script=bench/run.ts
if [[ "${1:-}" == "--profile" ]]; then
  script=bench/profile.ts
fi
exec node -r ts-node/register/transpile-only "$script"
