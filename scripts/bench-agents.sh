#!/usr/bin/env bash
# Agent benchmark: latency, throughput and memory of the validator and relayer on a local devnet
# (two anvil chains, 4 validators, 1 relayer), against DESIGN.md section 9. Prints a table and
# writes bench/agents.json. Extra flags go to the benchmark: --rate N --seconds N --latency-samples N
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/install.sh"
source "$root/scripts/env.sh"
(cd "$root/contracts" && forge build --offline >/dev/null)
cd "$root"
# Debug build by default (shared with the tests, so no extra compile; numbers are conservative).
# BENCH_PROFILE=release measures optimised agents.
profile="${BENCH_PROFILE:-debug}"
flag=(); [ "$profile" = release ] && flag=(--release)
cargo build --locked "${flag[@]}" --bin zerobridge --bin bench-agents
ZB_E2E_ZEROBRIDGE="$root/target/$profile/zerobridge" "$root/target/$profile/bench-agents" "$@"
