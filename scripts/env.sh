# Sourced by the project scripts: puts the real Foundry binaries (not npm's Node wrappers,
# which can leave anvil running when killed) on PATH.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
for tool in forge anvil cast; do
  PATH="$root/node_modules/@foundry-rs/$tool-linux-amd64/bin:$PATH"
done
export PATH
