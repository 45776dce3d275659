#!/usr/bin/env bash
# Debian's chromium for the dashboard's browser tests (test/integration/dashboard.test.ts):
#   tools/chromium.sh   install it with apt-get when /usr/bin/chromium is missing, print its path
# Never a browser download: playwright-core drives this binary (executablePath), the same way
# tools/postgres.sh brings PostgreSQL from Debian's archive.
set -euo pipefail

bin=${CATALYST_CHROMIUM:-/usr/bin/chromium}

if [[ ! -x "$bin" ]]; then
  printf 'chromium: installing chromium with apt-get\n' >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi
printf '%s\n' "$bin"
