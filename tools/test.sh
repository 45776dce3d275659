#!/usr/bin/env bash
# `npm test`: everything a fresh clone needs, then every check. Typecheck, lint, workflow lint,
# unit tests (mocks), then integration tests against a local cluster this script starts and stops.
#
#   npm test                                   everything (what CI runs)
#   npm test -- test/integration/api.test.ts   only the named test files (unit or integration), with
#                                              the same toolchain, state and cluster; no typecheck or lint
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

load_environment
use_shared_chart_mirror
# Tests use their own state and cluster, never the user's stacks or real cluster.
export PULUMI_BACKEND_URL="file://$repo/.catalyst/test-state"
export KUBECONFIG="$repo/.catalyst/kubeconfig"
# Each run starts from empty test state: stacks of an earlier, interrupted run would point at
# objects of a cluster that no longer exists. A run of named files on a cluster that is still up
# (CATALYST_KEEP_CLUSTER=1 last time) keeps the state that goes with it.
if [[ $# -eq 0 ]] || ! bash tools/cluster.sh status >/dev/null 2>&1; then
  rm -rf "$repo/.catalyst/test-state"
fi
rm -rf "$repo/.catalyst/test-results"
mkdir -p "$repo/.catalyst/test-state"
ensure_node_modules
# The dashboard's bundle (dist/dashboard, gitignored), fresh for `catalyst serve` in the tests.
step "dashboard bundle"
npm run --silent build:dashboard

# Named files: the same setup, then jest on just those files (a local cluster only when an
# integration file is named), so one file can be run exactly as `npm test` runs it.
if [[ $# -gt 0 ]]; then
  unit=() integration=()
  for file in "$@"; do
    case "$file" in
      *test/integration/*) integration+=("$file") ;;
      *test/unit/*) unit+=("$file") ;;
      *) echo "tools/test.sh: $file is neither under test/unit/ nor test/integration/" >&2; exit 2 ;;
    esac
  done
  status=0
  if [[ ${#unit[@]} -gt 0 ]]; then
    step "unit tests: ${unit[*]}"
    # The files first: --selectProjects takes every word after it as a project name.
    npx jest "${unit[@]}" --selectProjects unit || status=1
  fi
  if [[ ${#integration[@]} -gt 0 ]]; then
    step "local cluster"
    started_cluster=false
    if ! bash tools/cluster.sh status >/dev/null 2>&1; then
      bash tools/cluster.sh up
      started_cluster=true
    fi
    # CATALYST_KEEP_CLUSTER=1 leaves a cluster this run started running for the next run.
    trap '[[ "${CATALYST_KEEP_CLUSTER:-}" == 1 ]] || ! $started_cluster || bash tools/cluster.sh down' EXIT
    # The browser tests drive Debian's chromium (apt-get when missing; never a browser download).
    bash tools/chromium.sh >/dev/null
    step "integration tests: ${integration[*]}"
    npx jest --selectProjects integration --runInBand "${integration[@]}" || status=1
  fi
  exit $status
fi

step "typecheck"
npx tsc --noEmit -p tsconfig.json
npx tsc --noEmit -p stacks/dashboard/web/tsconfig.json
step "lint"
npx eslint .
if compgen -G ".github/workflows/*.yml" >/dev/null; then
  step "actionlint"
  actionlint .github/workflows/*.yml
fi
# The images' Dockerfiles (images/*/Dockerfile): dockerfile-utils plus the project's rules.
step "dockerfile lint"
npm run --silent lint:dockerfiles

results="$repo/.catalyst/test-results"
# A test that leaves a server or timer open makes jest print "did not exit one second after the
# test run" and then wait forever; --forceExit keeps that warning but ends the run, so a leak
# cannot hang CI past its time.
mkdir -p "$results"
status=0
step "unit tests"
npx jest --selectProjects unit --forceExit --json --outputFile "$results/unit.json" || status=1

step "local cluster"
started_cluster=false
if ! bash tools/cluster.sh status >/dev/null 2>&1; then
  bash tools/cluster.sh up
  started_cluster=true
fi
stop_cluster() { if $started_cluster; then bash tools/cluster.sh down; fi; }
trap stop_cluster EXIT
# The browser tests drive Debian's chromium (apt-get when missing; never a browser download).
bash tools/chromium.sh >/dev/null

step "integration tests (real engine, local cluster)"
npx jest --selectProjects integration --runInBand --forceExit --json --outputFile "$results/integration.json" || status=1

# Closing lines that any CI can read: the five slowest test files (from jest's per-file results)
# and the totals across both jest runs. The JSON files stay in .catalyst/test-results/.
node -e '
  const files = process.argv.slice(1).filter((f) => require("fs").existsSync(f));
  let passed = 0, failed = 0;
  const times = [];
  for (const f of files) {
    const r = require(f);
    passed += r.numPassedTests;
    failed += r.numFailedTests + r.numRuntimeErrorTestSuites;
    for (const t of r.testResults) times.push([(t.endTime - t.startTime) / 1000, require("path").relative(process.cwd(), t.name)]);
  }
  times.sort((a, b) => b[0] - a[0]);
  console.log("\nslowest test files:");
  for (const [seconds, file] of times.slice(0, 5)) console.log(`  ${seconds.toFixed(1).padStart(7)} s  ${file}`);
  // The first lines of each failure (no colours, code frames or stack), so that the tail of a
  // CI log says what broke even when the log is cut.
  const plain = (text) => text.replace(/\u001b\[[0-9;]*m/g, "");
  const gist = (message) => plain(message).split("\n").map((l) => l.trimEnd())
    .filter((l) => l.trim() !== "" && !/^\s*(>?\s*[0-9]+ \||\|)/.test(l) && !/^\s+at /.test(l)).slice(0, 8);
  const failures = [];
  for (const f of files) {
    for (const t of require(f).testResults) {
      const file = require("path").relative(process.cwd(), t.name);
      if (t.status === "failed" && t.assertionResults.every((a) => a.status !== "failed")) failures.push([file, gist(t.message)]);
      for (const a of t.assertionResults.filter((a) => a.status === "failed")) failures.push([`${file} › ${a.fullName}`, gist(a.failureMessages.join("\n"))]);
    }
  }
  if (failures.length > 0) console.log("\nfailed:");
  for (const [name, lines] of failures) console.log(`  ${name}\n${lines.map((l) => `      ${l}`).join("\n")}`);
  console.log(`\ntests: ${passed} passed, ${failed} failed`);
' "$results/unit.json" "$results/integration.json"
exit $status
