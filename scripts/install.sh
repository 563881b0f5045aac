#!/usr/bin/env bash
# Installs the pinned toolchain from the npm registry (Foundry, solc-js, OpenZeppelin, forge-std).
# Idempotent: does nothing when node_modules already matches package-lock.json.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

for tool in node npm python3; do
  command -v "$tool" >/dev/null || { echo "install: '$tool' is required (Debian: apt-get install nodejs npm python3)" >&2; exit 1; }
done

stamp=node_modules/.zerobridge-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "install: npm install (versions pinned in package.json and package-lock.json)"
  npm install --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi
chmod +x tools/solc
