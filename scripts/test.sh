#!/usr/bin/env bash
# Installs everything the tests need (system packages, pcscd, a virtual environment) and
# runs the whole test suite, PC/SC integration tests included. Extra arguments go to pytest.
source "$(dirname "$0")/lib.sh"
APT_PACKAGES+=(chromium haproxy)  # headless Chromium for the SDK page test; HAProxy for the load-balancer test
setup_all
cd "$ROOT"
export DOCVAL_REQUIRE_PCSC="${DOCVAL_REQUIRE_PCSC:-1}"
say "type checks (mypy --strict)"
"$VENV/bin/python" -m mypy  # files = emrtd, docval_server, docval_client, tests, benchmarks (setup.cfg)
say "running the tests"
exec "$VENV/bin/python" -m pytest "$@"
