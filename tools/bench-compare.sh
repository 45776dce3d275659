#!/usr/bin/env bash
# `npm run bench:compare -- <commit>`: before/after from one run. Checks <commit> out into a
# temp dir (a detached `git worktree`, sharing this checkout's node_modules) and measures both
# back to back against the same cluster, state backend, PULUMI_HOME and plugins, so that the load
# of the machine is as alike as it gets: `bench:profile` of before, then of after; then (unless
# BENCH_COMPARE_PROFILE_ONLY=1) `BENCH_ONLY=direct` bench of before, then of after (BENCH_REPS,
# BENCH_N as for `npm run bench`). bench/compare.ts then prints the table with each figure's
# after / before and writes it to results/compare-<time>.md.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/lib.sh"
base=${1:?usage: npm run bench:compare -- <commit to compare with>}
git rev-parse --verify --quiet "$base^{commit}" >/dev/null || { echo "bench:compare: $base is not a commit" >&2; exit 2; }
eval "$(bash "$here/env.sh")"
use_shared_chart_mirror
# Both checkouts use this checkout's cluster, backend and plugins (env.sh keeps values already set).
export KUBECONFIG PULUMI_BACKEND_URL PULUMI_HOME
if [[ "$KUBECONFIG" == "$repo/.catalyst/kubeconfig" ]]; then
  bash "$here/cluster.sh" up >&2
fi

tmp=$(mktemp -d)
cleanup() {
  git -C "$repo" worktree remove --force "$tmp/before" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
git -C "$repo" worktree add --detach "$tmp/before" "$base" >&2
ln -s "$repo/node_modules" "$tmp/before/node_modules"

newest() { ls -t "$1"/results/"$2"-*.json 2>/dev/null | grep -v controller | head -1; }
# The starting commit may predate Node's compile cache: it must not inherit this one's.
measure() {
  local dir=$1
  shift
  (cd "$dir" && env -u NODE_COMPILE_CACHE "$@")
}

measure "$tmp/before" bash tools/bench.sh --profile >&2
before_profile=$(newest "$tmp/before" profile)
measure "$repo" bash tools/bench.sh --profile >&2
after_profile=$(newest "$repo" profile)
before_bench="" after_bench=""
if [[ "${BENCH_COMPARE_PROFILE_ONLY:-0}" != 1 ]]; then
  measure "$tmp/before" env BENCH_ONLY=direct bash tools/bench.sh >&2
  before_bench=$(newest "$tmp/before" bench)
  measure "$repo" env BENCH_ONLY=direct bash tools/bench.sh >&2
  after_bench=$(newest "$repo" bench)
  mkdir -p "$repo/results/before"
  cp "$before_bench" "${before_bench%.json}.md" "$repo/results/before/"
  before_bench="$repo/results/before/$(basename "$before_bench")"
fi
mkdir -p "$repo/results/before"
cp "$before_profile" "$repo/results/before/"
before_profile="$repo/results/before/$(basename "$before_profile")"
stamp=$(date -u +%Y-%m-%dT%H-%M-%SZ)
node --require ./tools/register.js bench/compare.ts \
  "Before ($(git rev-parse --short "$base")) and after ($(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo ', with uncommitted changes')), one run, $stamp" \
  "$before_profile" "$after_profile" $before_bench $after_bench "$repo/results/compare-$stamp.md"
