#!/usr/bin/env bash
# Make sure Debian's Chromium is installed at /usr/bin/chromium (used by the
# designer-web browser tests via playwright-core with executablePath).
# Does nothing if it is already there. Needs root (apt-get) when it is not.
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [[ -x "$CHROMIUM" ]]; then
  echo "ensure-chromium: $CHROMIUM present" >&2
  exit 0
fi

echo "ensure-chromium: $CHROMIUM missing; installing Debian package 'chromium'" >&2
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y chromium

if [[ ! -x "$CHROMIUM" ]]; then
  echo "ensure-chromium: error: $CHROMIUM still missing after apt-get install chromium" >&2
  exit 1
fi
echo "ensure-chromium: installed $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")" >&2
