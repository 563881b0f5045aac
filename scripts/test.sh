#!/usr/bin/env bash
# Runs every test: builds the contracts offline and runs the forge unit, fuzz and invariant suites,
# the Rust workspace (with a throwaway PostgreSQL server) and the browser tests.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/install.sh"
source "$root/scripts/env.sh"

cd "$root/contracts"
forge build --offline
forge test --offline
# The committed gas snapshot must match the code: fails when a change moves gas unnoticed.
forge snapshot --offline --check --no-match-path 'test/invariant/*'

# Rust workspace (bindings are generated from the artifacts built above).
cd "$root"
# The end-to-end tests (crates/e2e) run the real agents from this binary.
cargo build --locked --bin zerobridge
# Through a throwaway PostgreSQL server (installed from Debian when missing): the API's store and
# e2e suites run on both SQLite and PostgreSQL (ZB_TEST_POSTGRES_URL).
"$root/scripts/postgres-test.sh" cargo test --workspace --locked

# Browser tests of the web app (web/tests/run.mjs): Debian's Chromium, installed only when missing,
# driven by playwright-core against a devnet of this binary; screenshots in test-artifacts/web.
if [ ! -x /usr/bin/chromium ]; then
  echo "test: installing chromium from Debian for the browser tests"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
fi
node web/tests/run.mjs
