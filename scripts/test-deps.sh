#!/usr/bin/env bash
# Test-only services the API suite starts itself: aiosmtpd (PyPI), the real SMTP server
# the flow email tests send through (tests/api/effects.rs). Installs only what is missing.
set -euo pipefail

if ! python3 -c "import aiosmtpd" >/dev/null 2>&1; then
  echo "test-deps: installing aiosmtpd from PyPI" >&2
  python3 -m pip install --quiet --disable-pip-version-check aiosmtpd==1.4.6 >&2 \
    || python3 -m pip install --quiet --user --disable-pip-version-check aiosmtpd==1.4.6 >&2
fi
