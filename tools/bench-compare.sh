#!/usr/bin/env bash
# `npm run bench:compare -- <commit> [<after commit>]`: before/after from one run. Checks <commit>
# and <after commit> (default HEAD: uncommitted changes are not measured) out into temp dirs
# (detached `git worktree`s sharing this checkout's node_modules, so that both start with the
# same cold transpile and compile caches) and measures both
# back to back against the same cluster, state backend, PULUMI_HOME and plugins, so that the load
# of the machine is as alike as it gets: `bench:profile` of before, then of after; then (unless
# BENCH_COMPARE_PROFILE_ONLY=1) `BENCH_ONLY=direct` bench of before, then of after (BENCH_REPS,
# BENCH_N as for `npm run bench`). bench/compare.ts then prints the table with each figure's
# after / before and writes it to results/compare-<time>.md.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/lib.sh"
base=${1:?usage: npm run bench:compare -- <commit to compare with> [<after commit>]}
head=${2:-HEAD}
git diff --quiet HEAD || echo "bench:compare: uncommitted changes are not measured (after = $head)" >&2
for commit in "$base" "$head"; do
  git rev-parse --verify --quiet "$commit^{commit}" >/dev/null || { echo "bench:compare: $commit is not a commit" >&2; exit 2; }
done
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
  git -C "$repo" worktree remove --force "$tmp/after" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
checkout() {
  git -C "$repo" worktree add --detach "$tmp/$1" "$2" >&2
  ln -s "$repo/node_modules" "$tmp/$1/node_modules"
}
checkout before "$base"
checkout after "$head"
after_dir=$tmp/after

newest() { ls -t "$1"/results/"$2"-*.json 2>/dev/null | grep -v controller | head -1; }
# The starting commit may predate Node's compile cache: it must not inherit this one's.
measure() {
  local dir=$1
  shift
  (cd "$dir" && env -u NODE_COMPILE_CACHE "$@")
}

measure "$tmp/before" bash tools/bench.sh --profile >&2
before_profile=$(newest "$tmp/before" profile)
measure "$after_dir" bash tools/bench.sh --profile >&2
after_profile=$(newest "$after_dir" profile)
before_bench="" after_bench=""
if [[ "${BENCH_COMPARE_PROFILE_ONLY:-0}" != 1 ]]; then
  measure "$tmp/before" env BENCH_ONLY=direct bash tools/bench.sh >&2
  before_bench=$(newest "$tmp/before" bench)
  measure "$after_dir" env BENCH_ONLY=direct bash tools/bench.sh >&2
  after_bench=$(newest "$after_dir" bench)
fi
# The temp checkouts go away: their results are kept in results/before/ and results/after/.
keep() {
  local side=$1 file
  shift
  mkdir -p "$repo/results/$side"
  for file in "$@"; do
    [[ -n "$file" && "$file" != "$repo"/results/* ]] && cp "$file" "${file%.json}".{md,png} "$repo/results/$side/" 2>/dev/null || true
  done
}
keep before "$before_profile" "$before_bench"
keep after "$after_profile" "$after_bench"
moved() { [[ -z "$2" || "$2" == "$repo"/results/* ]] && echo "$2" || echo "$repo/results/$1/$(basename "$2")"; }
before_profile=$(moved before "$before_profile") before_bench=$(moved before "$before_bench")
after_profile=$(moved after "$after_profile") after_bench=$(moved after "$after_bench")
stamp=$(date -u +%Y-%m-%dT%H-%M-%SZ)
after_label=$(git rev-parse --short "$head")
node --require ./tools/register.js bench/compare.ts "$repo/results/compare-$stamp.md" \
  "Before ($(git rev-parse --short "$base")) and after ($after_label), one run, $stamp" \
  "$before_profile" "$after_profile" $before_bench $after_bench
