#!/usr/bin/env bash
# Build the designer front end (designer-web/dist). Runs `npm ci` first when
# node_modules is missing or package-lock.json is newer than the installed tree.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../designer-web"

if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "web-build: installing dependencies (npm ci)" >&2
  npm ci
fi

npm run build
