#!/usr/bin/env bash
# Set up everything and run the whole test suite, exactly as CI does (.ci/run calls this).
# Starts a real PostgreSQL server on loopback so the store tests run on both backends.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export FLWR_TELEMETRY_ENABLED=0 FLWR_DISABLE_UPDATE_CHECK=1 CODECARBON_LOG_LEVEL=error
bash scripts/ensure-chromium.sh  # the portal's browser test drives Debian's chromium
eval "$(bash scripts/start-postgres.sh)"
trap 'eval "$GCDT_TEST_POSTGRES_STOP" >/dev/null 2>&1 || true' EXIT
echo "== lint: ruff, import-linter (layers), mypy"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/lint-imports
.venv/bin/mypy
echo "== tests"
.venv/bin/python -m pytest "$@"
