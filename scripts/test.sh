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

# The payment tests run a real local chain (anvil) and the official x402 TypeScript client
# (@x402/fetch, @x402/evm, viem), all from the npm packages pinned in testchain/.
if { [ -z "${OTONIX_ANVIL:-}" ] && [ ! -x testchain/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil ]; } \
    || [ ! -f testchain/node_modules/@x402/fetch/package.json ] \
    || [ ! -f testchain/node_modules/@x402/evm/package.json ] \
    || [ ! -f testchain/node_modules/viem/package.json ]; then
    command -v npm >/dev/null 2>&1 || { echo "npm is needed to install anvil and the x402 client (testchain/package.json)"; exit 1; }
    echo "==> installing anvil and the x402 client (npm ci --prefix testchain)"
    npm ci --prefix testchain --no-audit --no-fund --loglevel=error
fi

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
