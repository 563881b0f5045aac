#!/usr/bin/env bash
# Gas benchmark: starts two anvil chains (ids 1 and 56, like Ethereum and BNB Smart Chain),
# broadcasts the GasBench script, and reports each transaction's gasUsed against DESIGN.md §9.
# Output: a table on stdout and contracts/bench/gas.json.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/install.sh"
source "$root/scripts/env.sh"
cd "$root/contracts"

work=$(mktemp -d)
cleanup() { kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
home_port=$(free_port); remote_port=$(free_port)
anvil --port "$home_port" --chain-id 1 --silent --gas-limit 300000000 &
anvil --port "$remote_port" --chain-id 56 --silent --gas-limit 300000000 &
for port in "$home_port" "$remote_port"; do
  for _ in $(seq 50); do cast chain-id --rpc-url "http://127.0.0.1:$port" >/dev/null 2>&1 && break; sleep 0.1; done
done

# anvil's funded development accounts 0 and 1 (its public test mnemonic).
mnemonic="test test test test test test test test test test test junk"
DEPLOYER_KEY=$(cast wallet private-key --mnemonic "$mnemonic" --mnemonic-index 0)
HOLDER_KEY=$(cast wallet private-key --mnemonic "$mnemonic" --mnemonic-index 1)
export DEPLOYER_KEY HOLDER_KEY
export HOME_RPC="http://127.0.0.1:$home_port" REMOTE_RPC="http://127.0.0.1:$remote_port"
rm -rf broadcast/multi/GasBench.s.sol-latest
forge script script/GasBench.s.sol:GasBench --offline --broadcast --slow >"$work/forge.log" 2>&1 \
  || { cat "$work/forge.log"; exit 1; }
python3 "$root/scripts/gas_report.py" broadcast/multi/GasBench.s.sol-latest/run.json bench/gas-plan.json bench/gas.json
