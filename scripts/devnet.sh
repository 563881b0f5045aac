#!/usr/bin/env bash
# The local devnet in one command: installs what it needs (pinned npm toolchain, contracts,
# the zerobridge binary; each step does nothing when already up to date), then runs
# `zerobridge devnet up` from the repository root.
#
#   scripts/devnet.sh [up] [flags]   start it (flags go to `zerobridge devnet up`, e.g. --port-base)
#   scripts/devnet.sh status         show chains, agents and the demo route (non-zero if degraded)
#   scripts/devnet.sh down           stop it (logs stay in devnet/logs)
#
# Ports: ethereum (chain id 1) 8545, bsc (chain id 56) 8546, validators 7101-7104, relayer 7200,
# fallback validators 7111-7112, watchtower 7300.
# Everything it writes is under ./devnet (docs/devnet.md).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bin="${CARGO_TARGET_DIR:-$root/target}/debug/zerobridge"

command="up"
case "${1:-}" in
  up) shift ;;
  down|status)
    command="$1"
    shift
    # Nothing to install to stop or inspect a devnet; build the binary only if it is missing.
    if [ ! -x "$bin" ]; then
      cargo build --locked --bin zerobridge
    fi
    exec "$bin" devnet "$command" "$@"
    ;;
  -h|--help|help)
    sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
esac

echo "devnet: installing prerequisites (skipped when up to date)"
"$root/scripts/install.sh"
# shellcheck source=env.sh
source "$root/scripts/env.sh"
(cd "$root/contracts" && forge build --offline)
cargo build --locked --bin zerobridge
exec "$bin" devnet up "$@"
