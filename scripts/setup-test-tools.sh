#!/usr/bin/env bash
# Installs what the tests need beyond cargo, pinned: pyarrow for the conformance compare.py.
# Idempotent and quiet when everything is already there.
set -euo pipefail
PYARROW_VERSION=26.0.1

if ! command -v python3 >/dev/null 2>&1; then
  echo "setup: python3 is required (the conformance comparison is a Python script)" >&2
  exit 1
fi
if ! python3 -c "import pyarrow, sys; sys.exit(0 if pyarrow.__version__ == '$PYARROW_VERSION' else 1)" 2>/dev/null; then
  echo "setup: installing pyarrow==$PYARROW_VERSION"
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
    "pyarrow==$PYARROW_VERSION"
fi
