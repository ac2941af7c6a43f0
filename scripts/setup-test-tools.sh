#!/usr/bin/env bash
# Installs what the tests and CI need beyond cargo, pinned:
#   pyarrow       the conformance compare.py
#   moto[server]  the S3-compatible server the S3 and Lambda tests start on 127.0.0.1
#                 (5.2.1 supports If-None-Match create-only PutObject, multipart uploads and
#                 Object Lock retention)
#   cfn-lint      the linter CI runs on infra/template.yaml
# Idempotent and quiet when everything is already there.
set -euo pipefail
PYARROW_VERSION=26.0.1
MOTO_VERSION=5.2.1
CFN_LINT_VERSION=1.51.0

if ! command -v python3 >/dev/null 2>&1; then
  echo "setup: python3 is required (compare.py, the moto S3 server, cfn-lint)" >&2
  exit 1
fi

# has DIST VERSION: the installed distribution DIST is exactly VERSION.
has() {
  python3 -c "import importlib.metadata as m, sys; sys.exit(0 if m.version('$1') == '$2' else 1)" \
    2>/dev/null
}

pip_install() {
  echo "setup: installing $*"
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore "$@"
}

has pyarrow "$PYARROW_VERSION" || pip_install "pyarrow==$PYARROW_VERSION"
# moto's server extra brings flask, flask-cors and the other server dependencies.
if ! has moto "$MOTO_VERSION" || ! python3 -c "import flask, flask_cors" 2>/dev/null \
  || ! command -v moto_server >/dev/null 2>&1; then
  pip_install "moto[server]==$MOTO_VERSION"
fi
has cfn-lint "$CFN_LINT_VERSION" || pip_install "cfn-lint==$CFN_LINT_VERSION"

for tool in moto_server cfn-lint; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "setup: $tool is not on PATH after installing it (pip's script folder: $(python3 -m site --user-base)/bin)" >&2
    exit 1
  fi
done
