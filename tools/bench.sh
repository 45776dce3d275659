#!/usr/bin/env bash
# `npm run bench`: the toolchain's environment, the local cluster and the platform stack the
# previews read (created from Pulumi.dev.yaml when missing), then bench/run.ts.
# Settings: BENCH_REPS, BENCH_N, BENCH_PR_BASE, CATALYST_CONCURRENCY (see bench/run.ts).
# `--profile` (npm run bench:profile) runs bench/profile.ts instead: one preview's timeline.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/lib.sh"
eval "$(bash "$here/env.sh")"
use_shared_chart_mirror

if [[ "$KUBECONFIG" == "$repo/.catalyst/kubeconfig" ]]; then
  bash "$here/cluster.sh" up >&2
fi
if [[ "$PULUMI_BACKEND_URL" == file://* ]]; then
  mkdir -p "${PULUMI_BACKEND_URL#file://}"
fi
# The same code path as `npm run up`: an up with nothing to change takes seconds; it makes sure
# the platform's outputs exist.
node bin/catalyst.js platform up >&2

# The chart's text (bench/chart.ts) is drawn with DejaVu Sans; a machine without fonts gets them.
if [[ ! -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]]; then
  apt-get install -y --no-install-recommends fonts-dejavu-core >&2 || sudo apt-get install -y --no-install-recommends fonts-dejavu-core >&2
fi

script=bench/run.ts
if [[ "${1:-}" == "--profile" ]]; then
  script=bench/profile.ts
fi
exec node --require ./tools/register.js "$script"
