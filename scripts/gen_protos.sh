#!/usr/bin/env bash
# Regenerate the Python code of every .proto under protos/ (the only way it is made).
# Usage: scripts/gen_protos.sh [OUTPUT_ROOT]   (default: the repository root, in place)
# tests/protos/test_generated.py runs this into a temporary directory and fails on any
# difference from the checked-in files, so CI catches a .proto edited without regenerating.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$repo}"
python="${PYTHON:-$repo/.venv/bin/python}"
mkdir -p "$out/protos"
cd "$repo"
"$python" -m grpc_tools.protoc -I . \
  --python_out="$out" --pyi_out="$out" --grpc_python_out="$out" \
  protos/*.proto
