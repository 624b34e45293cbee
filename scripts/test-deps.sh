#!/usr/bin/env bash
# Test-only tools the API suite uses: aiosmtpd (PyPI), the real SMTP server the flow
# email tests send through (tests/api/effects.rs), and openapi-spec-validator (PyPI), the
# independent check of the OpenAPI documents (tests/api/packages.rs). Installs only what
# is missing.
set -euo pipefail

if ! python3 -c "import aiosmtpd" >/dev/null 2>&1; then
  echo "test-deps: installing aiosmtpd from PyPI" >&2
  python3 -m pip install --quiet --disable-pip-version-check aiosmtpd==1.4.6 >&2 \
    || python3 -m pip install --quiet --user --disable-pip-version-check aiosmtpd==1.4.6 >&2
fi

if ! python3 -c "import openapi_spec_validator" >/dev/null 2>&1; then
  echo "test-deps: installing openapi-spec-validator from PyPI" >&2
  python3 -m pip install --quiet --disable-pip-version-check openapi-spec-validator==0.9.0 >&2 \
    || python3 -m pip install --quiet --user --disable-pip-version-check openapi-spec-validator==0.9.0 >&2
fi
