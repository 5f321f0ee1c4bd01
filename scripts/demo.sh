#!/usr/bin/env bash
# Set up everything and run the main job: the local trust (gcdt-demo). Extra arguments
# go to gcdt-demo (see: .venv/bin/gcdt-demo --help).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export FLWR_TELEMETRY_ENABLED=0 FLWR_DISABLE_UPDATE_CHECK=1 CODECARBON_LOG_LEVEL=error
exec .venv/bin/gcdt-demo "$@"
