#!/usr/bin/env bash
# Create .venv with Python 3.11 and install the project through constraints.txt.
# Idempotent: reruns only reinstall when pyproject.toml or constraints.txt changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
"$PY" -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required"' 
[ -x .venv/bin/python ] || "$PY" -m venv .venv
stamp=.venv/.gcdt-installed
want=$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing the project into .venv (first run takes a few minutes)" >&2
  .venv/bin/python -m pip install -q --upgrade pip >&2
  .venv/bin/python -m pip install -q -c constraints.txt -e '.[dev]' >&2
  echo "$want" > "$stamp"
fi
