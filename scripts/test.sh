#!/usr/bin/env bash
# The test command of the README: the whole suite on the embedded SQLite store, then the API
# suite again on PostgreSQL when OTONIX_TEST_DATABASE_URL names a database to use.
#
#   scripts/test.sh                                   # SQLite only (PostgreSQL suite skipped)
#   OTONIX_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/otonix_test scripts/test.sh
#
# Each test creates its own schema in that database. When the URL is set, an unreachable
# database fails the run; it is never skipped silently.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "==> unit and integration tests on SQLite"
OTONIX_TEST_DATABASE_URL= cargo test --workspace --all-features --locked

if [ -n "${OTONIX_TEST_DATABASE_URL:-}" ]; then
    echo "==> API integration tests on PostgreSQL (${OTONIX_TEST_DATABASE_URL%%@*}@…)"
    cargo test --locked -p otonix --test api
else
    cat <<'MSG'

==> PostgreSQL suite SKIPPED: OTONIX_TEST_DATABASE_URL is not set.
    To run it, point it at a database this user may create schemas in, e.g.
      createdb -h 127.0.0.1 -U postgres otonix_test
      OTONIX_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/otonix_test scripts/test.sh
MSG
fi
