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

# The web app (web/): its own pinned npm packages, then `npm run build` into web/dist, both
# skipped when the lock file or the sources are unchanged since the last build (hash stamps).
web_lock_stamp=web/node_modules/.zerobridge-lock.sha256
web_lock=$(sha256sum web/package-lock.json | cut -d' ' -f1)
if [ ! -f "$web_lock_stamp" ] || [ "$(cat "$web_lock_stamp")" != "$web_lock" ]; then
  echo "install: npm install in web/ (versions pinned in web/package.json and web/package-lock.json)"
  (cd web && npm install --no-audit --no-fund --loglevel=error)
  echo "$web_lock" > "$web_lock_stamp"
fi
web_build_stamp=web/dist/.zerobridge-sources.sha256
web_sources=$(cd web && find index.html src vite.config.ts tsconfig.json package-lock.json -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
if [ ! -f "$web_build_stamp" ] || [ "$(cat "$web_build_stamp")" != "$web_sources" ]; then
  echo "install: building the web app into web/dist"
  (cd web && npm run build --silent)
  echo "$web_sources" > "$web_build_stamp"
fi
