/**
 * The script the seed Job runs (components/environment/seed.ts mounts it from a ConfigMap), and
 * the one the integration test runs against a real PostgreSQL: one text, so what is tested is
 * what runs. It needs bash, psql and pg_dump (the CloudNativePG Postgres images have them).
 *
 * Environment:
 *   SEED_MODE            file | copy
 *   TARGET_HOST, TARGET_PORT (5432), TARGET_DB, TARGET_USER, TARGET_PASSWORD
 *   SEED_FILE            file mode: the SQL file, run in one transaction
 *   SOURCE_HOST, SOURCE_PORT (5432), SOURCE_DB, SOURCE_USER, SOURCE_PASSWORD   copy mode
 *   MASK_FILE            copy mode, optional: SQL run after the copy, in the same transaction
 *   PRODUCTION_HOSTS     space-separated hosts a copy must not read unless ALLOW_PRODUCTION=true
 *   SEED_SSLMODE         libpq sslmode (default require); SEED_WAIT_SECONDS (default 300)
 *
 * Why the copy is `pg_dump` (plain SQL) piped into one psql transaction, rather than
 * `pg_dump -Fc | pg_restore`: the masking statements run in the same transaction as the copied
 * rows, so the target never holds unmasked rows, not even for a moment, and a copy that fails
 * half-way (the dump dies, a statement fails, the mask fails) commits nothing. A pipe into
 * pg_restore commits what it restored before the failure. The explicit BEGIN/COMMIT (not psql's
 * --single-transaction) matters: when pg_dump dies, COMMIT is never sent and psql's end of
 * input rolls the transaction back.
 *
 * A target that already has tables is left alone (exit 0): the Job can run again (a replaced
 * Job, a retry after the commit) without copying twice. Passwords reach libpq through
 * PGPASSWORD in the environment of one command; they are never arguments or output.
 */
export const SEED_SCRIPT = `#!/bin/bash
# catalyst database seed: an SQL file, or a masked copy of another environment's database.
set -euo pipefail
say() { printf 'catalyst seed: %s\\n' "$*" >&2; }
need() { if [[ -z "\${!1:-}" ]]; then say "$1 is not set"; exit 2; fi; }
for name in SEED_MODE TARGET_HOST TARGET_DB TARGET_USER TARGET_PASSWORD; do need "$name"; done
export PGSSLMODE="\${SEED_SSLMODE:-require}" PGCONNECT_TIMEOUT=10
target() { local tool=$1; shift; env PGPASSWORD="$TARGET_PASSWORD" "$tool" -X -h "$TARGET_HOST" -p "\${TARGET_PORT:-5432}" -U "$TARGET_USER" -d "$TARGET_DB" "$@"; }

# The database is created by the operator; wait until it accepts this role.
deadline=$(( SECONDS + \${SEED_WAIT_SECONDS:-300} ))
until target psql -qAt -c 'select 1' >/dev/null 2>&1; do
  if (( SECONDS >= deadline )); then say "the target database $TARGET_DB on $TARGET_HOST did not accept connections in time"; target psql -qAt -c 'select 1'; exit 1; fi
  sleep 2
done

tables=$(target psql -qAt -v ON_ERROR_STOP=1 -c "select count(*) from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace where c.relkind in ('r', 'p') and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg_toast%'")
if (( tables > 0 )); then say "$TARGET_DB already has $tables table(s): seeded before, nothing to do"; exit 0; fi

case "$SEED_MODE" in
  file)
    need SEED_FILE
    target psql -q -v ON_ERROR_STOP=1 --single-transaction -f "$SEED_FILE" >/dev/null
    say "seeded $TARGET_DB from $(basename "$SEED_FILE")"
    ;;
  copy)
    for name in SOURCE_HOST SOURCE_DB SOURCE_USER SOURCE_PASSWORD; do need "$name"; done
    for host in \${PRODUCTION_HOSTS:-}; do
      if [[ "\${SOURCE_HOST,,}" == "\${host,,}" && "\${ALLOW_PRODUCTION:-false}" != true ]]; then
        say "refused: $SOURCE_HOST is a production database and this environment does not allow copies from production (catalyst:database.seed.allowProduction)"
        exit 3
      fi
    done
    {
      echo 'BEGIN;'
      env PGPASSWORD="$SOURCE_PASSWORD" pg_dump -h "$SOURCE_HOST" -p "\${SOURCE_PORT:-5432}" -U "$SOURCE_USER" -d "$SOURCE_DB" \\
        --format=plain --no-owner --no-privileges --no-publications --no-subscriptions || exit 1
      # The dump empties search_path for its own statements; the masking script gets the defaults back.
      echo 'RESET ALL;'
      if [[ -n "\${MASK_FILE:-}" ]]; then cat "$MASK_FILE"; echo; fi
      echo 'COMMIT;'
    } | target psql -q -v ON_ERROR_STOP=1 -f - >/dev/null
    say "copied $SOURCE_DB from $SOURCE_HOST into $TARGET_DB\${MASK_FILE:+, masked with $(basename "\${MASK_FILE:-}")}"
    ;;
  *) say "SEED_MODE must be file or copy, got $SEED_MODE"; exit 2 ;;
esac
`;
