#!/usr/bin/env bash
# The fast lane for local work: no set-up, no lint, no slow tests (multi-process
# federations, the browser, the demo). PostgreSQL still starts, so the backend tests run
# instead of skipping. CI and the README's test command (scripts/test.sh) run everything.
# Usage: bash scripts/test-fast.sh [pytest arguments, e.g. tests/trust_node -x]
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || bash scripts/setup.sh
export FLWR_TELEMETRY_ENABLED=0 FLWR_DISABLE_UPDATE_CHECK=1 CODECARBON_LOG_LEVEL=error
eval "$(bash scripts/start-postgres.sh)"
trap 'eval "$GCDT_TEST_POSTGRES_STOP" >/dev/null 2>&1 || true' EXIT
.venv/bin/python -m pytest -m "not slow" "$@"
